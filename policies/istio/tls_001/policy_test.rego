package meshguard.istio.tls_001_test

import data.meshguard.istio.tls_001

# --- helpers -----------------------------------------------------------------

_host := "reviews.bookinfo.svc.cluster.local"

_dr(api_version, host, spec) := {
	"apiVersion": api_version,
	"kind": "DestinationRule",
	"metadata": {"name": "reviews", "namespace": "bookinfo"},
	"spec": object.union({"host": host}, spec),
}

_tls(mode) := {"tls": {"mode": mode}}

_port_level(mode) := {"portLevelSettings": [
	{"port": {"number": 8080}},
	object.union({"port": {"number": 9080}}, _tls(mode)),
]}

_review(obj) := {
	"apiVersion": "admission.k8s.io/v1",
	"kind": "AdmissionReview",
	"request": {"operation": "CREATE", "object": obj},
}

_f(host, path) := {
	"msg": sprintf("ISTIO-TLS-001: DestinationRule bookinfo/reviews disables TLS to in-mesh host %s, which sends plaintext inside the mesh", [host]),
	"id": "ISTIO-TLS-001",
	"severity": "critical",
	"path": path,
}

_top := ["spec", "trafficPolicy", "tls", "mode"]

_service_entries(location) := {"objects": {"ServiceEntry.networking.istio.io": {"data": {"db": {
	"apiVersion": "networking.istio.io/v1",
	"kind": "ServiceEntry",
	"metadata": {"name": "db", "namespace": "data"},
	"spec": {"hosts": ["*.db.internal.example"], "location": location},
}}}}}

# The package has no warn rule: no warnings means the document is undefined.
_passes if {
	count(tls_001.deny) == 0
	not tls_001.warn
}

# --- tests -------------------------------------------------------------------

# RULES.md violating example.
test_deny_port_level_disable if {
	dr := _dr("networking.istio.io/v1", _host, {"trafficPolicy": _port_level("DISABLE")})
	tls_001.deny == {_f(_host, ["spec", "trafficPolicy", "portLevelSettings", 1, "tls", "mode"])} with input as dr
	not tls_001.warn with input as dr
}

test_deny_top_level_disable if {
	dr := _dr("networking.istio.io/v1alpha3", _host, {"trafficPolicy": _tls("DISABLE")})
	tls_001.deny == {_f(_host, _top)} with input as dr
}

test_deny_subset_disable if {
	dr := _dr("networking.istio.io/v1beta1", _host, {"subsets": [
		{"name": "v1", "labels": {"version": "v1"}},
		{"name": "v2", "labels": {"version": "v2"}, "trafficPolicy": _tls("DISABLE")},
	]})
	tls_001.deny == {_f(_host, ["spec", "subsets", 1, "trafficPolicy", "tls", "mode"])} with input as dr
}

test_deny_subset_port_level_disable if {
	dr := _dr("networking.istio.io/v1", _host, {"subsets": [{"name": "v1", "trafficPolicy": _port_level("DISABLE")}]})
	tls_001.deny == {_f(_host, ["spec", "subsets", 0, "trafficPolicy", "portLevelSettings", 1, "tls", "mode"])} with input as dr
}

test_deny_every_disabled_place if {
	policy := object.union(_tls("DISABLE"), _port_level("DISABLE"))
	dr := _dr("networking.istio.io/v1", _host, {
		"trafficPolicy": policy,
		"subsets": [{"name": "v1", "trafficPolicy": policy}],
	})
	tls_001.deny == {
		_f(_host, _top),
		_f(_host, ["spec", "trafficPolicy", "portLevelSettings", 1, "tls", "mode"]),
		_f(_host, ["spec", "subsets", 0, "trafficPolicy", "tls", "mode"]),
		_f(_host, ["spec", "subsets", 0, "trafficPolicy", "portLevelSettings", 1, "tls", "mode"]),
	} with input as dr
}

test_deny_short_host if {
	tls_001.deny == {_f("reviews", _top)} with input as _dr("networking.istio.io/v1", "reviews", {"trafficPolicy": _tls("DISABLE")})
}

test_deny_name_namespace_host if {
	dr := _dr("networking.istio.io/v1", "reviews.bookinfo", {"trafficPolicy": _tls("DISABLE")})
	tls_001.deny == {_f("reviews.bookinfo", _top)} with input as dr
}

test_deny_wildcard_mesh_host if {
	dr := _dr("networking.istio.io/v1", "*.local", {"trafficPolicy": _tls("DISABLE")})
	tls_001.deny == {_f("*.local", _top)} with input as dr
}

test_deny_mesh_internal_service_entry_host if {
	dr := _dr("networking.istio.io/v1", "orders.db.internal.example", {"trafficPolicy": _tls("DISABLE")})
	tls_001.deny == {_f("orders.db.internal.example", _top)} with input as dr
		with data.inventory as _service_entries("MESH_INTERNAL")
}

test_allow_mesh_external_service_entry_host if {
	dr := _dr("networking.istio.io/v1", "orders.db.internal.example", {"trafficPolicy": _tls("DISABLE")})
	_passes with input as dr with data.inventory as _service_entries("MESH_EXTERNAL")
}

test_allow_disable_to_external_host if {
	_passes with input as _dr("networking.istio.io/v1", "api.example.com", {"trafficPolicy": _tls("DISABLE")})
}

# RULES.md compliant example.
test_allow_istio_mutual if {
	_passes with input as _dr("networking.istio.io/v1", _host, {"trafficPolicy": _tls("ISTIO_MUTUAL")})
}

