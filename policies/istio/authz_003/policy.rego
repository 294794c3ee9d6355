# METADATA
# title: Wildcard, negative-only or internet-wide sources in ALLOW policies
# description: |
#   In an ALLOW policy, `"*"` (or a pattern that spans namespaces or trust
#   domains) in `principals` or `namespaces` matches any authenticated identity:
#   that is "all authenticated", not least privilege. `ipBlocks` or
#   `remoteIpBlocks` of 0.0.0.0/0 or ::/0 admit the whole internet. A source
#   that sets only `not*` fields allows everyone but a few. `requestPrincipals:
#   ["*"]` alone is the canonical "require a valid JWT" and passes.
# custom:
#   id: ISTIO-AUTHZ-003
#   version: 1.0.0
#   severity: medium
#   action: deny
#   since: 2026.11.0
#   kinds:
#   - group: security.istio.io
#     kind: AuthorizationPolicy
#     versions: [v1beta1, v1]
#   remediation: |
#     List the exact callers: principals such as `cluster.local/ns/<ns>/sa/<sa>`,
#     or named namespaces; use concrete CIDRs instead of 0.0.0.0/0.
package meshguard.istio.authz_003

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

_sources contains [["spec", "rules", i, "from", j, "source"], src] if {
	some i, rule in kube.obj.spec.rules
	some j, from in rule.from
	src := from.source
	istio.authz_action == "ALLOW"
}

# A principal pattern is confined when it fixes the trust domain and namespace:
# <trust-domain>/ns/<namespace>/...
_confined_principal(p) if regex.match(`^[^*]+/ns/[^*/]+/`, p)

# A wildcard value (its "*" is tested before the call) that is not confined.
_wide("principals", value) if not _confined_principal(value)

_wide("namespaces", _)

# Each body reads the sources first and tests _applies, which the engine has
# always decided, last.
warn contains f if {
	some [p, src] in _sources
	some field in ["principals", "namespaces"]
	some k, value in src[field]
	contains(value, "*")
	_wide(field, value)
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("AuthorizationPolicy %s/%s allows %s %q, which matches callers across namespaces or trust domains", [kube.namespace, kube.name, field, value]),
		array.concat(p, [field, k]),
	)
}

# A CIDR with prefix length 0 is every address, however the address is
# written (0.0.0.0/0, 10.0.0.0/0, ::/0, ::0/0).
deny contains f if {
	some [p, src] in _sources
	some field in ["ipBlocks", "remoteIpBlocks"]
	some k, value in src[field]
	endswith(value, "/0")
	_applies == true
	f := finding.with_severity(
		rego.metadata.chain(),
		sprintf("AuthorizationPolicy %s/%s allows %s %s, which is every address", [kube.namespace, kube.name, field, value]),
		array.concat(p, [field, k]),
		"high",
	)
}

warn contains f if {
	some [p, src] in _sources
	count(src) > 0
	every field, _ in src {
		startswith(field, "not")
	}
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("AuthorizationPolicy %s/%s has an ALLOW source with only negative matches, which allows every other caller", [kube.namespace, kube.name]),
		p,
	)
}
