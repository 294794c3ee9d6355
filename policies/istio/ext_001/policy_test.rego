package meshguard.istio.ext_001_test

import data.meshguard.istio.ext_001

_ef(namespace, spec) := {
	"apiVersion": "networking.istio.io/v1alpha3",
	"kind": "EnvoyFilter",
	"metadata": {"name": "drop-rbac", "namespace": namespace},
	"spec": spec,
}

_selector := {"workloadSelector": {"labels": {"app": "shop"}}}

_http_filter(sub, op) := {
	"applyTo": "HTTP_FILTER",
	"match": {"context": "SIDECAR_INBOUND", "listener": {"filterChain": {"filter": {
		"name": "envoy.filters.network.http_connection_manager",
		"subFilter": {"name": sub},
	}}}},
	"patch": {"operation": op},
}

_f(severity, msg, path) := {"msg": sprintf("ISTIO-EXT-001: %s", [msg]), "id": "ISTIO-EXT-001", "severity": severity, "path": path}

_sub_path(i) := ["spec", "configPatches", i, "match", "listener", "filterChain", "filter", "subFilter", "name"]

_outside(ns) := _f("high", sprintf("EnvoyFilter %s/drop-rbac is in namespace %s; EnvoyFilters are allowed only in istio-system", [ns, ns]), ["metadata", "namespace"])

_security(ns, i, op, name) := sprintf("EnvoyFilter %s/drop-rbac configPatches[%d] applies %s to the security filter %s, which can remove or bypass authentication or authorization", [ns, i, op, name])

# RULES.md violating example: an app namespace, and the RBAC filter removed.
test_deny_app_namespace_and_rbac_removal if {
	ef := _ef("shop", {"configPatches": [_http_filter("envoy.filters.http.rbac", "REMOVE")]})
	ext_001.deny == {
		_outside("shop"),
		_f("critical", _security("shop", 0, "REMOVE", "envoy.filters.http.rbac"), _sub_path(0)),
	} with input as ef
	ext_001.warn == set() with input as ef
}

test_deny_outside_the_allowed_namespaces_only if {
	ef := _ef("mesh-filters", object.union(_selector, {"configPatches": []}))
	ext_001.deny == {_outside("mesh-filters")} with input as ef
	ext_001.deny == set() with input as ef with data.meshguard.config as {"istio": {"allowedEnvoyFilterNamespaces": ["mesh-filters"]}}
	ext_001.deny == {_f("high", "EnvoyFilter shop/drop-rbac is in namespace shop; EnvoyFilters are allowed only in istio-system, mesh-filters", ["metadata", "namespace"])} with input as _ef("shop", _selector)
		with data.meshguard.config as {"istio": {"allowedEnvoyFilterNamespaces": ["mesh-filters"]}}
	ext_001.deny == set() with input as _ef("mesh-root", _selector) with data.meshguard.config as {"istio": {"rootNamespace": "mesh-root"}}
	ext_001.deny == set() with input as json.remove(_ef("shop", _selector), ["metadata/namespace"])
}

# Every risky operation on every security filter, even in the root namespace;
# harmless operations and other filters pass.
test_deny_risky_operations_on_security_filters if {
	every op in ["REMOVE", "REPLACE", "MERGE", "INSERT_BEFORE", "INSERT_FIRST"] {
		every name in ["envoy.filters.http.rbac", "envoy.filters.http.ext_authz", "istio_authn", "Envoy.Filters.Network.RBAC"] {
			ext_001.deny == {_f("critical", _security("istio-system", 0, op, name), _sub_path(0))} with input as _ef("istio-system", object.union(_selector, {"configPatches": [_http_filter(name, op)]}))
		}
	}
	ext_001.deny == set() with input as _ef("istio-system", object.union(_selector, {"configPatches": [_http_filter("envoy.filters.http.rbac", "INSERT_AFTER")]}))
	ext_001.deny == set() with input as _ef("istio-system", object.union(_selector, {"configPatches": [_http_filter("envoy.filters.http.lua", "INSERT_BEFORE")]}))
}

