package meshguard.istio.traffic_002_test

import data.meshguard.istio.traffic_002
import data.meshguard.lib.config

# --- helpers -----------------------------------------------------------------

_vs(api_version, http) := {
	"apiVersion": api_version,
	"kind": "VirtualService",
	"metadata": {"name": "payments", "namespace": "prod"},
	"spec": {"hosts": ["payments"], "http": http},
}

_v1(http) := _vs("networking.istio.io/v1", http)

# An HTTP route with a timeout (omitted when "") and a retry policy.
_http(timeout, retries) := object.union(
	{"retries": retries, "route": [{"destination": {"host": "payments"}}]},
	_timeout(timeout),
)

_timeout(t) := {} if t == ""

_timeout(t) := {"timeout": t} if t != ""

_safe_on := "connect-failure,refused-stream,unavailable,cancelled"

_retries(attempts, per_try) := {"attempts": attempts, "perTryTimeout": per_try, "retryOn": _safe_on}

_match(methods) := {"match": [{"method": {"exact": m}} | some m in methods]}

_review(obj) := {
	"apiVersion": "admission.k8s.io/v1",
	"kind": "AdmissionReview",
	"request": {"operation": "CREATE", "object": obj},
}

_f(msg, path) := {"msg": msg, "id": "ISTIO-TRAFFIC-002", "severity": "medium", "path": path}

_too_many(i, attempts, max) := _f(
	sprintf("ISTIO-TRAFFIC-002: VirtualService prod/payments: HTTP route %d retries %d times, above the maximum %d", [i, attempts, max]),
	["spec", "http", i, "retries", "attempts"],
)

_per_try_too_long(i, per_try, timeout) := _f(
	sprintf("ISTIO-TRAFFIC-002: VirtualService prod/payments: HTTP route %d has perTryTimeout %s longer than its timeout %s", [i, per_try, timeout]),
	["spec", "http", i, "retries", "perTryTimeout"],
)

_no_per_try(i, attempts) := _f(
	sprintf("ISTIO-TRAFFIC-002: VirtualService prod/payments: HTTP route %d retries %d times without perTryTimeout, so each try may take the whole route timeout", [i, attempts]),
	["spec", "http", i, "retries"],
)

_budget(i, attempts, per_try, timeout) := _f(
	sprintf("ISTIO-TRAFFIC-002: VirtualService prod/payments: HTTP route %d: (1 + %d attempts) x perTryTimeout %s exceeds the timeout %s, so the last tries never run", [i, attempts, per_try, timeout]),
	["spec", "http", i, "retries"],
)

_unsafe(i, tokens) := _f(
	sprintf("ISTIO-TRAFFIC-002: VirtualService prod/payments: HTTP route %d retries on %s, which can repeat non-idempotent requests; restrict the route to GET/HEAD/OPTIONS or retry only on safe conditions", [i, tokens]),
	["spec", "http", i, "retries", "retryOn"],
)

_passes if {
	count(traffic_002.deny) == 0
	count(traffic_002.warn) == 0
}

# --- RULES.md examples -------------------------------------------------------

test_deny_and_warn_rules_violating_example if {
	vs := _v1([_http("5s", {"attempts": 10, "perTryTimeout": "3s", "retryOn": "5xx,reset"})])
	traffic_002.deny == {_too_many(0, 10, 3)} with input as vs
	traffic_002.warn == {_budget(0, 10, "3s", "5s"), _unsafe(0, "5xx,reset")} with input as vs
}

test_allow_rules_compliant_example if {
	_passes with input as _v1([_http("15s", _retries(2, "5s"))])
}

# --- (a) attempts above the maximum (deny) -----------------------------------

test_deny_attempts_above_max if {
	vs := _vs("networking.istio.io/v1alpha3", [_http("30s", _retries(4, "5s"))])
	traffic_002.deny == {_too_many(0, 4, 3)} with input as vs
	count(traffic_002.warn) == 0 with input as vs
}

test_allow_attempts_at_max if {
	_passes with input as _vs("networking.istio.io/v1beta1", [_http("20s", _retries(3, "5s"))])
}

# --- (c) perTryTimeout above the route timeout (deny) ------------------------

