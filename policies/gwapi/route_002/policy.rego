# METADATA
# title: HTTPRoute retry bounded
# description: |
#   `spec.rules[].retry` (experimental channel) lets implementations choose
#   the attempts when unset and keeps retrying until the request timeout.
#   Denied: `attempts` above `retry.maxAttempts`. Warned: a retry without a
#   request timeout (`timeouts.request` absent or 0s); `(1 + attempts) ×
#   backendRequest` longer than the request timeout (the last tries never
#   run); retry `codes` other than 502, 503 and 504 on a rule that is not
#   restricted to GET, HEAD or OPTIONS (a 500 may come after a side effect).
# custom:
#   id: GWAPI-ROUTE-002
#   version: 1.0.0
#   severity: medium
#   action: warn
#   since: 2026.12.0
#   kinds:
#   - {group: gateway.networking.k8s.io, kind: HTTPRoute, versions: [v1, v1beta1]}
#   remediation: |
#     Use at most 3 `attempts`, set `timeouts.request` and a `backendRequest`
#     such that (1 + attempts) × backendRequest fits in it, and retry only on
#     502, 503 and 504 unless the rule matches only GET, HEAD or OPTIONS.
package meshguard.gwapi.route_002

import data.meshguard.lib.config
import data.meshguard.lib.duration
import data.meshguard.lib.finding
import data.meshguard.lib.kube

# The object is of a kind in this package's METADATA. The engine evaluates a
# package only for those kinds (kube.indexed); under conftest or opa eval,
# where every package sees every object, the METADATA is read. Truth tests
# are written `== true` or `!= false`: OPA allocates a variable to test a
# bare term.
_applies if kube.indexed == true

else if kube.applies(rego.metadata.chain())

# Every body reads the route rules with a retry (r) itself, tests them, and
# tests _applies (which the engine has always decided) only for a retry that
# would be reported. Iterating the rules in each body costs less than one
# shared set of them: a reference to a rule walks OPA's rule tree and the set
# is built element by element.
deny contains f if {
	some i, rule in kube.obj.spec.rules
	r := rule.retry
	r != false
	r.attempts > config.params.retry.maxAttempts
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("HTTPRoute %s/%s rule %d retries %d times, above the maximum %d", [kube.namespace, kube.name, i, r.attempts, config.params.retry.maxAttempts]),
		["spec", "rules", i, "retry", "attempts"],
	)
}

warn contains f if {
	some i, rule in kube.obj.spec.rules
	r := rule.retry
	r != false
	duration.unset(object.get(rule, "timeouts", {}), "request")
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("HTTPRoute %s/%s rule %d retries without timeouts.request, so retries may go on as long as the implementation allows; set one", [kube.namespace, kube.name, i]),
		["spec", "rules", i, "retry"],
	)
}

warn contains f if {
	some i, rule in kube.obj.spec.rules
	r := rule.retry
	r != false
	request := time.parse_duration_ns(rule.timeouts.request)
	request > 0
	(1 + r.attempts) * time.parse_duration_ns(rule.timeouts.backendRequest) > request
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("HTTPRoute %s/%s rule %d: (1 + %d attempts) x backendRequest %s exceeds timeouts.request %s, so the last tries never run", [kube.namespace, kube.name, i, r.attempts, rule.timeouts.backendRequest, rule.timeouts.request]),
		["spec", "rules", i, "retry", "attempts"],
	)
}

_safe_codes := {502, 503, 504}

_read_only_methods := {"GET", "HEAD", "OPTIONS"}

_read_only(rule) if {
	count(object.get(rule, "matches", [])) > 0
	every m in rule.matches {
		m.method in _read_only_methods
	}
}

warn contains f if {
	some i, rule in kube.obj.spec.rules
	r := rule.retry
	r != false
	unsafe := sort([c | some c in r.codes; not c in _safe_codes])
	count(unsafe) > 0
	not _read_only(rule)
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("HTTPRoute %s/%s rule %d retries on status %v, which can repeat requests that already had side effects; restrict the rule to GET/HEAD/OPTIONS or retry only on 502, 503, 504", [kube.namespace, kube.name, i, unsafe]),
		["spec", "rules", i, "retry", "codes"],
	)
}
