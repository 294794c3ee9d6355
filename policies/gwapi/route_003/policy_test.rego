package meshguard.gwapi.route_003_test

import data.meshguard.gwapi.route_003

_route(annotations, parents) := {
	"apiVersion": "gateway.networking.k8s.io/v1",
	"kind": "GRPCRoute",
	"metadata": {"name": "emoji", "namespace": "emojivoto", "annotations": annotations},
	"spec": {"parentRefs": parents, "rules": [{"backendRefs": [{"name": "emoji-svc", "port": 8080}]}]},
}

_svc := {"group": "core", "kind": "Service", "name": "emoji-svc", "port": 8080}

_ns(name, labels, annotations) := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels, "annotations": annotations}}

_linkerd := {"emojivoto": _ns("emojivoto", {}, {"linkerd.io/inject": "enabled"})}

_istio := {"emojivoto": _ns("emojivoto", {"istio-injection": "enabled"}, {})}

_ambient := {"emojivoto": _ns("emojivoto", {"istio.io/dataplane-mode": "ambient"}, {})}

_ids(fs) := {[f.id, f.severity, f.path] | some f in fs}

test_warn_linkerd_route_without_timeout if {
	obj := _route({}, [_svc])
	_ids(route_003.warn) == {["GWAPI-ROUTE-003", "medium", ["metadata", "annotations"]]} with input as obj with data.inventory.namespaces as _linkerd
	{f.msg | some f in route_003.warn} == {"GWAPI-ROUTE-003: GRPCRoute emojivoto/emoji routes gRPC for Service emojivoto/emoji-svc, meshed by Linkerd, without timeout.linkerd.io/request or /response; GRPCRoute has no timeouts field, so set the annotation (default 15s)"} with input as obj with data.inventory.namespaces as _linkerd

	# Without a group, the parent is a gateway.networking.k8s.io kind, not a Service.
	route_003.warn == set() with input as _route({}, [{"kind": "Service", "name": "emoji-svc"}]) with data.inventory.namespaces as _linkerd
	_ids(route_003.warn) == {["GWAPI-ROUTE-003", "medium", ["metadata", "annotations"]]} with input as _route({}, [{"group": "", "kind": "Service", "name": "emoji-svc", "namespace": "other"}]) with data.inventory.namespaces as {"other": _linkerd.emojivoto}
}

test_allow_linkerd_route_with_timeout if {
	every k in ["timeout.linkerd.io/request", "timeout.linkerd.io/response"] {
		route_003.warn == set() with input as _route({k: "5s"}, [_svc]) with data.inventory.namespaces as _linkerd
		route_003.mutate == set() with input as _route({k: "5s"}, [_svc]) with data.inventory.namespaces as _linkerd
	}
}

test_no_finding_without_known_mesh if {
	route_003.warn == set() with input as _route({}, [_svc])
	route_003.warn == set() with input as _route({}, [_svc]) with data.inventory.namespaces as {"emojivoto": _ns("emojivoto", {}, {})}
	route_003.mutate == set() with input as _route({}, [_svc])
}

test_warn_istio_service_parent if {
	every namespaces in [_istio, _ambient] {
		_ids(route_003.warn) == {["GWAPI-ROUTE-003", "medium", ["spec", "parentRefs", 0]]} with input as _route({}, [_svc]) with data.inventory.namespaces as namespaces
	}
	{f.msg | some f in route_003.warn} == {"GWAPI-ROUTE-003: GRPCRoute emojivoto/emoji attaches to Service emojivoto/emoji-svc, managed by Istio, which has no per-route timeout for GRPCRoute; bound the calls on the server or in client deadlines, or use an HTTPRoute or VirtualService with a timeout"} with input as _route({}, [_svc]) with data.inventory.namespaces as _istio
	route_003.mutate == set() with input as _route({}, [_svc]) with data.inventory.namespaces as _istio
}

test_warn_istio_gateway_parent if {
	gateways := {"Gateway.gateway.networking.k8s.io": {"edge": {
		"public": {"metadata": {"name": "public", "namespace": "edge"}, "spec": {"gatewayClassName": "istio"}},
		"other": {"metadata": {"name": "other", "namespace": "edge"}, "spec": {"gatewayClassName": "eg"}},
	}}}
	obj := _route({}, [{"name": "other", "namespace": "edge"}, {"name": "public", "namespace": "edge", "sectionName": "grpc"}])
	_ids(route_003.warn) == {["GWAPI-ROUTE-003", "medium", ["spec", "parentRefs", 1]]} with input as obj with data.inventory.objects as gateways
	{f.msg | some f in route_003.warn} == {"GWAPI-ROUTE-003: GRPCRoute emojivoto/emoji attaches to Gateway edge/public (class istio), managed by Istio, which has no per-route timeout for GRPCRoute; bound the calls on the server or in client deadlines, or use an HTTPRoute or VirtualService with a timeout"} with input as obj with data.inventory.objects as gateways
	route_003.warn == set() with input as _route({}, [{"name": "missing", "namespace": "edge"}]) with data.inventory.objects as gateways
}

test_mutate_adds_linkerd_request_timeout if {
	route_003.mutate == {{"path": ["metadata", "annotations", "timeout.linkerd.io/request"], "value": "15s"}} with input as _route({}, [_svc]) with data.inventory.namespaces as _linkerd
}

test_other_kinds_are_not_judged if {
	route_003.warn == set() with input as object.union(_route({}, [_svc]), {"kind": "HTTPRoute"}) with data.inventory.namespaces as _linkerd
}

# The engine has matched the kind already (kube.indexed).
test_warn_when_engine_indexed if {
	_ids(route_003.warn) == {["GWAPI-ROUTE-003", "medium", ["metadata", "annotations"]]} with input as _route({}, [_svc]) with data.inventory.namespaces as _linkerd
		with data.meshguard.engine.indexed as true
}
