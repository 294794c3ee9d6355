# METADATA
# title: JWKS must be fetched over HTTPS
# description: |
#   A key set fetched in plaintext can be replaced in transit, letting an
#   attacker mint tokens the proxy accepts; Istio itself only checks that the
#   URI parses. Flags a `jwtRules[].jwksUri` with the `http://` scheme, and a
#   JWT rule without `jwksUri` and `jwks` whose `issuer` is `http://` (the keys
#   are then found by OIDC discovery on the issuer, in plaintext).
# custom:
#   id: ISTIO-AUTHN-002
#   version: 1.0.0
#   severity: high
#   action: deny
#   since: 2026.12.0
#   kinds:
#   - group: security.istio.io
#     kind: RequestAuthentication
#     versions: [v1beta1, v1]
#   remediation: |
#     Serve the key set over HTTPS and set `jwksUri: https://...`, or inline
#     the keys in `jwks`.
package meshguard.istio.authn_002

import data.meshguard.lib.finding
import data.meshguard.lib.kube

# The object is of a kind in this package's METADATA. The engine evaluates a
# package only for those kinds (kube.indexed); under conftest or opa eval,
# where every package sees every object, the METADATA is read. Truth tests
# are written `== true` or `!= false`: OPA allocates a variable to test a
# bare term.
_applies if kube.indexed == true

else if kube.applies(rego.metadata.chain())

_plaintext(uri) if startswith(lower(trim_space(uri)), "http://")

# Each body tests the rules first and _applies, which the engine has always
# decided, last.
deny contains f if {
	some i, rule in kube.obj.spec.jwtRules
	_plaintext(rule.jwksUri)
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("RequestAuthentication %s/%s fetches the key set of issuer %v over plaintext HTTP (%s); use https", [kube.namespace, kube.name, object.get(rule, "issuer", ""), rule.jwksUri]),
		["spec", "jwtRules", i, "jwksUri"],
	)
}

deny contains f if {
	some i, rule in kube.obj.spec.jwtRules
	object.get(rule, "jwksUri", "") == ""
	object.get(rule, "jwks", "") == ""
	_plaintext(rule.issuer)
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("RequestAuthentication %s/%s discovers the key set of issuer %s over plaintext HTTP (no jwksUri or jwks); set an https jwksUri", [kube.namespace, kube.name, rule.issuer]),
		["spec", "jwtRules", i, "issuer"],
	)
}
