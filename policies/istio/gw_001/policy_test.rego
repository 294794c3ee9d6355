package meshguard.istio.gw_001_test

import data.meshguard.istio.gw_001

_gw(selector, servers) := {
	"apiVersion": "networking.istio.io/v1",
	"kind": "Gateway",
	"metadata": {"name": "public", "namespace": "istio-ingress"},
	"spec": {"selector": selector, "servers": servers},
}

_public := {"istio": "ingressgateway"}

_http(hosts) := {"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": hosts}

_plain(protocol, port, i) := {
	"id": "ISTIO-GW-001",
	"severity": "high",
	"msg": sprintf("ISTIO-GW-001: public Gateway istio-ingress/public serves %s on port %v without redirecting to HTTPS, so requests cross the internet in plaintext; set tls.httpsRedirect: true or serve HTTPS", [protocol, port]),
	"path": ["spec", "servers", i, "port", "protocol"],
}

_catch_all(host, port, i, j) := {
	"id": "ISTIO-GW-001",
	"severity": "medium",
	"msg": sprintf("ISTIO-GW-001: public Gateway istio-ingress/public accepts any host (%s) on port %v, so any VirtualService bound to it publishes its hosts at the edge; list the hosts", [host, port]),
	"path": ["spec", "servers", i, "hosts", j],
}

# RULES.md violating example: plaintext HTTP with a catch-all host.
test_plaintext_and_catch_all if {
	gw := _gw(_public, [_http(["*"])])
	gw_001.deny == {_plain("HTTP", 80, 0)} with input as gw
	gw_001.warn == {_catch_all("*", 80, 0, 0)} with input as gw
}

test_deny_every_plaintext_protocol if {
	servers := [
		{"port": {"number": 443, "name": "https", "protocol": "HTTPS"}, "hosts": ["shop/a.example.com"], "tls": {"mode": "SIMPLE", "credentialName": "c"}},
		{"port": {"number": 8080, "name": "h2", "protocol": "http2"}, "hosts": ["shop/a.example.com"]},
		{"port": {"number": 9000, "name": "grpc", "protocol": "GRPC"}, "hosts": ["shop/a.example.com"], "tls": {"httpsRedirect": false}},
		{"port": {"number": 9001, "name": "grpc-web", "protocol": "GRPC-WEB"}, "hosts": ["shop/a.example.com"]},
	]
	gw_001.deny == {_plain("HTTP2", 8080, 1), _plain("GRPC", 9000, 2), _plain("GRPC-WEB", 9001, 3)} with input as _gw(object.union(_public, {"app": "edge"}), servers)
}

test_warn_namespace_catch_alls if {
	server := object.union(_http(["shop/www.example.com", "*/*", "shop/*", "./*", "*.example.com"]), {"tls": {"httpsRedirect": true}})
	gw := _gw(_public, [server])
	gw_001.warn == {_catch_all("*/*", 80, 0, 1), _catch_all("shop/*", 80, 0, 2), _catch_all("./*", 80, 0, 3)} with input as gw
	count(gw_001.deny) == 0 with input as gw
}

# RULES.md compliant example.
test_pass_redirect_and_named_hosts if {
	gw := _gw(_public, [object.union(_http(["shop/www.example.com"]), {"tls": {"httpsRedirect": true}})])
	count(gw_001.deny) == 0 with input as gw
	count(gw_001.warn) == 0 with input as gw
}

# Internal gateways are out of scope; the selector list is a parameter.
test_pass_internal_gateway if {
	gw := _gw({"istio": "eastwestgateway"}, [_http(["*"])])
	count(gw_001.deny) == 0 with input as gw
	count(gw_001.warn) == 0 with input as gw
	count(gw_001.deny) == 1 with input as gw with data.meshguard.config as {"istio": {"publicGatewaySelectors": [{"istio": "eastwestgateway"}]}}
}

test_pass_other_kinds if {
	count(gw_001.deny) == 0 with input as object.union(_gw(_public, [_http(["*"])]), {"kind": "VirtualService"})
}

# The engine has already matched the kind (data.meshguard.engine.indexed).
test_deny_engine_indexed if {
	gw_001.deny == {_plain("HTTP", 80, 0)} with input as _gw(_public, [_http(["*"])]) with data.meshguard.engine.indexed as true
}
