package meshguard.linkerd.traffic_001_test

import data.meshguard.linkerd.traffic_001

_route(annotations, rules) := {
	"apiVersion": "gateway.networking.k8s.io/v1",
	"kind": "HTTPRoute",
	"metadata": {"name": "schlep", "namespace": "schlep", "annotations": annotations},
	"spec": {"parentRefs": [{"name": "schlep", "kind": "Service", "group": "core", "port": 80}], "rules": rules},
}

_grpc(annotations) := object.union(_route(annotations, [{}]), {"kind": "GRPCRoute"})

_policy_route(annotations, rules) := object.union(_route(annotations, rules), {"apiVersion": "policy.linkerd.io/v1beta3"})

_service(annotations) := {
	"apiVersion": "v1",
	"kind": "Service",
	"metadata": {"name": "schlep", "namespace": "schlep", "annotations": annotations},
	"spec": {"ports": [{"port": 80}]},
}

_get := [{"matches": [{"method": "GET"}], "backendRefs": [{"name": "schlep", "port": 80}]}]

_any := [{"backendRefs": [{"name": "schlep", "port": 80}]}]

_good := {"retry.linkerd.io/http": "502-504", "retry.linkerd.io/limit": "2", "retry.linkerd.io/timeout": "300ms", "timeout.linkerd.io/request": "2s"}

_f(msg, path) := {"msg": sprintf("LINKERD-TRAFFIC-001: %s", [msg]), "id": "LINKERD-TRAFFIC-001", "severity": "medium", "path": path}

_p(key) := ["metadata", "annotations", key]

test_allow_bounded_retries if {
	traffic_001.deny == set() with input as _route(_good, _any)
	traffic_001.warn == set() with input as _route(_good, _any)
	traffic_001.warn == set() with input as _route(object.union(_good, {"retry.linkerd.io/http": "5xx"}), _get)
	traffic_001.warn == set() with input as _service(_good)
	traffic_001.warn == set() with input as _grpc({"retry.linkerd.io/grpc": "unavailable", "retry.linkerd.io/timeout": "1s"})
	traffic_001.warn == set() with input as _route({}, _any)
}

test_deny_retry_annotation_of_the_other_protocol if {
	traffic_001.deny == {_f("GRPCRoute schlep/schlep sets retry.linkerd.io/http, which is not valid on a GRPCRoute (Linkerd ignores it); use retry.linkerd.io/grpc", _p("retry.linkerd.io/http"))} with input as _grpc({"retry.linkerd.io/http": "502", "retry.linkerd.io/timeout": "1s"})
	traffic_001.deny == {_f("HTTPRoute schlep/schlep sets retry.linkerd.io/grpc, which is not valid on an HTTPRoute (Linkerd ignores it); use retry.linkerd.io/http", _p("retry.linkerd.io/grpc"))} with input as _policy_route({"retry.linkerd.io/grpc": "unavailable", "retry.linkerd.io/timeout": "1s"}, _get)
	traffic_001.deny == set() with input as _service({"retry.linkerd.io/grpc": "unavailable", "retry.linkerd.io/http": "502", "retry.linkerd.io/timeout": "1s"})
}

test_deny_limits_over_the_maximum_or_malformed if {
	traffic_001.deny == {_f("HTTPRoute schlep/schlep retries 10 times, above the maximum 3", _p("retry.linkerd.io/limit"))} with input as _route(object.union(_good, {"retry.linkerd.io/limit": "10"}), _any)
	traffic_001.deny == {_f("HTTPRoute schlep/schlep: retry.linkerd.io/limit \"two\" is not a number", _p("retry.linkerd.io/limit"))} with input as _route(object.union(_good, {"retry.linkerd.io/limit": "two"}), _any)
	traffic_001.deny == set() with input as _route(object.union(_good, {"retry.linkerd.io/limit": "10"}), _any)
		with data.meshguard.config as {"retry": {"maxAttempts": 10}}
}

test_warn_retries_without_a_timeout if {
	traffic_001.warn == {_f("Service schlep/schlep retries without retry.linkerd.io/timeout, so each try may take the whole request timeout; set a per-try timeout", ["metadata", "annotations"])} with input as _service({"retry.linkerd.io/http": "502-504"})
	traffic_001.warn == {_f("GRPCRoute schlep/schlep retries without retry.linkerd.io/timeout, so each try may take the whole request timeout; set a per-try timeout", ["metadata", "annotations"])} with input as _grpc({"retry.linkerd.io/grpc": "unavailable"})
}

