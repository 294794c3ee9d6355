# METADATA
# title: A STRICT baseline exists mesh-wide or per namespace
# description: |
#   Istio's out-of-the-box mode is PERMISSIVE, so STRICT mTLS only exists where
#   some object declares it. A Namespace in the mesh (`istio-injection=enabled`,
#   `istio.io/rev`, or `istio.io/dataplane-mode=ambient`) whose effective
#   default mode is not STRICT (its namespace-wide PeerAuthentication, else the
#   mesh-wide one in the root namespace, else Istio's PERMISSIVE) is flagged,
#   naming the object that decided. The verdict depends on which other objects
#   exist, so it is a warning (and an audit finding). Deleting the managed
#   default PeerAuthentication is denied by ISTIO-DEFAULTS-001.
# custom:
#   id: ISTIO-MTLS-003
#   version: 1.0.0
#   severity: critical
#   action: warn
#   since: 2026.12.0
#   kinds:
#   - {group: "", kind: Namespace, versions: [v1]}
#   remediation: |
#     Add a namespace-wide PeerAuthentication with `spec.mtls.mode: STRICT` to
#     the namespace (`meshguard generate` prints it; the webhook's defaults
#     controller creates it), or make the mesh-wide one in the root namespace
#     STRICT.
package meshguard.istio.mtls_003

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

# The most selective test first and _applies, which the engine has always
# decided, last.
warn contains f if {
	istio.obj_in_mesh
	kube.inventory_known == true
	[decider, mode] := istio.effective_namespace_mtls(kube.name)
	mode != "STRICT"
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("Namespace %s is in the mesh but its workloads get mTLS mode %s from %s; add a namespace-wide STRICT PeerAuthentication or make the mesh-wide one STRICT", [kube.name, mode, decider]),
		["metadata", "labels"],
	)
}
