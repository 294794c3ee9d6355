package meshguard.gwapi.gw_001_test

import data.meshguard.gwapi.gw_001

_gw(class, listeners) := {
	"apiVersion": "gateway.networking.k8s.io/v1",
	"kind": "Gateway",
	"metadata": {"name": "public", "namespace": "edge"},
	"spec": {"gatewayClassName": class, "listeners": listeners},
}

_http(hostname) := {"name": "http", "protocol": "HTTP", "port": 80, "hostname": hostname}

_https(hostname) := {"name": "https", "protocol": "HTTPS", "port": 443, "hostname": hostname, "tls": {"mode": "Terminate", "certificateRefs": [{"name": "cert"}]}}

_https_all := {"name": "https", "protocol": "HTTPS", "port": 443, "tls": {"mode": "Terminate", "certificateRefs": [{"name": "cert"}]}}

_route(ns, parent, rules) := {
	"apiVersion": "gateway.networking.k8s.io/v1",
	"kind": "HTTPRoute",
	"metadata": {"name": "web", "namespace": ns},
	"spec": {"parentRefs": [parent], "rules": rules},
}

_forward := [{"backendRefs": [{"name": "web", "port": 8080}]}]

_redirect := [{"filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}]}]

_inv(routes) := {"HTTPRoute.gateway.networking.k8s.io": {ns: by_name |
	some ns in {r.metadata.namespace | some r in routes}
	by_name := {r.metadata.name: r | some r in routes; r.metadata.namespace == ns}
}}

_gateways(gw) := {"Gateway.gateway.networking.k8s.io": {"edge": {"public": gw}}}

_ids(fs) := {[f.id, f.severity, f.path] | some f in fs}

test_warn_http_listener_without_https if {
	obj := _gw("istio", [_http("www.example.com")])
	_ids(gw_001.warn) == {["GWAPI-GW-001", "high", ["spec", "listeners", 0]]} with input as obj
	{f.msg | some f in gw_001.warn} == {"GWAPI-GW-001: Gateway edge/public listener http serves plaintext HTTP for www.example.com, and no HTTPS listener serves it; add one and redirect HTTP to https"} with input as obj
	{f.msg | some f in gw_001.warn} == {"GWAPI-GW-001: Gateway edge/public listener http serves plaintext HTTP for every hostname, and no HTTPS listener serves it; add one and redirect HTTP to https"} with input as _gw("istio", [{"name": "http", "protocol": "HTTP", "port": 80}])
	_ids(gw_001.warn) == {["GWAPI-GW-001", "high", ["spec", "listeners", 0]]} with input as _gw("istio", [_http("www.example.com"), _https("api.example.com")])
	_ids(gw_001.warn) == {["GWAPI-GW-001", "high", ["spec", "listeners", 0]]} with input as _gw("istio", [{"name": "http", "protocol": "HTTP", "port": 80}, _https("*.example.com")])
}

test_allow_http_listener_covered_by_https if {
	every https in [_https("www.example.com"), _https("*.example.com"), _https_all] {
		gw_001.warn == set() with input as _gw("istio", [_http("www.example.com"), https])
	}
	gw_001.warn == set() with input as _gw("istio", [{"name": "http", "protocol": "HTTP", "port": 80}, _https_all])
}

test_internal_classes_are_not_judged if {
	gw_001.warn == set() with input as _gw("istio-east-west", [_http("www.example.com")])
	gw_001.warn == set() with input as _gw("internal", [_http("www.example.com")]) with data.meshguard.config as {"gwapi": {"internalGatewayClasses": ["internal"]}}
}

test_warn_attached_route_without_redirect if {
	obj := _gw("istio", [_http("www.example.com"), _https("www.example.com")])
	inv := _inv([_route("edge", {"name": "public"}, _forward)])
	_ids(gw_001.warn) == {["GWAPI-GW-001", "high", ["spec", "listeners", 0]]} with input as obj with data.inventory.objects as inv
	{f.msg | some f in gw_001.warn} == {"GWAPI-GW-001: Gateway edge/public listener http serves 1 HTTPRoute(s) over plaintext HTTP (edge/web); attach only routes that redirect to https there"} with input as obj with data.inventory.objects as inv
	gw_001.warn == set() with input as obj with data.inventory.objects as inv with data.meshguard.engine.inventory as false
}

# Under the engine the routes attached to each Gateway come from the index it
# computes once per inventory (data.meshguard.index): the same finding.
test_attached_routes_from_the_engine_index if {
	obj := _gw("istio", [_http("www.example.com"), _https("www.example.com")])
	inv := _inv([_route("edge", {"name": "public"}, _forward)])
	index := {"edge/public": [{"namespace": "edge", "name": "web", "parentRef": {"name": "public"}, "https_redirect": false}]}
	{f.msg | some f in gw_001.warn} == {"GWAPI-GW-001: Gateway edge/public listener http serves 1 HTTPRoute(s) over plaintext HTTP (edge/web); attach only routes that redirect to https there"} with input as obj with data.inventory.objects as inv with data.meshguard.index.lib.gwapi.computed_routes_by_gateway as index

	# the index, not a scan of the inventory, decides which routes are looked at
	gw_001.warn == set() with input as obj with data.inventory.objects as inv with data.meshguard.index.lib.gwapi.computed_routes_by_gateway as {}
}

test_one_finding_per_listener_naming_the_routes if {
	obj := _gw("istio", [_http("www.example.com"), _https("www.example.com")])
	routes := [object.union(_route("edge", {"name": "public"}, _forward), {"metadata": {"name": sprintf("r%d", [n])}}) | some n in numbers.range(1, 7)]
	{f.msg | some f in gw_001.warn} == {"GWAPI-GW-001: Gateway edge/public listener http serves 7 HTTPRoute(s) over plaintext HTTP (edge/r1, edge/r2, edge/r3, edge/r4, edge/r5 and 2 more); attach only routes that redirect to https there"} with input as obj with data.inventory.objects as _inv(routes)
}

test_route_attachment_rules if {
	obj := _gw("istio", [_http("www.example.com"), _https("www.example.com")])
	not_attached := [
		_route("edge", {"name": "public", "sectionName": "https"}, _forward),
		_route("edge", {"name": "public", "port": 443}, _forward),
		_route("edge", {"name": "other"}, _forward),
		_route("apps", {"name": "public", "namespace": "edge"}, _forward),
		_route("edge", {"name": "public"}, _redirect),
	]
	every r in not_attached {
		gw_001.warn == set() with input as obj with data.inventory.objects as _inv([r])
	}
	attached := [
		_route("edge", {"name": "public", "sectionName": "http"}, _forward),
		_route("edge", {"name": "public", "port": 80}, _forward),
		_route("edge", {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "public", "namespace": "edge"}, _forward),
		_route("edge", {"name": "public"}, array.concat(_redirect, _forward)),
	]
	every r in attached {
		_ids(gw_001.warn) == {["GWAPI-GW-001", "high", ["spec", "listeners", 0]]} with input as obj with data.inventory.objects as _inv([r])
	}
}

test_allowed_routes_namespaces if {
	http_all := object.union(_http("www.example.com"), {"allowedRoutes": {"namespaces": {"from": "All"}}})
	http_sel := object.union(_http("www.example.com"), {"allowedRoutes": {"namespaces": {"from": "Selector", "selector": {"matchLabels": {"edge-routes": "yes"}}}}})
	r := _route("apps", {"name": "public", "namespace": "edge"}, _forward)
	_ids(gw_001.warn) == {["GWAPI-GW-001", "high", ["spec", "listeners", 0]]} with input as _gw("istio", [http_all, _https("www.example.com")]) with data.inventory.objects as _inv([r])
	_ids(gw_001.warn) == {["GWAPI-GW-001", "high", ["spec", "listeners", 0]]} with input as _gw("istio", [http_sel, _https("www.example.com")]) with data.inventory.objects as _inv([r])
	_ids(gw_001.warn) == {["GWAPI-GW-001", "high", ["spec", "listeners", 0]]} with input as _gw("istio", [http_sel, _https("www.example.com")]) with data.inventory.objects as _inv([r])
		with data.inventory.namespaces as {"apps": {"metadata": {"name": "apps", "labels": {"edge-routes": "yes"}}}}
	gw_001.warn == set() with input as _gw("istio", [http_sel, _https("www.example.com")]) with data.inventory.objects as _inv([r])
		with data.inventory.namespaces as {"apps": {"metadata": {"name": "apps", "labels": {}}}}
}

test_warn_route_on_public_http_listener if {
	gw := _gw("istio", [_http("www.example.com"), _https("www.example.com")])
	r := _route("edge", {"name": "public"}, _forward)
	_ids(gw_001.warn) == {["GWAPI-GW-001", "high", ["spec", "parentRefs", 0]]} with input as r with data.inventory.objects as _gateways(gw)
	{f.msg | some f in gw_001.warn} == {"GWAPI-GW-001: HTTPRoute edge/web attaches to the plaintext HTTP listener http of the internet-facing Gateway edge/public without redirecting to https; attach it to an HTTPS listener (sectionName) or redirect"} with input as r with data.inventory.objects as _gateways(gw)
	gw_001.warn == set() with input as _route("edge", {"name": "public", "sectionName": "https"}, _forward) with data.inventory.objects as _gateways(gw)
	gw_001.warn == set() with input as _route("edge", {"name": "public"}, _redirect) with data.inventory.objects as _gateways(gw)
	gw_001.warn == set() with input as r with data.inventory.objects as _gateways(object.union(gw, {"spec": {"gatewayClassName": "istio-waypoint"}}))
	gw_001.warn == set() with input as r
}

test_note_tls_passthrough if {
	obj := _gw("istio", [{"name": "tls", "protocol": "TLS", "port": 443, "hostname": "db.example.com", "tls": {"mode": "Passthrough"}}])
	_ids(gw_001.warn) == {["GWAPI-GW-001", "info", ["spec", "listeners", 0, "tls", "mode"]]} with input as obj
	{f.msg | some f in gw_001.warn} == {"GWAPI-GW-001: Gateway edge/public listener tls passes TLS through, so the gateway cannot see or authorize what it forwards to db.example.com"} with input as obj
	gw_001.warn == set() with input as _gw("istio", [{"name": "tls", "protocol": "TLS", "port": 443, "tls": {"mode": "Terminate", "certificateRefs": [{"name": "c"}]}}])
}

test_allow_https_only_gateway if {
	gw_001.warn == set() with input as _gw("istio", [_https("www.example.com")]) with data.inventory.objects as _inv([_route("edge", {"name": "public"}, _forward)])
}

test_other_kinds_are_not_judged if {
	gw_001.warn == set() with input as object.union(_gw("istio", [_http("www.example.com")]), {"apiVersion": "networking.istio.io/v1"})
}

# The engine has matched the kind already (kube.indexed).
test_warn_when_engine_indexed if {
	_ids(gw_001.warn) == {["GWAPI-GW-001", "high", ["spec", "listeners", 0]]} with input as _gw("istio", [_http("www.example.com")])
		with data.meshguard.engine.indexed as true
}
