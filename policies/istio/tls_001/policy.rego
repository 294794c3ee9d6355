# METADATA
# title: DestinationRule must not DISABLE TLS to in-mesh hosts
# description: |
#   An explicit client TLS setting overrides auto mTLS, so `tls.mode: DISABLE`
#   on a DestinationRule for an in-mesh host sends plaintext inside the mesh.
#   Checked at the top-level traffic policy, its port-level settings, and the
#   same two places in every subset.
# custom:
#   id: ISTIO-TLS-001
#   version: 1.0.0
#   severity: critical
#   action: deny
#   since: 2026.11.0
#   kinds:
#   - group: networking.istio.io
#     kind: DestinationRule
#     versions: [v1alpha3, v1beta1, v1]
#   remediation: |
#     Delete the `tls` block (auto mTLS then applies) or set `tls.mode: ISTIO_MUTUAL`.
package meshguard.istio.tls_001

import data.meshguard.lib.finding
import data.meshguard.lib.istio
import data.meshguard.lib.kube

# The object is of a kind in this package's METADATA. The engine evaluates a
# package only for those kinds (kube.indexed); under conftest or opa eval,
# where every package sees every object, the METADATA is read.
_applies if kube.indexed

else if kube.applies(rego.metadata.chain())

# Every traffic policy of the rule with its path: top level and subsets.
_policies contains [["spec", "trafficPolicy"], kube.obj.spec.trafficPolicy]

_policies contains [["spec", "subsets", i, "trafficPolicy"], subset.trafficPolicy] if {
	some i, subset in kube.obj.spec.subsets
}

# Every tls block with its path: the policy's own and its port-level ones.
_tls contains [array.concat(p, ["tls"]), policy.tls] if {
	some [p, policy] in _policies
	policy.tls
}

_tls contains [array.concat(p, ["portLevelSettings", i, "tls"]), setting.tls] if {
	some [p, policy] in _policies
	some i, setting in policy.portLevelSettings
	setting.tls
}

deny contains f if {
	_applies
	host := kube.obj.spec.host
	istio.in_mesh_host(host)
	some [p, tls] in _tls
	tls.mode == "DISABLE"
	f := finding.new(
		rego.metadata.chain(),
		sprintf("DestinationRule %s/%s disables TLS to in-mesh host %s, which sends plaintext inside the mesh", [kube.namespace, kube.name, host]),
		array.concat(p, ["mode"]),
	)
}
