package meshguard.consul.traffic_001_test

import data.meshguard.consul.traffic_001

_obj(kind, spec) := {
	"apiVersion": "consul.hashicorp.com/v1alpha1",
	"kind": kind,
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": spec,
}

_router(destination) := _obj("ServiceRouter", {"routes": [
	{"match": {"http": {"pathPrefix": "/health"}}},
	{"match": {"http": {"pathPrefix": "/api"}}, "destination": destination},
]})

_ids(fs) := {[f.id, f.severity, f.path] | some f in fs}

_resolvers(spec) := {"ServiceResolver.consul.hashicorp.com": {"other": {"api": _obj("ServiceResolver", spec)}}}

test_warn_and_deny_numretries if {
	warned := _router({"service": "api", "numRetries": 5, "requestTimeout": "10s"})
	_ids(traffic_001.warn) == {["CONSUL-TRAFFIC-001", "medium", ["spec", "routes", 1, "destination", "numRetries"]]} with input as warned
	{f.msg | some f in traffic_001.warn} == {"CONSUL-TRAFFIC-001: ServiceRouter shop/web route 1 retries 5 times, above the maximum 3"} with input as warned
	traffic_001.deny == set() with input as warned
	denied := _router({"service": "api", "numRetries": 10, "requestTimeout": "10s"})
	_ids(traffic_001.deny) == {["CONSUL-TRAFFIC-001", "medium", ["spec", "routes", 1, "destination", "numRetries"]]} with input as denied
	{f.msg | some f in traffic_001.deny} == {"CONSUL-TRAFFIC-001: ServiceRouter shop/web route 1 retries 10 times, more than twice the maximum 3"} with input as denied
	traffic_001.warn == set() with input as denied
	traffic_001.deny == set() with input as denied with data.meshguard.config as {"retry": {"maxAttempts": 10}}
}

test_retry_filter_numretries if {
	_ids(traffic_001.deny) == {["CONSUL-TRAFFIC-001", "medium", ["spec", "numRetries"]]} with input as _obj("RouteRetryFilter", {"numRetries": 7})
	_ids(traffic_001.warn) == {["CONSUL-TRAFFIC-001", "medium", ["spec", "numRetries"]]} with input as _obj("RouteRetryFilter", {"numRetries": 4})
	traffic_001.warn == set() with input as _obj("RouteRetryFilter", {"numRetries": 3, "retryOnConnectFailure": true})
}

test_warn_retries_without_request_timeout if {
	every d in [{"service": "api", "numRetries": 2}, {"service": "api", "retryOnConnectFailure": true}, {"service": "api", "retryOn": ["reset"]}, {"service": "api", "retryOnStatusCodes": [503]}] {
		_ids(traffic_001.warn) == {["CONSUL-TRAFFIC-001", "medium", ["spec", "routes", 1, "destination"]]} with input as _router(d)
	}
	{f.msg | some f in traffic_001.warn} == {"CONSUL-TRAFFIC-001: ServiceRouter shop/web route 1 retries without a requestTimeout, and no ServiceResolver api sets one, so the retries are unbounded in time; set requestTimeout (for example 15s)"} with input as _router({"service": "api", "numRetries": 2})
	traffic_001.warn == set() with input as _router({"service": "api", "numRetries": 2}) with data.inventory.objects as _resolvers({"requestTimeout": "10s"})
	_ids(traffic_001.warn) == {["CONSUL-TRAFFIC-001", "medium", ["spec", "routes", 1, "destination"]]} with input as _router({"service": "api", "numRetries": 2}) with data.inventory.objects as _resolvers({"connectTimeout": "5s"})
	traffic_001.warn == set() with input as _router({"service": "api", "numRetries": 2}) with data.meshguard.engine.inventory as false
	traffic_001.warn == set() with input as _router({"service": "api", "numRetries": 0})
}

test_destination_service_defaults_to_the_router if {
	{f.msg | some f in traffic_001.warn} == {"CONSUL-TRAFFIC-001: ServiceRouter shop/web route 1 retries without a requestTimeout, and no ServiceResolver web sets one, so the retries are unbounded in time; set requestTimeout (for example 15s)"} with input as _router({"numRetries": 1})
}

