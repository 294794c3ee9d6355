# METADATA
# title: ALLOW policy with an empty rule (allow-all)
# description: |
#   "An empty rule is always matched": an ALLOW policy with a rule `{}` (no
#   `from`, `to` or `when`) is the documented allow-all and defeats any
#   default-deny. An allow-nothing policy (`spec: {}`, no rules) is fine.
# custom:
#   id: ISTIO-AUTHZ-001
#   version: 1.0.0
#   severity: critical
#   action: deny
#   since: 2026.11.0
#   kinds:
#   - group: security.istio.io
#     kind: AuthorizationPolicy
#     versions: [v1beta1, v1]
#   remediation: |
#     Replace the empty rule with rules that name the callers (`from.source.principals`
#     or `namespaces`) and the operations they may use.
package meshguard.istio.authz_001

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

# Namespace-wide or mesh-wide policies are critical; workload-scoped ones high.
default _severity := "critical"

_severity := "high" if {
	_workload_scoped == true
	kube.namespace != istio.root_namespace
}

_workload_scoped if istio.has_selector(_spec)

_workload_scoped if _spec.targetRefs

_workload_scoped if _spec.targetRef

# The cheapest, most selective tests first (a rule with nothing in it), and
# _applies, which the engine has always decided, last.
deny contains f if {
	some i, rule in _spec.rules
	count(object.get(rule, "from", [])) == 0
	count(object.get(rule, "to", [])) == 0
	count(object.get(rule, "when", [])) == 0
	istio.authz_action == "ALLOW"
	_applies == true
	f := finding.with_severity(
		rego.metadata.chain(),
		sprintf("AuthorizationPolicy %s/%s has an empty ALLOW rule, which allows every request", [kube.namespace, kube.name]),
		["spec", "rules", i],
		_severity,
	)
}
