# METADATA
# title: RequestAuthentication must be paired with a principal-requiring AuthorizationPolicy
# description: |
#   A RequestAuthentication only rejects invalid tokens: "a request that does
#   not contain any authentication credentials will be accepted". A token is
#   required only by an AuthorizationPolicy that covers the same workloads (in
#   the same namespace or the root namespace; namespace-wide, with a selector
#   whose labels the RequestAuthentication's selector holds, or the same
#   targetRef) and either ALLOWs only requests with a request principal (every
#   rule has a non-empty `requestPrincipals` in each source, or a
#   `request.auth.*` condition), or DENYs `notRequestPrincipals: ["*"]`.
#   Without one, a warning (the verdict depends on other objects) and an
#   audit finding.
# custom:
#   id: ISTIO-AUTHN-001
#   version: 1.0.0
#   severity: high
#   action: warn
#   since: 2026.12.0
#   kinds:
#   - group: security.istio.io
#     kind: RequestAuthentication
#     versions: [v1beta1, v1]
#   remediation: |
#     Add an AuthorizationPolicy for the same workloads that allows only
#     requests with a token, e.g. `rules: [{from: [{source: {requestPrincipals:
#     ["<issuer>/*"]}}]}]`, or denies `notRequestPrincipals: ["*"]`.
package meshguard.istio.authn_001

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

_policies := object.get(data.inventory, ["objects", "AuthorizationPolicy.security.istio.io"], {})

_refs(spec) := {r | some r in object.get(spec, "targetRefs", [])} | {r | r := spec.targetRef}

# The policy applies to every workload the RequestAuthentication applies to.
# (The functions here are else chains: they stop at the first branch that
# holds.)
_covers(ap) if {
	istio.namespace_wide(object.get(ap, "spec", {}))
} else if {
	istio.has_selector(ap.spec)
	istio.has_selector(_spec)
	every k, v in ap.spec.selector.matchLabels {
		_spec.selector.matchLabels[k] == v
	}
} else if {
	count(_refs(ap.spec) & _refs(_spec)) > 0
}

# A rule matches only requests that carry a request principal.
_rule_requires_token(rule) if {
	count(object.get(rule, "from", [])) > 0
	every from in rule.from {
		count(object.get(from, ["source", "requestPrincipals"], [])) > 0
	}
} else if {
	some w in rule.when
	startswith(w.key, "request.auth.")
}

_requires_token(ap) if {
	object.get(ap.spec, "action", "ALLOW") == "ALLOW"
	count(object.get(ap.spec, "rules", [])) > 0
	every rule in ap.spec.rules {
		_rule_requires_token(rule)
	}
} else if {
	ap.spec.action == "DENY"
	some rule in ap.spec.rules
	some from in rule.from
	"*" in from.source.notRequestPrincipals
}

_paired if {
	some ns in {kube.namespace, istio.root_namespace}
	some ap in object.get(_policies, ns, {})
	_covers(ap)
	_requires_token(ap)
}

_scope := sprintf("workloads %v", [_spec.selector.matchLabels]) if istio.has_selector(_spec)

_scope := sprintf("targets %v", [[r.name | some r in _refs(_spec)]]) if {
	not istio.has_selector(_spec)
	count(_refs(_spec)) > 0
}

_scope := sprintf("namespace %s", [kube.namespace]) if {
	not istio.has_selector(_spec)
	count(_refs(_spec)) == 0
}

warn contains f if {
	kube.inventory_known == true
	not _paired
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("RequestAuthentication %s/%s is not paired with an AuthorizationPolicy that requires a request principal for %s, so requests without a token are accepted; add one that allows only requestPrincipals or denies notRequestPrincipals [\"*\"]", [kube.namespace, kube.name, _scope]),
		["spec", "jwtRules"],
	)
}