test_deny_per_try_timeout_above_timeout if {
	vs := _vs("networking.istio.io/v1beta1", [_http("10s", _retries(1, "20s"))])
	traffic_002.deny == {_per_try_too_long(0, "20s", "10s")} with input as vs
	traffic_002.warn == {_budget(0, 1, "20s", "10s")} with input as vs
}

test_allow_per_try_timeout_without_route_timeout if {
	_passes with input as _v1([_http("", _retries(2, "20s"))])
}

test_allow_per_try_timeout_equal_to_timeout_single_try if {
	_passes with input as _v1([_http("10s", {"perTryTimeout": "10s"})])
}

# Regression (fixed; the test keeps it fixed): `timeout: 0s` disables the route timeout (Envoy: "a value of 0 will
# disable the route's timeout"; lib/duration: "0s counts as unset", which
# ISTIO-TRAFFIC-001 honours), but rule (c) compares against it as 0 and denies
# "perTryTimeout 2s longer than its timeout 0s".
test_allow_per_try_timeout_with_disabled_route_timeout if {
	_passes with input as _v1([_http("0s", _retries(2, "2s"))])
}

# --- (b) attempts without perTryTimeout (warn) -------------------------------

test_warn_attempts_without_per_try_timeout if {
	vs := _vs("networking.istio.io/v1alpha3", [_http("15s", {"attempts": 2, "retryOn": _safe_on})])
	traffic_002.warn == {_no_per_try(0, 2)} with input as vs
	count(traffic_002.deny) == 0 with input as vs
}

test_warn_attempts_with_zero_per_try_timeout if {
	vs := _v1([_http("15s", _retries(3, "0s"))])
	traffic_002.warn == {_no_per_try(0, 3)} with input as vs
	count(traffic_002.deny) == 0 with input as vs
}

# attempts: 0 disables retries.
test_allow_zero_attempts if {
	_passes with input as _v1([_http("15s", {"attempts": 0})])
	_passes with input as _v1([_http("15s", {"attempts": 0, "retryOn": "5xx"})])
}

# --- (d) retry budget above the route timeout (warn) -------------------------

test_warn_retry_budget_above_timeout if {
	vs := _vs("networking.istio.io/v1beta1", [_http("15s", _retries(2, "6s"))])
	traffic_002.warn == {_budget(0, 2, "6s", "15s")} with input as vs
	count(traffic_002.deny) == 0 with input as vs
}

test_allow_retry_budget_within_timeout if {
	_passes with input as _v1([_http("1m", _retries(3, "15s"))])
}

# --- (e) unsafe retry conditions (warn) --------------------------------------

test_warn_unsafe_retry_on if {
	vs := _v1([_http("15s", {"attempts": 2, "perTryTimeout": "5s", "retryOn": "connect-failure,5xx,gateway-error"})])
	traffic_002.warn == {_unsafe(0, "5xx,gateway-error")} with input as vs
	count(traffic_002.deny) == 0 with input as vs
}

test_warn_unsafe_retry_on_trims_tokens if {
	vs := _v1([_http("15s", {"attempts": 2, "perTryTimeout": "5s", "retryOn": " connect-failure , retriable-4xx ,,"})])
	traffic_002.warn == {_unsafe(0, "retriable-4xx")} with input as vs
}

test_warn_unsafe_retry_on_mixed_methods if {
	route := object.union(_http("15s", {"attempts": 2, "perTryTimeout": "5s", "retryOn": "5xx"}), _match(["GET", "POST"]))
	traffic_002.warn == {_unsafe(0, "5xx")} with input as _v1([route])
}

test_warn_unsafe_retry_on_match_without_method if {
	route := object.union(
		_http("15s", {"attempts": 2, "perTryTimeout": "5s", "retryOn": "reset"}),
		{"match": [{"uri": {"prefix": "/api"}}, {"method": {"prefix": "G"}}]},
	)
	traffic_002.warn == {_unsafe(0, "reset")} with input as _v1([route])
}

test_allow_unsafe_retry_on_read_only_route if {
	route := object.union(_http("15s", {"attempts": 2, "perTryTimeout": "5s", "retryOn": "5xx,reset"}), _match(["GET", "HEAD", "OPTIONS"]))
	_passes with input as _v1([route])
}