test_warn_zero_request_timeouts if {
	_ids(traffic_001.warn) == {["CONSUL-TRAFFIC-001", "medium", ["spec", "routes", 1, "destination", "requestTimeout"]]} with input as _router({"service": "api", "requestTimeout": "0s"})
	_ids(traffic_001.warn) == {["CONSUL-TRAFFIC-001", "medium", ["spec", "requestTimeout"]]} with input as _obj("ServiceResolver", {"requestTimeout": "0s"})
	obj := _obj("RouteTimeoutFilter", {"requestTimeout": "0s", "idleTimeout": "30s"})
	_ids(traffic_001.warn) == {["CONSUL-TRAFFIC-001", "medium", ["spec", "requestTimeout"]]} with input as obj
	{f.msg | some f in traffic_001.warn} == {"CONSUL-TRAFFIC-001: RouteTimeoutFilter shop/web sets requestTimeout 0s, which disables the timeout; set a bound (for example 15s)"} with input as obj
	traffic_001.warn == set() with input as _obj("RouteTimeoutFilter", {"requestTimeout": "10s"})
	traffic_001.warn == set() with input as _obj("ServiceResolver", {"requestTimeout": "1m"})
}

test_warn_http_service_defaults_without_limits_or_health_checks if {
	obj := _obj("ServiceDefaults", {"protocol": "http"})
	_ids(traffic_001.warn) == {
		["CONSUL-TRAFFIC-001", "medium", ["spec", "upstreamConfig", "defaults", "limits"]],
		["CONSUL-TRAFFIC-001", "medium", ["spec", "upstreamConfig", "defaults", "passiveHealthCheck"]],
	} with input as obj
	"CONSUL-TRAFFIC-001: ServiceDefaults shop/web (protocol http) sets no upstreamConfig.defaults.limits, so its upstreams have no connection or request limits" in {f.msg | some f in traffic_001.warn} with input as obj
	_ids(traffic_001.warn) == {["CONSUL-TRAFFIC-001", "medium", ["spec", "upstreamConfig", "defaults", "passiveHealthCheck"]]} with input as _obj("ServiceDefaults", {"protocol": "grpc", "upstreamConfig": {"defaults": {"limits": {"maxConnections": 100}, "passiveHealthCheck": {}}}})
	traffic_001.warn == set() with input as _obj("ServiceDefaults", {"protocol": "http2", "upstreamConfig": {"defaults": {"limits": {"maxConnections": 100}, "passiveHealthCheck": {"interval": "10s", "maxFailures": 5}}}})
	traffic_001.warn == set() with input as _obj("ServiceDefaults", {"protocol": "tcp"})
	traffic_001.warn == set() with input as _obj("ServiceDefaults", {})
}

test_allow_bounded_router if {
	obj := _router({"service": "api", "numRetries": 2, "retryOnConnectFailure": true, "requestTimeout": "10s"})
	traffic_001.warn == set() with input as obj
	traffic_001.deny == set() with input as obj
}

test_mutate_adds_resolver_request_timeout if {
	traffic_001.mutate == {{"path": ["spec", "requestTimeout"], "value": "15s"}} with input as _obj("ServiceResolver", {"connectTimeout": "5s"})
	traffic_001.mutate == set() with input as _obj("ServiceResolver", {"requestTimeout": "0s"})
	traffic_001.mutate == set() with input as _router({})
}

test_other_kinds_are_not_judged if {
	traffic_001.warn == set() with input as {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "spec": {"requestTimeout": "0s"}}
}

# The engine has matched the kind already (kube.indexed).
test_warn_when_engine_indexed if {
	_ids(traffic_001.warn) == {["CONSUL-TRAFFIC-001", "medium", ["spec", "numRetries"]]} with input as _obj("RouteRetryFilter", {"numRetries": 4})
		with data.meshguard.engine.indexed as true
}