test_warn_tries_longer_than_the_request_timeout if {
	traffic_001.warn == {_f("HTTPRoute schlep/schlep: (1 + 2 retries) × 1s is longer than its request timeout 2s, so the last tries never run", _p("retry.linkerd.io/timeout"))} with input as _route(object.union(_good, {"retry.linkerd.io/timeout": "1s"}), _any)

	# The limit defaults to 1.
	traffic_001.warn == {_f("Service schlep/schlep: (1 + 1 retries) × 2s is longer than its request timeout 3s, so the last tries never run", _p("retry.linkerd.io/timeout"))} with input as _service({"retry.linkerd.io/http": "gateway-error", "retry.linkerd.io/timeout": "2s", "timeout.linkerd.io/request": "3s"})
	traffic_001.warn == set() with input as _service({"retry.linkerd.io/http": "gateway-error", "retry.linkerd.io/timeout": "1s", "timeout.linkerd.io/request": "2s"})
}

test_warn_unparsable_durations if {
	traffic_001.warn == {
		_f("Service schlep/schlep: timeout.linkerd.io/request \"soon\" is not a duration (Linkerd ignores it)", _p("timeout.linkerd.io/request")),
		_f("Service schlep/schlep: timeout.linkerd.io/idle \"10\" is not a duration (Linkerd ignores it)", _p("timeout.linkerd.io/idle")),
	} with input as _service({"timeout.linkerd.io/request": "soon", "timeout.linkerd.io/idle": "10", "timeout.linkerd.io/response": "5s"})
}

_msg5xx(v) := sprintf("HTTPRoute schlep/schlep retries 5xx responses (retry.linkerd.io/http %s) on requests that are not restricted to GET, HEAD or OPTIONS, which may repeat their side effects", [v])

test_warn_5xx_retries_on_requests_with_side_effects if {
	traffic_001.warn == {_f(_msg5xx("5xx"), _p("retry.linkerd.io/http"))} with input as _route(object.union(_good, {"retry.linkerd.io/http": "5xx"}), _any)
	traffic_001.warn == {_f(_msg5xx("429,500-599"), _p("retry.linkerd.io/http"))} with input as _route(object.union(_good, {"retry.linkerd.io/http": "429,500-599"}), array.concat(_get, _any))
	traffic_001.warn == {_f(_msg5xx("500"), _p("retry.linkerd.io/http"))} with input as _route(object.union(_good, {"retry.linkerd.io/http": "500"}), [{"matches": [{"method": "POST"}]}])
	traffic_001.warn == {_f(_msg5xx("5xx"), _p("retry.linkerd.io/http"))} with input as _route(object.union(_good, {"retry.linkerd.io/http": "5xx"}), [{"matches": [{"path": {"value": "/"}}]}])
	count(traffic_001.warn) == 1 with input as _service(object.union(_good, {"retry.linkerd.io/http": "5XX"}))

	# Read-only routes, and retries that leave out 500, are fine.
	traffic_001.warn == set() with input as _route(object.union(_good, {"retry.linkerd.io/http": "5xx"}), [{"matches": [{"method": "GET"}, {"method": "head"}]}])
	traffic_001.warn == set() with input as _route(object.union(_good, {"retry.linkerd.io/http": "501-599"}), _any)
}

test_warn_annotations_a_service_profile_overrides if {
	sp := {"apiVersion": "linkerd.io/v1alpha2", "kind": "ServiceProfile", "metadata": {"name": "schlep.schlep.svc.cluster.local", "namespace": "schlep"}}
	inv := {"namespaces": {}, "objects": {"ServiceProfile.linkerd.io": {"schlep": {sp.metadata.name: sp}}}}
	traffic_001.warn == {_f("HTTPRoute schlep/schlep sets retry or timeout annotations, but ServiceProfile schlep/schlep.schlep.svc.cluster.local covers the same Service and takes precedence, so they are ignored; configure one or the other", ["metadata", "annotations"])} with input as _route(_good, _any) with data.inventory as inv
	traffic_001.warn == {_f("Service schlep/schlep sets retry or timeout annotations, but ServiceProfile schlep/schlep.schlep.svc.cluster.local covers the same Service and takes precedence, so they are ignored; configure one or the other", ["metadata", "annotations"])} with input as _service({"timeout.linkerd.io/request": "2s"}) with data.inventory as inv

	# No annotations, or a profile of another Service: nothing to say.
	traffic_001.warn == set() with input as _service({}) with data.inventory as inv
	other := {"namespaces": {}, "objects": {"ServiceProfile.linkerd.io": {"schlep": {"web.schlep.svc.cluster.local": sp}}}}
	traffic_001.warn == set() with input as _route(_good, _any) with data.inventory as other
}

test_other_kinds_are_not_judged if {
	traffic_001.deny == set() with input as object.union(_route({"retry.linkerd.io/limit": "10"}, _any), {"kind": "Gateway"})
}
