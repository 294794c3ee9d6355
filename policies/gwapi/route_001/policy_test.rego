package meshguard.gwapi.route_001_test

import data.meshguard.gwapi.route_001

_route(rules) := {
	"apiVersion": "gateway.networking.k8s.io/v1",
	"kind": "HTTPRoute",
	"metadata": {"name": "reviews", "namespace": "bookinfo"},
	"spec": {"parentRefs": [{"group": "", "kind": "Service", "name": "reviews", "port": 9080}], "rules": rules},
}

_backend := [{"name": "reviews-v2", "port": 9080}]

_redirect := {"filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}]}

_ids(fs) := {[f.id, f.severity, f.path] | some f in fs}

test_warn_forwarding_rule_without_request_timeout if {
	every rule in [
		{"backendRefs": _backend},
		{"backendRefs": _backend, "timeouts": {}},
		{"backendRefs": _backend, "timeouts": {"backendRequest": "3s"}},
		{"backendRefs": _backend, "timeouts": {"request": "0s"}},
	] {
		_ids(route_001.warn) == {["GWAPI-ROUTE-001", "medium", ["spec", "rules", 1]]} with input as _route([{"backendRefs": _backend, "timeouts": {"request": "10s"}}, rule])
	}
	{f.msg | some f in route_001.warn} == {"GWAPI-ROUTE-001: HTTPRoute bookinfo/reviews rule 0 sets no timeouts.request, so how long a request may take is up to the implementation; set one (default 15s)"} with input as _route([{"backendRefs": _backend}])
}

test_skip_redirects_and_rules_without_backends if {
	route_001.warn == set() with input as _route([_redirect, {"matches": [{"path": {"value": "/"}}]}])
	route_001.warn == set() with input as _route([object.union(_redirect, {"backendRefs": _backend})])
}

test_linkerd_annotation_counts_as_timeout if {
	obj := json.patch(_route([{"backendRefs": _backend}]), [{"op": "add", "path": "/metadata/annotations", "value": {"timeout.linkerd.io/request": "5s"}}])
	route_001.warn == set() with input as obj
	route_001.mutate == set() with input as obj
}

test_deny_timeout_above_max if {
	obj := _route([{"backendRefs": _backend, "timeouts": {"request": "1h30m"}}])
	_ids(route_001.deny) == {["GWAPI-ROUTE-001", "medium", ["spec", "rules", 0, "timeouts", "request"]]} with input as obj
	{f.msg | some f in route_001.deny} == {"GWAPI-ROUTE-001: HTTPRoute bookinfo/reviews rule 0 has timeouts.request 1h30m, above the maximum 60s"} with input as obj
	route_001.warn == set() with input as obj
	route_001.deny == set() with input as obj with data.meshguard.config as {"route": {"maxTimeout": "2h"}}
}

test_linkerd_httproute_is_judged_not_mutated if {
	obj := json.patch(_route([{"backendRefs": _backend}]), [{"op": "replace", "path": "/apiVersion", "value": "policy.linkerd.io/v1beta3"}])
	_ids(route_001.warn) == {["GWAPI-ROUTE-001", "medium", ["spec", "rules", 0]]} with input as obj
	route_001.mutate == set() with input as obj
}

test_allow_bounded_timeout if {
	obj := _route([{"backendRefs": _backend, "timeouts": {"request": "10s", "backendRequest": "3s"}}])
	route_001.warn == set() with input as obj
	route_001.deny == set() with input as obj
	route_001.mutate == set() with input as obj
}

test_mutate_adds_default_request_timeout if {
	route_001.mutate == {
		{"path": ["spec", "rules", 0, "timeouts", "request"], "value": "15s"},
		{"path": ["spec", "rules", 2, "timeouts", "request"], "value": "15s"},
	} with input as _route([{"backendRefs": _backend}, _redirect, {"backendRefs": _backend, "timeouts": {"backendRequest": "3s"}}, {"backendRefs": _backend, "timeouts": {"request": "0s"}}])
	route_001.mutate == set() with input as _route([{"backendRefs": _backend, "timeouts": {"backendRequest": "20s"}}])
}

# A redirecting rule is not mutated even when it lists backends.
test_mutate_skips_redirects_with_backends if {
	route_001.mutate == {{"path": ["spec", "rules", 1, "timeouts", "request"], "value": "15s"}} with input as _route([object.union(_redirect, {"backendRefs": _backend}), {"backendRefs": _backend}])
	_ids(route_001.warn) == {["GWAPI-ROUTE-001", "medium", ["spec", "rules", 1]]} with input as _route([object.union(_redirect, {"backendRefs": _backend}), {"backendRefs": _backend}])
}

test_other_kinds_are_not_judged if {
	route_001.warn == set() with input as {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GRPCRoute", "metadata": {"name": "g"}, "spec": {"rules": [{"backendRefs": _backend}]}}
}

# The engine has matched the kind already (kube.indexed).
test_warn_when_engine_indexed if {
	_ids(route_001.warn) == {["GWAPI-ROUTE-001", "medium", ["spec", "rules", 0]]} with input as _route([{"backendRefs": _backend}])
		with data.meshguard.engine.indexed as true
}