# jwt_authn also contains authn: one finding per filter name, not per token.
test_deny_inserted_filter_and_matched_filter if {
	patches := [
		{"applyTo": "NETWORK_FILTER", "match": {"listener": {"filterChain": {"filter": {"name": "envoy.filters.network.rbac"}}}}, "patch": {"operation": "REPLACE", "value": {"name": "envoy.filters.network.tcp_proxy"}}},
		{"applyTo": "HTTP_FILTER", "match": {"listener": {"filterChain": {"filter": {"name": "envoy.filters.network.http_connection_manager"}}}}, "patch": {"operation": "INSERT_FIRST", "value": {"name": "envoy.filters.http.jwt_authn"}}},
	]
	ext_001.deny == {
		_f("critical", _security("istio-system", 0, "REPLACE", "envoy.filters.network.rbac"), ["spec", "configPatches", 0, "match", "listener", "filterChain", "filter", "name"]),
		_f("critical", _security("istio-system", 1, "INSERT_FIRST", "envoy.filters.http.jwt_authn"), ["spec", "configPatches", 1, "patch", "value", "name"]),
	} with input as _ef("istio-system", object.union(_selector, {"configPatches": patches}))
}

test_deny_transport_socket_patches if {
	patches := [
		{"applyTo": "CLUSTER", "patch": {"operation": "MERGE", "value": {"transport_socket": {"name": "envoy.transport_sockets.raw_buffer"}}}},
		{"applyTo": "BOOTSTRAP", "patch": {"operation": "MERGE", "value": {"staticResources": {"clusters": [{"name": "x", "transportSocket": {}}]}}}},
		{"applyTo": "LISTENER", "patch": {"operation": "MERGE", "value": {"transport_socket": {}}}},
		{"applyTo": "CLUSTER", "patch": {"operation": "MERGE", "value": {"connect_timeout": "1s"}}},
	]
	ext_001.deny == {
		_f("critical", "EnvoyFilter istio-system/drop-rbac configPatches[0] changes transport_socket of a CLUSTER, which can replace the mesh's mTLS", ["spec", "configPatches", 0, "patch", "value", "transport_socket"]),
		_f("critical", "EnvoyFilter istio-system/drop-rbac configPatches[1] changes transportSocket of a BOOTSTRAP, which can replace the mesh's mTLS", ["spec", "configPatches", 1, "patch", "value", "staticResources", "clusters", 0, "transportSocket"]),
	} with input as _ef("istio-system", object.union(_selector, {"configPatches": patches}))
}

test_warn_root_namespace_filter_for_every_proxy if {
	msg := "EnvoyFilter istio-system/drop-rbac is in the root namespace without a workloadSelector or targetRefs, so it changes every proxy of the mesh; select the workloads it is for"
	ext_001.warn == {_f("medium", msg, ["spec"])} with input as _ef("istio-system", {"configPatches": []})
	ext_001.warn == {_f("medium", msg, ["spec"])} with input as _ef("istio-system", {"workloadSelector": {"labels": {}}})
	ext_001.warn == set() with input as _ef("istio-system", _selector)
	ext_001.warn == set() with input as _ef("istio-system", {"targetRefs": [{"kind": "Gateway", "group": "gateway.networking.k8s.io", "name": "public"}]})
	ext_001.deny == set() with input as _ef("istio-system", {"configPatches": []})
}

test_other_kinds_are_not_judged if {
	ext_001.deny == set() with input as object.union(_ef("shop", {}), {"kind": "Sidecar"})
	ext_001.deny == set() with input as object.union(_ef("shop", {}), {"apiVersion": "example.com/v1alpha3"})
}

# The engine has already matched the kind (kube.indexed).
test_deny_when_indexed_by_the_engine if {
	ext_001.deny == {_outside("shop")} with input as _ef("shop", _selector) with data.meshguard.engine.indexed as true
}
