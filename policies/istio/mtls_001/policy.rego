# METADATA
# title: PeerAuthentication must not weaken mTLS
# description: |
#   A PeerAuthentication in mode PERMISSIVE or DISABLE accepts plaintext, so any
#   pod that reaches the port bypasses workload identity and every principal- or
#   namespace-based AuthorizationPolicy. A mesh-wide policy (root namespace, no
#   selector) without a mode has no parent to inherit from and is PERMISSIVE.
#   A policy elsewhere without a mode is judged by what it inherits (workload,
#   then namespace, then mesh-wide): it is flagged, naming the deciding object,
#   when that resolves to PERMISSIVE or DISABLE. The mutating webhook sets
#   `mtls.mode: STRICT` on a selector-less policy that sets no mode; an
#   explicit mode (`UNSET` included) and workload policies are left alone.
# custom:
#   id: ISTIO-MTLS-001
#   version: 1.1.0
#   severity: high
#   action: deny
#   since: 2026.11.0
#   kinds:
#   - group: security.istio.io
#     kind: PeerAuthentication
#     versions: [v1beta1, v1]
#   remediation: |
#     Set `spec.mtls.mode: STRICT`. To migrate a workload that still receives
#     plaintext, exempt it for a limited time instead of weakening the mode.
package meshguard.istio.mtls_001

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

_spec := object.get(kube.obj, "spec", {})

default _mode := "UNSET"

_mode := _spec.mtls.mode

_mesh_wide if {
	kube.namespace == istio.root_namespace
	not istio.has_selector(_spec)
}

# Each body tests the mode first and _applies, which the engine has always
# decided, last.
deny contains f if {
	sev := {"DISABLE": "critical", "PERMISSIVE": "high"}[_mode]
	_applies == true
	f := finding.with_severity(
		rego.metadata.chain(),
		sprintf("PeerAuthentication %s/%s sets mtls.mode %s, which accepts plaintext; use STRICT", [kube.namespace, kube.name, _mode]),
		["spec", "mtls", "mode"],
		sev,
	)
}

deny contains f if {
	_mode == "UNSET"
	_mesh_wide == true
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("mesh-wide PeerAuthentication %s/%s sets no mtls.mode, so the mesh default is PERMISSIVE; set STRICT", [kube.namespace, kube.name]),
		["spec", "mtls"],
	)
}

# An UNSET mode inherits; the verdict depends on other objects, so it warns
# (RULES.md §0.4) and names the object that decided.
warn contains f if {
	_mode == "UNSET"
	not _mesh_wide
	kube.inventory_known == true
	[decider, mode] := _inherited
	mode != "STRICT"
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("PeerAuthentication %s/%s sets no mtls.mode and inherits %s from %s; set STRICT", [kube.namespace, kube.name, mode, decider]),
		["spec", "mtls"],
	)
}

# A workload policy inherits from its namespace's policy first, then the
# mesh-wide one; a namespace-wide policy from the mesh-wide one
# (lib/istio resolves the modes, shared with ISTIO-MTLS-003).
_inherited := istio.effective_namespace_mtls(kube.namespace) if istio.has_selector(_spec)

_inherited := istio.mesh_mtls if not istio.has_selector(_spec)

# Mutation (RULES.md): STRICT on a namespace-wide or mesh-wide policy that
# sets no mode. An explicit mode, UNSET included, is the user's and is kept;
# a workload policy without a mode inherits and is left alone.
mutate contains {"path": ["spec", "mtls", "mode"], "value": "STRICT"} if {
	_applies == true
	not istio.has_selector(_spec)
	object.get(_spec, ["mtls", "mode"], null) == null
}
