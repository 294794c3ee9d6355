# METADATA
# title: Namespace default-deny policy present
# description: |
#   Istio allows a request when no ALLOW policy applies to the workload, so
#   deny-by-default only exists once an ALLOW policy applies to every
#   workload. A Namespace in the mesh (`istio-injection=enabled`,
#   `istio.io/rev`, or `istio.io/dataplane-mode=ambient`) without an
#   allow-nothing AuthorizationPolicy (no selector, no targetRefs, action ALLOW
#   or absent, no rules) in it or in the root namespace is flagged. The
#   verdict depends on which other objects exist, so it is a warning (and an
#   audit finding). Deleting the managed `allow-nothing` policy is denied by
#   ISTIO-DEFAULTS-001.
# custom:
#   id: ISTIO-AUTHZ-004
#   version: 1.0.0
#   severity: high
#   action: warn
#   since: 2026.12.0
#   kinds:
#   - {group: "", kind: Namespace, versions: [v1]}
#   remediation: |
#     Add `AuthorizationPolicy allow-nothing` with `spec: {}` to the namespace
#     (`meshguard generate` prints it; the webhook's defaults controller creates
#     it) and allow the callers each workload needs with its own ALLOW policies.
package meshguard.istio.authz_004

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

_policies := object.get(data.inventory, ["objects", "AuthorizationPolicy.security.istio.io"], {})

# An allow-nothing policy in the namespace, or a mesh-wide one.
_baseline if {
	some ns in {kube.name, istio.root_namespace}
	some ap in object.get(_policies, ns, {})
	istio.allow_nothing(ap)
}

# The most selective test first and _applies, which the engine has always
# decided, last.
warn contains f if {
	istio.obj_in_mesh
	kube.inventory_known == true
	not _baseline
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("Namespace %s is in the mesh but has no allow-nothing AuthorizationPolicy (no selector, no rules) in it or in %s, so a workload no ALLOW policy selects accepts every request; add one with spec: {}", [kube.name, istio.root_namespace]),
		["metadata", "labels"],
	)
}
