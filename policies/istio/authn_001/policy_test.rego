package meshguard.istio.authn_001_test

import data.meshguard.istio.authn_001

_ra(spec) := {
	"apiVersion": "security.istio.io/v1",
	"kind": "RequestAuthentication",
	"metadata": {"name": "jwt", "namespace": "foo"},
	"spec": spec,
}

_jwt := [{"issuer": "https://issuer.example.com", "jwksUri": "https://issuer.example.com/.well-known/jwks.json"}]

_httpbin := {"matchLabels": {"app": "httpbin"}}

_ra_httpbin := _ra({"selector": _httpbin, "jwtRules": _jwt})

_ap(ns, spec) := {
	"apiVersion": "security.istio.io/v1",
	"kind": "AuthorizationPolicy",
	"metadata": {"name": "require-jwt", "namespace": ns},
	"spec": spec,
}

_inv(ns, spec) := {"objects": {"AuthorizationPolicy.security.istio.io": {ns: {"require-jwt": _ap(ns, spec)}}}}

_principals := [{"from": [{"source": {"requestPrincipals": ["https://issuer.example.com/*"]}}]}]

_f(scope) := {
	"id": "ISTIO-AUTHN-001",
	"severity": "high",
	"path": ["spec", "jwtRules"],
	"msg": sprintf("ISTIO-AUTHN-001: RequestAuthentication foo/jwt is not paired with an AuthorizationPolicy that requires a request principal for %s, so requests without a token are accepted; add one that allows only requestPrincipals or denies notRequestPrincipals [\"*\"]", [scope]),
}

_httpbin_f := _f(`workloads {"app": "httpbin"}`)

# RULES.md violating example: the RequestAuthentication alone.
test_warn_alone if {
	authn_001.warn == {_httpbin_f} with input as _ra_httpbin
	authn_001.warn == {_f("namespace foo")} with input as _ra({"jwtRules": _jwt})
	authn_001.warn == {_f(`targets ["gw"]`)} with input as _ra({"targetRefs": [{"kind": "Gateway", "group": "gateway.networking.k8s.io", "name": "gw"}], "jwtRules": _jwt})
}

# RULES.md compliant example: the companion policy, same selector.
test_pass_same_selector_requires_principals if {
	count(authn_001.warn) == 0 with input as _ra_httpbin with data.inventory as _inv("foo", {"selector": _httpbin, "rules": _principals})
}

test_pass_namespace_wide_or_root_policy if {
	count(authn_001.warn) == 0 with input as _ra_httpbin with data.inventory as _inv("foo", {"rules": _principals})
	count(authn_001.warn) == 0 with input as _ra_httpbin with data.inventory as _inv("istio-system", {"rules": _principals})
	count(authn_001.warn) == 0 with input as _ra({"jwtRules": _jwt}) with data.inventory as _inv("foo", {"rules": _principals})
}

# A policy whose selector is a subset of the RequestAuthentication's covers it.
test_pass_broader_selector if {
	ra := _ra({"selector": {"matchLabels": {"app": "httpbin", "version": "v1"}}, "jwtRules": _jwt})
	count(authn_001.warn) == 0 with input as ra with data.inventory as _inv("foo", {"selector": _httpbin, "rules": _principals})
}

test_pass_same_target_ref if {
	ref := {"kind": "Gateway", "group": "gateway.networking.k8s.io", "name": "gw"}
	count(authn_001.warn) == 0 with input as _ra({"targetRefs": [ref], "jwtRules": _jwt}) with data.inventory as _inv("foo", {"targetRefs": [ref], "rules": _principals})
}

test_pass_request_auth_condition if {
	rules := [{"to": [{"operation": {"paths": ["/api/*"]}}], "when": [{"key": "request.auth.claims[iss]", "values": ["https://issuer.example.com"]}]}]
	count(authn_001.warn) == 0 with input as _ra_httpbin with data.inventory as _inv("foo", {"selector": _httpbin, "rules": rules})
}

test_pass_deny_without_principal if {
	rules := [{"from": [{"source": {"notRequestPrincipals": ["*"]}}]}]
	count(authn_001.warn) == 0 with input as _ra_httpbin with data.inventory as _inv("foo", {"selector": _httpbin, "action": "DENY", "rules": rules})
}

# Policies that do not require a token, or cover other workloads, do not pair.
test_warn_unpaired_policies if {
	other := {"selector": {"matchLabels": {"app": "other"}}, "rules": _principals}
	narrower := {"selector": {"matchLabels": {"app": "httpbin", "version": "v2"}}, "rules": _principals}
	mixed := {"selector": _httpbin, "rules": array.concat(_principals, [{"from": [{"source": {"namespaces": ["foo"]}}]}])}
	mixed_sources := {"selector": _httpbin, "rules": [{"from": [{"source": {"requestPrincipals": ["*"]}}, {"source": {"namespaces": ["foo"]}}]}]}
	allow_nothing := {}
	deny_other := {"action": "DENY", "rules": [{"from": [{"source": {"notPrincipals": ["*"]}}]}]}
	other_ns := _inv("bar", {"rules": _principals})
	every spec in [other, narrower, mixed, mixed_sources, allow_nothing, deny_other] {
		authn_001.warn == {_httpbin_f} with input as _ra_httpbin with data.inventory as _inv("foo", spec)
	}
	authn_001.warn == {_httpbin_f} with input as _ra_httpbin with data.inventory as other_ns
	authn_001.warn == {_f("namespace foo")} with input as _ra({"jwtRules": _jwt}) with data.inventory as _inv("foo", {"selector": _httpbin, "rules": _principals})
}

test_pass_inventory_unknown if {
	count(authn_001.warn) == 0 with input as _ra_httpbin with data.meshguard.engine.inventory as false
}

test_pass_other_kinds if {
	count(authn_001.warn) == 0 with input as _ap("foo", {})
}

# The engine has already matched the kind (data.meshguard.engine.indexed).
test_warn_engine_indexed if {
	authn_001.warn == {_httpbin_f} with input as _ra_httpbin with data.meshguard.engine.indexed as true
}
