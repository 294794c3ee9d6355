# METADATA
# title: DestinationRule must not DISABLE TLS to in-mesh hosts
# description: |
#   An explicit client TLS setting overrides auto mTLS, so `tls.mode: DISABLE`
#   on a DestinationRule for an in-mesh host sends plaintext inside the mesh.
#   Checked at the top-level traffic policy, its port-level settings, and the
#   same two places in every subset. When the host's namespace is STRICT by
#   default (its namespace-wide PeerAuthentication, else the mesh-wide one),
#   the finding names that policy: its servers refuse the plaintext requests.
# custom:
#   id: ISTIO-TLS-001
#   version: 1.1.0
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
# where every package sees every object, the METADATA is read. Truth tests
# are written `== true` or `!= false`: OPA allocates a variable to test a
# bare term.
_applies if kube.indexed == true

else if kube.applies(rego.metadata.chain())

# The client TLS modes that are DISABLE: of the top-level traffic policy and
# its port-level settings, and the same two places in every subset. Each
# place is read in place by its own body (cheaper than a shared set of
# them), the host is looked up only for a match, and _applies, which the
# engine has always decided, is tested last.
deny contains _finding(["spec", "trafficPolicy", "tls", "mode"]) if {
	kube.obj.spec.trafficPolicy.tls.mode == "DISABLE"
	_applies == true
}

deny contains _finding(["spec", "trafficPolicy", "portLevelSettings", i, "tls", "mode"]) if {
	some i, setting in kube.obj.spec.trafficPolicy.portLevelSettings
	setting.tls.mode == "DISABLE"
	_applies == true
}

deny contains _finding(["spec", "subsets", j, "trafficPolicy", "tls", "mode"]) if {
	some j, subset in kube.obj.spec.subsets
	subset.trafficPolicy.tls.mode == "DISABLE"
	_applies == true
}

deny contains _finding(["spec", "subsets", j, "trafficPolicy", "portLevelSettings", i, "tls", "mode"]) if {
	some j, subset in kube.obj.spec.subsets
	some i, setting in subset.trafficPolicy.portLevelSettings
	setting.tls.mode == "DISABLE"
	_applies == true
}

# The finding for a DISABLE mode at path, when the host is in the mesh.
_finding(path) := finding.new(
	rego.metadata.chain(),
	sprintf("DestinationRule %s/%s disables TLS to in-mesh host %s, which sends plaintext inside the mesh%s", [kube.namespace, kube.name, host, _strict_server(host)]),
	path,
) if {
	host := kube.obj.spec.host
	istio.in_mesh_host(host)
}

# Where the other objects say the host's namespace is STRICT, the plaintext
# requests are refused, not merely unprotected: say so, naming the policy.
_strict_server(host) := sprintf("; namespace %s is STRICT by default (%s), so its servers refuse these requests", [ns, decider]) if {
	kube.inventory_known == true
	ns := istio.host_namespace(host)
	[decider, mode] := istio.effective_namespace_mtls(ns)
	mode == "STRICT"
} else := ""
