# METADATA
# title: Retry policy bounded and consistent
# description: |
#   Unbounded or inconsistent retries multiply load during incidents (retry
#   storms). Denied: more attempts than `retry.maxAttempts`; a per-try timeout
#   longer than the route timeout. Warned: attempts without a per-try timeout
#   (each try may then take the whole route timeout); `(1 + attempts) ×
#   perTryTimeout` longer than the route timeout (the last tries never run);
#   retry conditions outside `retry.safeConditions` on routes that are not
#   restricted to GET, HEAD or OPTIONS (duplicate side effects). The mutating
#   webhook adds a bounded retry policy (`retry.defaultAttempts` ×
#   `retry.defaultPerTryTimeout`, Istio's default retry conditions) to a
#   forwarding route without one, when every try fits in the route timeout.
# custom:
#   id: ISTIO-TRAFFIC-002
#   version: 1.1.0
#   severity: medium
#   action: deny
#   since: 2026.11.0
#   kinds:
#   - group: networking.istio.io
#     kind: VirtualService
#     versions: [v1alpha3, v1beta1, v1]
#   remediation: |
#     Use at most 3 attempts with a `perTryTimeout` such that (1 + attempts) ×
#     perTryTimeout fits in the route `timeout`, and retry only on
#     connect-failure, refused-stream, unavailable, cancelled (or
#     reset-before-request, retriable-status-codes) unless the route is read-only.
package meshguard.istio.traffic_002

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

# Every body reads the HTTP routes with a retry policy (r) itself, tests them
# with local variables and builtins (object.get for the attempts, no helper
# function per use), and tests _applies, which the engine has always decided,
# last. Iterating the routes in each body costs less than one shared set of
# them: a reference to a rule walks OPA's rule tree and the set is built
# element by element.
deny contains f if {
	some i, route in kube.obj.spec.http
	r := route.retries
	r != false
	attempts := object.get(r, "attempts", 0)
	attempts > config.params.retry.maxAttempts
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("VirtualService %s/%s: HTTP route %d retries %d times, above the maximum %d", [kube.namespace, kube.name, i, attempts, config.params.retry.maxAttempts]),
		["spec", "http", i, "retries", "attempts"],
	)
}

deny contains f if {
	some i, route in kube.obj.spec.http
	r := route.retries
	r != false
	timeout := time.parse_duration_ns(route.timeout)
	timeout > 0 # 0s disables the route timeout
	time.parse_duration_ns(r.perTryTimeout) > timeout
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("VirtualService %s/%s: HTTP route %d has perTryTimeout %s longer than its timeout %s", [kube.namespace, kube.name, i, r.perTryTimeout, route.timeout]),
		["spec", "http", i, "retries", "perTryTimeout"],
	)
}

warn contains f if {
	some i, route in kube.obj.spec.http
	r := route.retries
	r != false
	attempts := object.get(r, "attempts", 0)
	attempts > 0
	duration.unset(r, "perTryTimeout")
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("VirtualService %s/%s: HTTP route %d retries %d times without perTryTimeout, so each try may take the whole route timeout", [kube.namespace, kube.name, i, attempts]),
		["spec", "http", i, "retries"],
	)
}

warn contains f if {
	some i, route in kube.obj.spec.http
	r := route.retries
	r != false
	per_try := time.parse_duration_ns(r.perTryTimeout)
	timeout := time.parse_duration_ns(route.timeout)
	timeout > 0
	attempts := object.get(r, "attempts", 0)
	(1 + attempts) * per_try > timeout
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("VirtualService %s/%s: HTTP route %d: (1 + %d attempts) x perTryTimeout %s exceeds the timeout %s, so the last tries never run", [kube.namespace, kube.name, i, attempts, r.perTryTimeout, route.timeout]),
		["spec", "http", i, "retries"],
	)
}

_read_only_methods := {"GET", "HEAD", "OPTIONS"}

_read_only(route) if {
	count(route.match) > 0
	every m in route.match {
		m.method.exact in _read_only_methods
	}
}

warn contains f if {
	some i, route in kube.obj.spec.http
	r := route.retries
	r != false
	object.get(r, "attempts", 0) > 0
	safe := {c | some c in config.params.retry.safeConditions}
	unsafe := [t |
		some raw in split(r.retryOn, ",")
		t := trim_space(raw)
		t != ""
		not t in safe
	]
	count(unsafe) > 0
	not _read_only(route)
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("VirtualService %s/%s: HTTP route %d retries on %s, which can repeat non-idempotent requests; restrict the route to GET/HEAD/OPTIONS or retry only on safe conditions", [kube.namespace, kube.name, i, concat(",", unsafe)]),
		["spec", "http", i, "retries", "retryOn"],
	)
}

# Istio's own retry conditions when `retries` is unset, kept where the
# configuration deems them safe, so the default never trips check (e).
_default_retry_on := concat(",", [c |
	some c in ["connect-failure", "refused-stream", "unavailable", "cancelled"]
	c in config.params.retry.safeConditions
])

# The retry policy the mutation adds, when it satisfies every check: at most
# retry.maxAttempts, and (1 + attempts) × perTryTimeout within the timeout
# (check (d), hence (c)). Zero attempts disables retries: istiod accepts no
# other retry field then.
_default_retries(_) := {"attempts": 0} if config.params.retry.defaultAttempts == 0

_default_retries(timeout) := {"attempts": attempts, "perTryTimeout": per_try, "retryOn": _default_retry_on} if {
	attempts := config.params.retry.defaultAttempts
	attempts > 0
	attempts <= config.params.retry.maxAttempts
	per_try := config.params.retry.defaultPerTryTimeout
	(1 + attempts) * duration.ns(per_try) <= duration.ns(timeout)
	_default_retry_on != ""
}

# The timeout a route will have: its own, or the default that
# ISTIO-TRAFFIC-001's mutation adds when it has none.
_effective_timeout(route) := route.timeout if route.timeout != null

_effective_timeout(route) := config.params.route.defaultTimeout if object.get(route, "timeout", null) == null

# Mutation (RULES.md): a bounded retry policy on a forwarding route (the
# routes ISTIO-TRAFFIC-001 judges: `route` present, no delegate) without one.
# A retry policy the user wrote, even `attempts: 0`, is kept.
mutate contains {"path": ["spec", "http", i, "retries"], "value": _default_retries(_effective_timeout(route))} if {
	_applies == true
	some i, route in kube.obj.spec.http
	route.route != false
	not route.delegate
	object.get(route, "retries", null) == null
}
