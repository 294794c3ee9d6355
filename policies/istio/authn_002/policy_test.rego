package meshguard.istio.authn_002_test

import data.meshguard.istio.authn_002

_ra(rules) := {
	"apiVersion": "security.istio.io/v1beta1",
	"kind": "RequestAuthentication",
	"metadata": {"name": "jwt", "namespace": "foo"},
	"spec": {"jwtRules": rules},
}

_f(msg, path) := {"id": "ISTIO-AUTHN-002", "severity": "high", "msg": msg, "path": path}

# RULES.md violating example.
test_deny_http_jwks_uri if {
	authn_002.deny == {_f(
		"ISTIO-AUTHN-002: RequestAuthentication foo/jwt fetches the key set of issuer issuer-foo over plaintext HTTP (http://auth.internal/jwks.json); use https",
		["spec", "jwtRules", 0, "jwksUri"],
	)} with input as _ra([{"issuer": "issuer-foo", "jwksUri": "http://auth.internal/jwks.json"}])
}

test_deny_http_jwks_uri_any_case_second_rule if {
	authn_002.deny == {_f(
		"ISTIO-AUTHN-002: RequestAuthentication foo/jwt fetches the key set of issuer b over plaintext HTTP (HTTP://auth.internal/jwks.json); use https",
		["spec", "jwtRules", 1, "jwksUri"],
	)} with input as _ra([{"issuer": "a", "jwksUri": "https://a/jwks"}, {"issuer": "b", "jwksUri": "HTTP://auth.internal/jwks.json"}])
}

test_deny_http_issuer_discovery if {
	authn_002.deny == {_f(
		"ISTIO-AUTHN-002: RequestAuthentication foo/jwt discovers the key set of issuer http://issuer.internal over plaintext HTTP (no jwksUri or jwks); set an https jwksUri",
		["spec", "jwtRules", 0, "issuer"],
	)} with input as _ra([{"issuer": "http://issuer.internal"}])
}

# RULES.md compliant example, and keys that are not fetched over HTTP.
test_pass_https_or_inline_keys if {
	every rules in [
		[{"issuer": "issuer-foo", "jwksUri": "https://auth.example.com/jwks.json"}],
		[{"issuer": "http://issuer.internal", "jwksUri": "https://issuer.internal/jwks.json"}],
		[{"issuer": "http://issuer.internal", "jwks": "{\"keys\": []}"}],
		[{"issuer": "https://issuer.example.com"}],
		[{"issuer": "issuer-foo"}],
	] {
		count(authn_002.deny) == 0 with input as _ra(rules)
	}
	count(authn_002.deny) == 0 with input as json.remove(_ra([]), ["spec"])
}

test_pass_other_kinds if {
	count(authn_002.deny) == 0 with input as object.union(_ra([{"jwksUri": "http://a"}]), {"kind": "AuthorizationPolicy"})
}

# The engine has already matched the kind (data.meshguard.engine.indexed).
test_deny_engine_indexed if {
	count(authn_002.deny) == 1 with input as _ra([{"issuer": "a", "jwksUri": "http://a/jwks"}]) with data.meshguard.engine.indexed as true
}
