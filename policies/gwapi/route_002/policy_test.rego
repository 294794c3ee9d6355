package meshguard.gwapi.route_002_test

import data.meshguard.gwapi.route_002

_route(rules) := {
	"apiVersion": "gateway.networking.k8s.io/v1",
	"kind": "HTTPRoute",
	"metadata": {"name": "orders", "namespace": "shop"},
	"spec": {"parentRefs": [{"group": "", "kind": "Service", "name": "orders", "port": 8080}], "rules": rules},
}

_backend := [{"name": "orders", "port": 8080}]

_timeouts := {"request": "10s", "backendRequest": "3s"}

_ids(fs) := {[f.id, f.severity, f.path] | some f in fs}

test_deny_attempts_above_max if {
	obj := _route([{"backendRefs": _backend, "retry": {"attempts": 8, "codes": [503]}, "timeouts": {"request": "10s"}}])
	_ids(route_002.deny) == {["GWAPI-ROUTE-002", "medium", ["spec", "rules", 0, "retry", "attempts"]]} with input as obj
	{f.msg | some f in route_002.deny} == {"GWAPI-ROUTE-002: HTTPRoute shop/orders rule 0 retries 8 times, above the maximum 3"} with input as obj
	route_002.warn == set() with input as obj
	route_002.deny == set() with input as obj with data.meshguard.config as {"retry": {"maxAttempts": 8}}
}

test_warn_retry_without_request_timeout if {
	every rule in [
		{"backendRefs": _backend, "retry": {"attempts": 2}},
		{"backendRefs": _backend, "retry": {"attempts": 2}, "timeouts": {"request": "0s"}},
	] {
		_ids(route_002.warn) == {["GWAPI-ROUTE-002", "medium", ["spec", "rules", 0, "retry"]]} with input as _route([rule])
	}
	{f.msg | some f in route_002.warn} == {"GWAPI-ROUTE-002: HTTPRoute shop/orders rule 0 retries without timeouts.request, so retries may go on as long as the implementation allows; set one"} with input as _route([{"backendRefs": _backend, "retry": {"attempts": 2}}])
}

test_warn_tries_longer_than_request_timeout if {
	obj := _route([{"backendRefs": _backend, "retry": {"attempts": 3}, "timeouts": {"request": "10s", "backendRequest": "3s"}}])
	_ids(route_002.warn) == {["GWAPI-ROUTE-002", "medium", ["spec", "rules", 0, "retry", "attempts"]]} with input as obj
	{f.msg | some f in route_002.warn} == {"GWAPI-ROUTE-002: HTTPRoute shop/orders rule 0: (1 + 3 attempts) x backendRequest 3s exceeds timeouts.request 10s, so the last tries never run"} with input as obj
	route_002.warn == set() with input as _route([{"backendRefs": _backend, "retry": {"attempts": 2}, "timeouts": _timeouts}])
}

test_warn_unsafe_codes_on_non_read_only_rules if {
	obj := _route([{"backendRefs": _backend, "retry": {"attempts": 2, "codes": [504, 500, 502]}, "timeouts": _timeouts}])
	_ids(route_002.warn) == {["GWAPI-ROUTE-002", "medium", ["spec", "rules", 0, "retry", "codes"]]} with input as obj
	{f.msg | some f in route_002.warn} == {"GWAPI-ROUTE-002: HTTPRoute shop/orders rule 0 retries on status [500], which can repeat requests that already had side effects; restrict the rule to GET/HEAD/OPTIONS or retry only on 502, 503, 504"} with input as obj
	_ids(route_002.warn) == {["GWAPI-ROUTE-002", "medium", ["spec", "rules", 0, "retry", "codes"]]} with input as _route([{"matches": [{"method": "GET"}, {"method": "POST"}], "backendRefs": _backend, "retry": {"attempts": 2, "codes": [500]}, "timeouts": _timeouts}])
	_ids(route_002.warn) == {["GWAPI-ROUTE-002", "medium", ["spec", "rules", 0, "retry", "codes"]]} with input as _route([{"matches": [{"path": {"value": "/"}}], "backendRefs": _backend, "retry": {"attempts": 2, "codes": [500]}, "timeouts": _timeouts}])
	route_002.warn == set() with input as _route([{"matches": [{"method": "GET"}, {"method": "HEAD"}], "backendRefs": _backend, "retry": {"attempts": 2, "codes": [500, 503]}, "timeouts": _timeouts}])
}

test_allow_bounded_retry if {
	obj := _route([
		{"matches": [{"method": "GET"}], "backendRefs": _backend, "retry": {"attempts": 2, "backoff": "100ms", "codes": [502, 503, 504]}, "timeouts": _timeouts},
		{"backendRefs": _backend},
	])
	route_002.deny == set() with input as obj
	route_002.warn == set() with input as obj
}

test_other_kinds_are_not_judged if {
	route_002.deny == set() with input as {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "spec": {"rules": [{"retry": {"attempts": 9}}]}}
}

# The engine has matched the kind already (kube.indexed).
test_deny_when_engine_indexed if {
	_ids(route_002.deny) == {["GWAPI-ROUTE-002", "medium", ["spec", "rules", 0, "retry", "attempts"]]} with input as _route([{"backendRefs": _backend, "retry": {"attempts": 8}, "timeouts": _timeouts}])
		with data.meshguard.engine.indexed as true
}
