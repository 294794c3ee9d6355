# METADATA
# title: Managed default policies are kept
# description: |
#   The STRICT PeerAuthentication and the allow-nothing AuthorizationPolicy
#   that meshguard generates for a meshed namespace (labelled
#   `app.kubernetes.io/managed-by: meshguard`) are what keeps the namespace
#   deny-by-default. Deleting one, weakening it (a mode other than STRICT, a
#   selector or target that narrows it, rules that allow something) or taking
#   the label off would switch that off by accident, so it is denied. Allowed:
#   when the Namespace opted out (`meshguard.io/defaults: disabled`), when the
#   Namespace is being deleted, and for Kubernetes' namespace controller and
#   garbage collector. Only the admission webhook judges this rule (UPDATE and
#   DELETE); offline checks never see deletions.
# custom:
#   id: ISTIO-DEFAULTS-001
#   version: 1.0.0
#   severity: high
#   action: deny
#   since: 2026.11.0
#   operations: [UPDATE, DELETE]
#   kinds:
#   - group: security.istio.io
#     kind: PeerAuthentication
#     versions: [v1beta1, v1]
#   - group: security.istio.io
#     kind: AuthorizationPolicy
#     versions: [v1beta1, v1]
#   remediation: |
#     To stop managing a namespace's defaults, annotate the Namespace with
#     `meshguard.io/defaults: disabled` first; the objects then stay as they are
#     and can be changed or deleted.
package meshguard.istio.defaults_001

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

_managed(o) if o.metadata.labels["app.kubernetes.io/managed-by"] == "meshguard"

_system_users := {
	"system:serviceaccount:kube-system:namespace-controller",
	"system:serviceaccount:kube-system:generic-garbage-collector",
}

_allowed if kube.namespace_object.metadata.annotations["meshguard.io/defaults"] == "disabled"

_allowed if kube.namespace_object.metadata.deletionTimestamp

_allowed if kube.namespace_object.status.phase == "Terminating"

_allowed if input.request.userInfo.username in _system_users

_ref := sprintf("%s %s/%s", [kube.kind, kube.namespace, kube.name])

# Both bodies start with the old object, which only an AdmissionReview has
# (offline checks stop there), and test _applies, which the engine has always
# decided, last.
deny contains f if {
	_managed(input.request.oldObject)
	kube.operation == "DELETE"
	not _allowed
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s is a managed default that keeps the namespace zero-trust; annotate the Namespace meshguard.io/defaults: disabled before deleting it", [_ref]),
		["metadata", "labels", "app.kubernetes.io/managed-by"],
	)
}

_spec := object.get(kube.obj, "spec", {})

_weakened contains ["metadata", "labels", "app.kubernetes.io/managed-by"] if not _managed(kube.obj)

_weakened contains ["spec", "mtls", "mode"] if {
	kube.kind == "PeerAuthentication"
	object.get(_spec, ["mtls", "mode"], "") != "STRICT"
}

_weakened contains ["spec", "portLevelMtls"] if {
	kube.kind == "PeerAuthentication"
	_spec.portLevelMtls != false
}

_weakened contains ["spec", "rules"] if {
	kube.kind == "AuthorizationPolicy"
	count(object.get(_spec, "rules", [])) > 0
}

_weakened contains ["spec", "action"] if {
	kube.kind == "AuthorizationPolicy"
	object.get(_spec, "action", "ALLOW") != "ALLOW"
}

_weakened contains ["spec", "selector"] if istio.has_selector(_spec)

_weakened contains ["spec", "targetRefs"] if _spec.targetRefs

_weakened contains ["spec", "targetRef"] if _spec.targetRef

deny contains f if {
	_managed(input.request.oldObject)
	kube.operation == "UPDATE"
	not _allowed
	some p in _weakened
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s is a managed default; this update weakens it (%s); annotate the Namespace meshguard.io/defaults: disabled to take it over", [_ref, concat(".", [sprintf("%v", [x]) | some x in p])]),
		p,
	)
}
