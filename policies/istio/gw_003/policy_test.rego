package meshguard.istio.gw_003_test

import data.meshguard.istio.gw_003

_gw(selector, servers) := {
	"apiVersion": "networking.istio.io/v1",
	"kind": "Gateway",
	"metadata": {"name": "public-tls", "namespace": "istio-ingress"},
	"spec": {"selector": selector, "servers": servers},
}

_public := {"istio": "ingressgateway"}

_server(port, protocol, tls) := {"port": {"number": port, "name": lower(protocol), "protocol": protocol}, "hosts": ["shop/www.example.com"], "tls": tls}

_files(i, port) := {
	"id": "ISTIO-GW-003",
	"severity": "medium",
	"msg": sprintf("ISTIO-GW-003: Gateway istio-ingress/public-tls terminates TLS on port %v with certificate files instead of a credentialName, so they do not rotate without a restart; reference a Secret with tls.credentialName", [port]),
	"path": ["spec", "servers", i, "tls"],
}

_pass(mode, i, port) := {
	"id": "ISTIO-GW-003",
	"severity": "high",
	"msg": sprintf("ISTIO-GW-003: public Gateway istio-ingress/public-tls passes TLS through (%s) on port %v, so the edge never inspects it and its SNI can address in-mesh services; terminate TLS with mode SIMPLE or MUTUAL", [mode, port]),
	"path": ["spec", "servers", i, "tls", "mode"],
}

# RULES.md violating example: AUTO_PASSTHROUGH on the public gateway.
test_deny_passthrough_on_public_gateway if {
	servers := [
		_server(443, "TLS", {"mode": "AUTO_PASSTHROUGH"}),
		_server(8443, "TLS", {"mode": "PASSTHROUGH"}),
	]
	gw_003.deny == {_pass("AUTO_PASSTHROUGH", 0, 443), _pass("PASSTHROUGH", 1, 8443)} with input as _gw(_public, servers)
	count(gw_003.warn) == 0 with input as _gw(_public, servers)
}

test_warn_certificate_files if {
	servers := [
		_server(443, "HTTPS", {"mode": "SIMPLE", "serverCertificate": "/etc/certs/cert.pem", "privateKey": "/etc/certs/key.pem"}),
		_server(8443, "HTTPS", {"mode": "MUTUAL", "credentialName": "", "tlsCertificates": [{"serverCertificate": "/c.pem", "privateKey": "/k.pem"}]}),
		_server(9443, "HTTPS", {"mode": "OPTIONAL_MUTUAL", "credentialNames": []}),
		_server(10443, "HTTPS", {"mode": "SIMPLE", "credentialName": "www-cert"}),
		_server(11443, "HTTPS", {"mode": "MUTUAL", "credentialNames": ["rsa-cert", "ecdsa-cert"]}),
	]
	gw_003.warn == {_files(0, 443), _files(1, 8443), _files(2, 9443)} with input as _gw({"istio": "internal"}, servers)
	count(gw_003.deny) == 0 with input as _gw({"istio": "internal"}, servers)
}

# RULES.md compliant example, and passthrough on an east-west gateway.
test_pass_credential_name_and_internal_passthrough if {
	count(gw_003.deny) == 0 with input as _gw(_public, [_server(443, "HTTPS", {"mode": "SIMPLE", "credentialName": "www-cert"})])
	count(gw_003.warn) == 0 with input as _gw(_public, [_server(443, "HTTPS", {"mode": "SIMPLE", "credentialName": "www-cert"})])
	eastwest := _gw({"istio": "eastwestgateway"}, [_server(15443, "TLS", {"mode": "AUTO_PASSTHROUGH"})])
	count(gw_003.deny) == 0 with input as eastwest
	count(gw_003.warn) == 0 with input as eastwest
}

test_pass_other_kinds if {
	count(gw_003.deny) == 0 with input as object.union(_gw(_public, [_server(443, "TLS", {"mode": "PASSTHROUGH"})]), {"kind": "VirtualService"})
}

# The engine has already matched the kind (data.meshguard.engine.indexed).
test_deny_engine_indexed if {
	gw_003.deny == {_pass("AUTO_PASSTHROUGH", 0, 443)} with input as _gw(_public, [_server(443, "TLS", {"mode": "AUTO_PASSTHROUGH"})]) with data.meshguard.engine.indexed as true
}