test_allow_safe_retry_on if {
	all_safe := "connect-failure,refused-stream,reset-before-request,unavailable,cancelled,retriable-status-codes"
	_passes with input as _v1([_http("15s", {"attempts": 2, "perTryTimeout": "5s", "retryOn": all_safe})])
}

# --- several routes, no retries ----------------------------------------------

test_deny_and_warn_per_route if {
	http := [
		{"route": [{"destination": {"host": "payments"}}], "timeout": "15s"},
		_http("15s", _retries(2, "5s")),
		_http("5s", {"attempts": 5, "perTryTimeout": "10s", "retryOn": "5xx"}),
		_http("15s", {"attempts": 1}),
	]
	traffic_002.deny == {_too_many(2, 5, 3), _per_try_too_long(2, "10s", "5s")} with input as _v1(http)
	traffic_002.warn == {_unsafe(2, "5xx"), _no_per_try(3, 1), _budget(2, 5, "10s", "5s")} with input as _v1(http)
}

# Without `retries` Istio's own default applies.
test_allow_route_without_retries if {
	_passes with input as _v1([{"route": [{"destination": {"host": "payments"}}]}])
}

# The retries the mutating webhook adds (RULES.md ISTIO-TRAFFIC-002 mutation),
# on a route with the default timeout, satisfy the rule.
test_allow_mutation_defaults if {
	r := config.params.retry
	retries := {"attempts": r.defaultAttempts, "perTryTimeout": r.defaultPerTryTimeout, "retryOn": _safe_on}
	_passes with input as _v1([_http(config.params.route.defaultTimeout, retries)])
}

# --- config override ---------------------------------------------------------

test_deny_config_max_attempts if {
	vs := _v1([_http("1m", _retries(5, "5s"))])
	traffic_002.deny == {_too_many(0, 5, 3)} with input as vs
	_passes with input as vs with data.meshguard.config as {"retry": {"maxAttempts": 5}}
	traffic_002.deny == {_too_many(0, 5, 4)} with input as vs with data.meshguard.config as {"retry": {"maxAttempts": 4}}
}

# The configured list replaces the default one.
test_warn_config_safe_conditions if {
	vs := _v1([_http("15s", {"attempts": 2, "perTryTimeout": "5s", "retryOn": "5xx,connect-failure"})])
	cfg := {"retry": {"safeConditions": ["5xx"]}}
	traffic_002.warn == {_unsafe(0, "connect-failure")} with input as vs with data.meshguard.config as cfg
	count(traffic_002.deny) == 0 with input as vs with data.meshguard.config as cfg
}

# --- kind guard and front doors ----------------------------------------------