test_allow_no_tls_block if {
	dr := _dr("networking.istio.io/v1beta1", _host, {
		"trafficPolicy": {"connectionPool": {"tcp": {"maxConnections": 100}}},
		"subsets": [{"name": "v1"}],
	})
	_passes with input as dr
}

test_allow_other_modes if {
	dr := _dr("networking.istio.io/v1alpha3", _host, {
		"trafficPolicy": object.union(_tls("SIMPLE"), _port_level("MUTUAL")),
		"subsets": [{"name": "v1", "trafficPolicy": _port_level("ISTIO_MUTUAL")}],
	})
	_passes with input as dr
}

test_deny_config_mesh_domain_override if {
	host := "reviews.bookinfo.svc.corp.example"
	dr := _dr("networking.istio.io/v1", host, {"trafficPolicy": _tls("DISABLE")})
	_passes with input as dr
	tls_001.deny == {_f(host, _top)} with input as dr
		with data.meshguard.config as {"istio": {"meshDomain": "corp.example"}}
}

test_allow_wrong_kind if {
	vs := object.union(_dr("networking.istio.io/v1", _host, {"trafficPolicy": _tls("DISABLE")}), {"kind": "VirtualService"})
	_passes with input as vs
}

test_allow_wrong_group if {
	_passes with input as _dr("security.istio.io/v1", _host, {"trafficPolicy": _tls("DISABLE")})
}

test_deny_top_level_disable_admission_review if {
	dr := _dr("networking.istio.io/v1", _host, {"trafficPolicy": _tls("DISABLE")})
	bare := tls_001.deny with input as dr
	reviewed := tls_001.deny with input as _review(dr)
	bare == {_f(_host, _top)}
	reviewed == bare
}

test_deny_top_level_disable_engine_indexed if {
	dr := _dr("networking.istio.io/v1", _host, {"trafficPolicy": _tls("DISABLE")})
	tls_001.deny == {_f(_host, _top)} with input as dr with data.meshguard.engine.indexed as true
}

# --- the host's namespace is STRICT (cross-object) ------------------------------

_strict_root := {"objects": {"PeerAuthentication.security.istio.io": {"istio-system": {"default": {
	"apiVersion": "security.istio.io/v1",
	"kind": "PeerAuthentication",
	"metadata": {"name": "default", "namespace": "istio-system"},
	"spec": {"mtls": {"mode": "STRICT"}},
}}}}}

test_deny_disable_to_strict_namespace_names_the_policy if {
	strict := {"msg": sprintf("ISTIO-TLS-001: DestinationRule bookinfo/reviews disables TLS to in-mesh host %s, which sends plaintext inside the mesh; namespace bookinfo is STRICT by default (PeerAuthentication istio-system/default), so its servers refuse these requests", [_host]), "id": "ISTIO-TLS-001", "severity": "critical", "path": _top}
	tls_001.deny == {strict} with input as _dr("networking.istio.io/v1", _host, {"trafficPolicy": _tls("DISABLE")}) with data.inventory as _strict_root
	every host in ["reviews", "reviews.bookinfo", "reviews.bookinfo.svc", "*.bookinfo.svc.cluster.local"] {
		count({f | some f in tls_001.deny; endswith(f.msg, "so its servers refuse these requests")}) == 1 with input as _dr("networking.istio.io/v1", host, {"trafficPolicy": _tls("DISABLE")}) with data.inventory as _strict_root
	}
}

# A MESH_INTERNAL host names no namespace; without the inventory, or with a
# PERMISSIVE namespace, the plain message.
test_deny_disable_without_known_namespace_mode if {
	se := object.union(_strict_root, _service_entries("MESH_INTERNAL"))
	tls_001.deny == {_f("orders.db.internal.example", _top)} with input as _dr("networking.istio.io/v1", "orders.db.internal.example", {"trafficPolicy": _tls("DISABLE")}) with data.inventory as se
	tls_001.deny == {_f(_host, _top)} with input as _dr("networking.istio.io/v1", _host, {"trafficPolicy": _tls("DISABLE")}) with data.inventory as _strict_root
		with data.meshguard.engine.inventory as false
	permissive := json.patch(_strict_root, [{"op": "replace", "path": "/objects/PeerAuthentication.security.istio.io/istio-system/default/spec/mtls/mode", "value": "PERMISSIVE"}])
	tls_001.deny == {_f(_host, _top)} with input as _dr("networking.istio.io/v1", _host, {"trafficPolicy": _tls("DISABLE")}) with data.inventory as permissive
}

# An exact MESH_INTERNAL host is looked up by name; under the engine the hosts
# come from the index it computes once per inventory (data.meshguard.index).
test_deny_mesh_internal_exact_host_and_from_the_engine_index if {
	dr := _dr("networking.istio.io/v1", "orders.db.internal.example", {"trafficPolicy": _tls("DISABLE")})
	exact := {"objects": {"ServiceEntry.networking.istio.io": {"data": {"db": {
		"apiVersion": "networking.istio.io/v1",
		"kind": "ServiceEntry",
		"metadata": {"name": "db", "namespace": "data"},
		"spec": {"hosts": ["orders.db.internal.example"], "location": "MESH_INTERNAL"},
	}}}}}
	tls_001.deny == {_f("orders.db.internal.example", _top)} with input as dr with data.inventory as exact

	index := {"exact": {"orders.db.internal.example": true}, "wildcard": []}
	tls_001.deny == {_f("orders.db.internal.example", _top)} with input as dr
		with data.meshguard.index.lib.istio.computed_mesh_internal_hosts as index

	# the index, not a scan of the inventory, decides
	_passes with input as dr with data.inventory as exact
		with data.meshguard.index.lib.istio.computed_mesh_internal_hosts as {"exact": {}, "wildcard": []}
}
