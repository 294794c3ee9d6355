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

deny contains f if {
	_applies
	host := kube.obj.spec.host
	istio.in_mesh_host(host)
	some [p, tls] in istio.destination_rule_tls
	tls.mode == "DISABLE"
	f := finding.new(
		rego.metadata.chain(),
		sprintf("DestinationRule %s/%s disables TLS to in-mesh host %s, which sends plaintext inside the mesh", [kube.namespace, kube.name, host]),
		array.concat(p, ["mode"]),
	)
}
