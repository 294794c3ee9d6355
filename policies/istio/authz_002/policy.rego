# METADATA
# title: ALLOW rule without a source constraint
# description: |
#   "from: If not set, any source is allowed". An ALLOW rule that constrains
#   only operations (`to`) or conditions (`when`) without any caller condition
#   authorizes every caller for those operations. On an internet-facing gateway
#   callers are external by design, so there it only warns.
# custom:
#   id: ISTIO-AUTHZ-002
#   version: 1.0.0
#   severity: high
#   action: deny
#   since: 2026.11.0
#   kinds:
#   - group: security.istio.io
#     kind: AuthorizationPolicy
#     versions: [v1beta1, v1]
#   remediation: |
#     Add `from.source` (principals, namespaces or requestPrincipals) to the rule,
#     or a `when` condition on a `source.*` or `request.auth.*` key.
package meshguard.istio.authz_002

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

_sourceless contains i if {
	some i, rule in kube.obj.spec.rules
	count(object.get(rule, "from", [])) == 0
	_constrained(rule)
	not _caller_condition(rule)
	istio.authz_action == "ALLOW"
}

# Rules with nothing at all are ISTIO-AUTHZ-001's.
# An empty list counts as unset, as Istio decodes it.
_constrained(rule) if {
	count(object.get(rule, "to", [])) > 0
} else if {
	count(object.get(rule, "when", [])) > 0
}

# A condition on the caller: a key source.* or request.auth.*.
_caller_condition(rule) if {
	some w in rule.when
	strings.any_prefix_match(w.key, ["source.", "request.auth."])
}

_msg := sprintf("AuthorizationPolicy %s/%s has an ALLOW rule without `from` or a caller condition, so any source may call", [kube.namespace, kube.name])

# The rules without a source first (most policies have none), _applies,
# which the engine has always decided, last.
deny contains f if {
	some i in _sourceless
	not istio.targets_public_gateway
	_applies == true
	f := finding.new(rego.metadata.chain(), _msg, ["spec", "rules", i])
}

warn contains f if {
	some i in _sourceless
	istio.targets_public_gateway == true
	_applies == true
	f := finding.new(rego.metadata.chain(), sprintf("%s (on a public gateway)", [_msg]), ["spec", "rules", i])
}
