package meshguard.istio.traffic_001_test

import data.meshguard.istio.traffic_001
import data.meshguard.lib.config

# --- helpers -----------------------------------------------------------------

_vs(api_version, http) := {
	"apiVersion": api_version,
	"kind": "VirtualService",
	"metadata": {"name": "ratings", "namespace": "prod"},
	"spec": {"hosts": ["ratings.prod.svc.cluster.local"], "http": http},
}

_v1(http) := _vs("networking.istio.io/v1", http)

_route := {"route": [{"destination": {"host": "ratings.prod.svc.cluster.local"}}]}

_timed(timeout) := object.union(_route, {"timeout": timeout})

_review(obj) := {
	"apiVersion": "admission.k8s.io/v1",
	"kind": "AdmissionReview",
	"request": {"operation": "CREATE", "object": obj},
}

_missing(i, default_timeout) := {
	"msg": sprintf("ISTIO-TRAFFIC-001: VirtualService prod/ratings: HTTP route %d has no timeout, so a stuck upstream holds requests forever; set one (default %s)", [i, default_timeout]),
	"id": "ISTIO-TRAFFIC-001",
	"severity": "medium",
	"path": ["spec", "http", i],
}

_too_long(i, timeout, max) := {
	"msg": sprintf("ISTIO-TRAFFIC-001: VirtualService prod/ratings: HTTP route %d has timeout %s, above the maximum %s", [i, timeout, max]),
	"id": "ISTIO-TRAFFIC-001",
	"severity": "medium",
	"path": ["spec", "http", i, "timeout"],
}

# The package has no warn rule: no warnings means the document is undefined.
_passes if {
	count(traffic_001.deny) == 0
	not traffic_001.warn
}

# --- deny: missing timeout ---------------------------------------------------

# RULES.md violating example.
test_deny_missing_timeout if {
	vs := _v1([_route])
	traffic_001.deny == {_missing(0, "15s")} with input as vs
	not traffic_001.warn with input as vs
}

test_deny_zero_timeout if {
	traffic_001.deny == {_missing(0, "15s")} with input as _vs("networking.istio.io/v1beta1", [_timed("0s")])
}

# `timeout:` with no value (YAML null) is as absent as a missing key.
test_deny_null_timeout if {
	traffic_001.deny == {_missing(0, "15s")} with input as _v1([_timed(null)])
}

# A timeout of false is no timeout either (a YAML slip).
test_deny_false_timeout if {
	traffic_001.deny == {_missing(0, "15s")} with input as _v1([_timed(false)])
}

test_deny_each_route_without_timeout if {
	http := [_timed("10s"), _route, {"redirect": {"uri": "/v2"}}, _timed("0s")]
	traffic_001.deny == {_missing(1, "15s"), _missing(3, "15s")} with input as _v1(http)
}

# --- deny: timeout above the maximum -----------------------------------------

test_deny_timeout_above_max if {
	traffic_001.deny == {_too_long(0, "90s", "60s")} with input as _vs("networking.istio.io/v1alpha3", [_timed("90s")])
}

test_deny_timeout_above_max_other_spelling if {
	traffic_001.deny == {_too_long(1, "1m0.5s", "60s")} with input as _v1([_timed("5s"), _timed("1m0.5s")])
}

test_allow_timeout_at_max if {
	_passes with input as _v1([_timed("60s"), _timed("1m"), _timed("59.999s")])
}

# --- allow -------------------------------------------------------------------

# RULES.md compliant example.
test_allow_timeout_set if {
	_passes with input as _v1([_timed("10s")])
}

test_allow_timeout_set_v1alpha3 if {
	_passes with input as _vs("networking.istio.io/v1alpha3", [_timed("15s")])
}

# Only routes that forward need a timeout.
test_allow_non_forwarding_routes if {
	http := [
		{"redirect": {"uri": "/v2", "authority": "ratings.example.com"}},
		{"directResponse": {"status": 503}},
		{"delegate": {"name": "ratings-delegate", "namespace": "prod"}},
	]
	_passes with input as _v1(http)
}

test_allow_delegate_with_route_fields if {
	_passes with input as _v1([object.union(_route, {"delegate": {"name": "ratings-delegate"}})])
}