test_allow_wrong_kind if {
	vs := _v1([_http("5s", {"attempts": 10, "perTryTimeout": "3s", "retryOn": "5xx,reset"})])
	_passes with input as object.union(vs, {"kind": "DestinationRule"})
	_passes with input as object.union(vs, {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute"})
}

test_deny_and_warn_admission_review if {
	vs := _v1([_http("5s", {"attempts": 10, "perTryTimeout": "3s", "retryOn": "5xx,reset"})])
	bare_deny := traffic_002.deny with input as vs
	bare_warn := traffic_002.warn with input as vs
	bare_deny == {_too_many(0, 10, 3)}
	bare_warn == {_budget(0, 10, "3s", "5s"), _unsafe(0, "5xx,reset")}
	traffic_002.deny == bare_deny with input as _review(vs)
	traffic_002.warn == bare_warn with input as _review(vs)
}

test_deny_attempts_above_max_engine_indexed if {
	traffic_002.deny == {_too_many(0, 4, 3)} with input as _v1([_http("30s", _retries(4, "5s"))])
		with data.meshguard.engine.indexed as true
}

# --- mutation ----------------------------------------------------------------

_route_only(timeout) := object.union({"route": [{"destination": {"host": "payments"}}]}, _timeout(timeout))

_default_retries := {"attempts": 2, "perTryTimeout": "5s", "retryOn": _safe_on}

test_mutate_adds_bounded_retries_when_they_fit_the_default_timeout if {
	traffic_002.mutate == {{"path": ["spec", "http", 0, "retries"], "value": _default_retries}} with input as _review(_v1([_route_only("")]))
}

test_mutate_adds_retries_when_they_fit_the_route_timeout if {
	traffic_002.mutate == {{"path": ["spec", "http", 0, "retries"], "value": _default_retries}} with input as _v1([_route_only("15s")])
}

test_mutate_adds_retries_when_they_fit_the_route_timeout_only if {
	traffic_002.mutate == {{"path": ["spec", "http", 1, "retries"], "value": _default_retries}} with input as _v1([_route_only("10s"), _route_only("20s"), _route_only("0s"), _route_only("soon")])
}

# A null timeout is absent: ISTIO-TRAFFIC-001 adds the default to it.
test_mutate_treats_null_timeout_as_absent if {
	traffic_002.mutate == {{"path": ["spec", "http", 0, "retries"], "value": _default_retries}} with input as _v1([object.union(_route_only(""), {"timeout": null, "retries": null})])
}

test_mutate_follows_configured_defaults if {
	cfg := {"route": {"defaultTimeout": "10s"}, "retry": {"defaultAttempts": 1, "defaultPerTryTimeout": "4s"}}
	traffic_002.mutate == {
		{"path": ["spec", "http", 0, "retries"], "value": {"attempts": 1, "perTryTimeout": "4s", "retryOn": _safe_on}},
		{"path": ["spec", "http", 1, "retries"], "value": {"attempts": 1, "perTryTimeout": "4s", "retryOn": _safe_on}},
	} with input as _v1([_route_only(""), _route_only("8s"), _route_only("7s")])
		with data.meshguard.config as cfg
}

# Zero default attempts disables retries; istiod rejects any other retry
# field next to attempts: 0.
test_mutate_zero_default_attempts_disables_retries if {
	traffic_002.mutate == {{"path": ["spec", "http", 0, "retries"], "value": {"attempts": 0}}} with input as _v1([_route_only("0s")])
		with data.meshguard.config as {"retry": {"defaultAttempts": 0}}
}

# The default never trips the rule's own checks, whatever the configuration.
test_mutate_nothing_when_the_default_would_be_denied if {
	traffic_002.mutate == set() with input as _v1([_route_only("60s")])
		with data.meshguard.config as {"retry": {"defaultAttempts": 4}}
}

test_mutate_keeps_only_the_safe_default_conditions if {
	safe := ["connect-failure", "unavailable"]
	traffic_002.mutate == {{"path": ["spec", "http", 0, "retries"], "value": {"attempts": 2, "perTryTimeout": "5s", "retryOn": "connect-failure,unavailable"}}} with input as _v1([_route_only("")])
		with data.meshguard.config as {"retry": {"safeConditions": safe}}
	traffic_002.mutate == set() with input as _v1([_route_only("")])
		with data.meshguard.config as {"retry": {"safeConditions": ["5xx"]}}
}

test_mutate_keeps_an_existing_retry_policy if {
	traffic_002.mutate == set() with input as _v1([_http("15s", {"attempts": 0}), _http("", _retries(3, "1s"))])
}

test_mutate_skips_non_forwarding_and_delegate_routes if {
	http := [
		{"redirect": {"uri": "/x"}},
		{"directResponse": {"status": 503}},
		{"delegate": {"name": "d"}},
		object.union(_route_only(""), {"delegate": {"name": "d"}}),
	]
	traffic_002.mutate == set() with input as _v1(http)
}

test_mutate_nothing_for_other_kinds if {
	traffic_002.mutate == set() with input as object.union(_v1([_route_only("")]), {"kind": "DestinationRule"})
}

# With the timeout ISTIO-TRAFFIC-001 adds, the retries pass every check.
test_mutate_result_passes if {
	vs := _v1([_route_only(""), _route_only("30s")])
	with_timeout := json.patch(vs, [{"op": "add", "path": "/spec/http/0/timeout", "value": config.params.route.defaultTimeout}])
	patched := json.patch(with_timeout, [{"op": "add", "path": sprintf("/spec/http/%d/retries", [m.path[2]]), "value": m.value} |
		some m in traffic_002.mutate with input as vs
	])
	count(patched.spec.http[0].retries) == 3
	count(patched.spec.http[1].retries) == 3
	traffic_002.deny == set() with input as patched
	traffic_002.warn == set() with input as patched
}
