package meshguard.linkerd.inj_003_test

import data.meshguard.linkerd.inj_003

_key := "config.linkerd.io/opaque-ports"

_pod(annotations, ports) := {
	"apiVersion": "v1",
	"kind": "Pod",
	"metadata": {"name": "api", "namespace": "emojivoto", "annotations": annotations},
	"spec": {"containers": [{"name": "api", "image": "registry.example.com/api:1.0", "ports": ports}]},
}

_service(annotations) := {
	"apiVersion": "v1",
	"kind": "Service",
	"metadata": {"name": "api", "namespace": "emojivoto", "annotations": annotations},
	"spec": {"ports": [{"port": 80}]},
}

_ns(annotations) := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "emojivoto", "annotations": annotations}}

_server(protocol) := {
	"apiVersion": "policy.linkerd.io/v1beta3",
	"kind": "Server",
	"metadata": {"name": "redis", "namespace": "emojivoto"},
	"spec": {"podSelector": {"matchLabels": {"app": "redis"}}, "port": 6379, "proxyProtocol": protocol},
}

_route(kind, api_version, parent) := {
	"apiVersion": api_version,
	"kind": kind,
	"metadata": {"name": "redis-route", "namespace": "emojivoto"},
	"spec": {"parentRefs": [{"kind": "Server", "name": parent}]},
}

_ap(target) := {
	"apiVersion": "policy.linkerd.io/v1alpha1",
	"kind": "AuthorizationPolicy",
	"metadata": {"name": "redis-route", "namespace": "emojivoto"},
	"spec": {"targetRef": target, "requiredAuthenticationRefs": [{"kind": "ServiceAccount", "name": "web"}]},
}

_inv(objs) := {"namespaces": {}, "objects": {key: {"emojivoto": {o.metadata.name: o | some o in objs; _key_of(o) == key}} |
	some o1 in objs
	key := _key_of(o1)
}}

_key_of(o) := sprintf("%s.%s", [o.kind, split(o.apiVersion, "/")[0]])

_f(msg, path) := {"msg": sprintf("LINKERD-INJ-003: %s", [msg]), "id": "LINKERD-INJ-003", "severity": "medium", "path": path}

test_deny_malformed_lists if {
	inj_003.deny == {_f("Pod emojivoto/api: config.linkerd.io/opaque-ports \"8080,abc_def,70000,9-3,1-2-3,0\" has items that are not a port, a range a-b or a port name: abc_def, 70000, 9-3, 1-2-3, 0", ["metadata", "annotations", _key])} with input as _pod({_key: "8080,abc_def,70000,9-3,1-2-3,0"}, [])
	inj_003.deny == {_f("Namespace emojivoto: config.linkerd.io/opaque-ports \"http!\" has items that are not a port, a range a-b or a port name: http!", ["metadata", "annotations", _key])} with input as _ns({_key: "http!"})
}

test_allow_ports_ranges_and_names if {
	inj_003.deny == set() with input as _pod({_key: "3306, 4000-4100,redis"}, [])
	inj_003.warn == set() with input as _pod({_key: "3306, 4000-4100,redis"}, [])
	inj_003.deny == set() with input as _service({_key: "6379"})
	inj_003.deny == set() with input as _service({})
	inj_003.warn == set() with input as _ns({_key: ""})
}

test_warn_wide_ranges if {
	inj_003.warn == {_f("Service emojivoto/api: config.linkerd.io/opaque-ports marks 1-65535 opaque, more than 1000 ports, so HTTP authorization, retries and timeouts no longer apply to them; list only the opaque ports", ["metadata", "annotations", _key])} with input as _service({_key: "1-65535"})
	inj_003.warn == set() with input as _service({_key: "1000-1999"})
	count(inj_003.warn) == 1 with input as _service({_key: "1000-2000"})
	egress := {"apiVersion": "policy.linkerd.io/v1alpha1", "kind": "EgressNetwork", "metadata": {"name": "all", "namespace": "linkerd-egress", "annotations": {_key: "1-2000"}}, "spec": {"trafficPolicy": "Deny"}}
	count(inj_003.warn) == 1 with input as egress
}

test_warn_pod_list_that_drops_exposed_default_ports if {
	inj_003.warn == {_f("Pod emojivoto/api: config.linkerd.io/opaque-ports \"8080\" replaces the default opaque ports but leaves out 3306, 5432, which a container exposes; protocol detection then stalls on server-first traffic there", ["metadata", "annotations", _key])} with input as _pod({_key: "8080"}, [{"containerPort": 8080}, {"containerPort": 5432}, {"containerPort": 3306}])

	# Kept by number, range or name: fine; no annotation: the defaults apply.
	inj_003.warn == set() with input as _pod({_key: "8080,5432"}, [{"containerPort": 5432}])
	inj_003.warn == set() with input as _pod({_key: "5000-5500"}, [{"containerPort": 5432}])
	inj_003.warn == set() with input as _pod({_key: "postgres"}, [{"containerPort": 5432, "name": "postgres"}])
	inj_003.warn == set() with input as _pod({}, [{"containerPort": 5432}])
	inj_003.warn == set() with input as _pod({_key: "8080"}, [{"containerPort": 9090}])

	# The defaults are a parameter.
	count(inj_003.warn) == 1 with input as _pod({_key: "8080"}, [{"containerPort": 9090}])
		with data.meshguard.config as {"linkerd": {"defaultOpaquePorts": "9000-9100"}}
}

test_warn_opaque_server_with_route_authorizations if {
	inv := _inv([
		_route("HTTPRoute", "policy.linkerd.io/v1beta3", "redis"),
		_ap({"group": "policy.linkerd.io", "kind": "HTTPRoute", "name": "redis-route"}),
	])
	inj_003.warn == {_f("Server emojivoto/redis is opaque, so the AuthorizationPolicies of its routes (HTTPRoute redis-route) never match its traffic; authorize the Server itself or detect the protocol", ["spec", "proxyProtocol"])} with input as _server("opaque") with data.inventory as inv
	inj_003.warn == set() with input as _server("HTTP/1") with data.inventory as inv
	inj_003.warn == set() with input as _server("opaque") with data.inventory as inv with data.meshguard.engine.inventory as false

	grpc := _inv([
		_route("GRPCRoute", "gateway.networking.k8s.io/v1", "redis"),
		_ap({"kind": "GRPCRoute", "name": "redis-route"}),
	])
	count(inj_003.warn) == 1 with input as _server("opaque") with data.inventory as grpc
}

test_server_annotation_is_not_judged if {
	inj_003.deny == set() with input as object.union(_server("opaque"), {"metadata": {"annotations": {_key: "http!"}}})
}

test_allow_opaque_server_authorized_directly if {
	inj_003.warn == set() with input as _server("opaque") with data.inventory as _inv([_ap({"group": "policy.linkerd.io", "kind": "Server", "name": "redis"})])

	# A route of another Server, or a policy for a route of another group.
	other := _inv([
		_route("HTTPRoute", "policy.linkerd.io/v1beta3", "web"),
		_ap({"group": "policy.linkerd.io", "kind": "HTTPRoute", "name": "redis-route"}),
	])
	inj_003.warn == set() with input as _server("opaque") with data.inventory as other
	group := _inv([
		_route("HTTPRoute", "policy.linkerd.io/v1beta3", "redis"),
		_ap({"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": "redis-route"}),
	])
	inj_003.warn == set() with input as _server("opaque") with data.inventory as group
}

test_other_kinds_are_not_judged if {
	inj_003.deny == set() with input as object.union(_service({_key: "x!"}), {"kind": "ConfigMap"})
}