test_allow_tcp_only if {
	vs := json.patch(json.remove(_v1([]), ["spec/http"]), [{"op": "add", "path": "/spec/tcp", "value": [{"route": [{"destination": {"host": "db"}}]}]}])
	not vs.spec.http
	vs.spec.tcp
	_passes with input as vs
}

# The timeout the mutating webhook adds satisfies the rule.
test_allow_mutation_default if {
	_passes with input as _v1([_timed(config.params.route.defaultTimeout)])
}

# --- config override ---------------------------------------------------------

test_deny_config_max_and_default_timeout if {
	cfg := {"route": {"maxTimeout": "30s", "defaultTimeout": "20s"}}
	traffic_001.deny == {_too_long(0, "45s", "30s"), _missing(1, "20s")} with input as _v1([_timed("45s"), _route])
		with data.meshguard.config as cfg
	_passes with input as _v1([_timed("45s")])
}

test_deny_config_override_keeps_other_defaults if {
	traffic_001.deny == {_missing(0, "15s"), _too_long(1, "3m", "2m")} with input as _v1([_route, _timed("3m")])
		with data.meshguard.config as {"route": {"maxTimeout": "2m"}}
}

# --- kind guard and front doors ----------------------------------------------

test_allow_wrong_kind if {
	_passes with input as object.union(_v1([_route]), {"kind": "DestinationRule"})
}

test_allow_gateway_api_route if {
	_passes with input as object.union(_v1([_route]), {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute"})
}

test_deny_missing_timeout_admission_review if {
	vs := _v1([_route, _timed("2m")])
	bare := traffic_001.deny with input as vs
	reviewed := traffic_001.deny with input as _review(vs)
	bare == {_missing(0, "15s"), _too_long(1, "2m", "60s")}
	reviewed == bare
}

test_deny_missing_timeout_engine_indexed if {
	traffic_001.deny == {_missing(0, "15s")} with input as _v1([_route]) with data.meshguard.engine.indexed as true
}

# --- mutation ----------------------------------------------------------------

test_mutate_adds_default_timeout_to_routes_without_one if {
	traffic_001.mutate == {
		{"path": ["spec", "http", 0, "timeout"], "value": "15s"},
		{"path": ["spec", "http", 2, "timeout"], "value": "15s"},
	} with input as _v1([_route, _timed("5s"), _route, {"redirect": {"uri": "/x"}}])
}

test_mutate_uses_configured_default if {
	traffic_001.mutate == {{"path": ["spec", "http", 0, "timeout"], "value": "7s"}} with input as _review(_v1([_route]))
		with data.meshguard.config as {"route": {"defaultTimeout": "7s"}}
}

test_mutate_keeps_explicit_values_even_zero if {
	traffic_001.mutate == set() with input as _v1([_timed("0s"), _timed("10s"), _timed("2m")])
}

test_mutate_treats_null_as_absent if {
	traffic_001.mutate == {{"path": ["spec", "http", 0, "timeout"], "value": "15s"}} with input as _v1([_timed(null)])
}

test_mutate_skips_non_forwarding_and_delegate_routes if {
	http := [
		{"redirect": {"uri": "/v2"}},
		{"directResponse": {"status": 503}},
		{"delegate": {"name": "ratings-delegate", "namespace": "prod"}},
		object.union(_route, {"delegate": {"name": "ratings-delegate"}}),
	]
	traffic_001.mutate == set() with input as _v1(http)
}

test_mutate_nothing_for_other_kinds if {
	traffic_001.mutate == set() with input as object.union(_v1([_route]), {"kind": "DestinationRule"})
	traffic_001.mutate == set() with input as object.union(_v1([_route]), {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute"})
}

# What the mutation adds satisfies the deny rule (default and configured).
test_mutate_result_passes if {
	vs := _v1([_route, _timed("5s"), _route])
	patched := json.patch(vs, [{"op": "add", "path": sprintf("/spec/http/%d/timeout", [m.path[2]]), "value": m.value} |
		some m in traffic_001.mutate with input as vs
	])
	_passes with input as patched
}
