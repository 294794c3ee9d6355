package meshguard.istio.gw_002_test

import data.meshguard.istio.gw_002

_gw(tls) := {
	"apiVersion": "networking.istio.io/v1beta1",
	"kind": "Gateway",
	"metadata": {"name": "public-tls", "namespace": "istio-ingress"},
	"spec": {
		"selector": {"istio": "ingressgateway"},
		"servers": [{"port": {"number": 443, "name": "https", "protocol": "HTTPS"}, "hosts": ["shop/www.example.com"], "tls": tls}],
	},
}

_tls(extra) := object.union({"mode": "SIMPLE", "credentialName": "www-cert"}, extra)

_version(field, v) := {
	"id": "ISTIO-GW-002",
	"severity": "high",
	"msg": sprintf("ISTIO-GW-002: Gateway istio-ingress/public-tls sets tls.%s %s on port 443, which allows TLS below 1.2; use TLSV1_2 or later", [field, v]),
	"path": ["spec", "servers", 0, "tls", field],
}

_suite(s, j) := {
	"id": "ISTIO-GW-002",
	"severity": "high",
	"msg": sprintf("ISTIO-GW-002: Gateway istio-ingress/public-tls allows cipher suite %s on port 443, which is not AEAD with forward secrecy; use ECDHE suites with AES-GCM or ChaCha20-Poly1305", [s]),
	"path": ["spec", "servers", 0, "tls", "cipherSuites", j],
}

# RULES.md violating example.
test_deny_min_tls_1_0 if {
	gw_002.deny == {_version("minProtocolVersion", "TLSV1_0")} with input as _gw(_tls({"minProtocolVersion": "TLSV1_0"}))
}

test_deny_max_tls_1_1 if {
	gw_002.deny == {_version("minProtocolVersion", "TLSV1_1"), _version("maxProtocolVersion", "TLSV1_1")} with input as _gw(_tls({"minProtocolVersion": "TLSV1_1", "maxProtocolVersion": "TLSV1_1"}))
}

test_deny_weak_cipher_suites if {
	suites := [
		"ECDHE-ECDSA-AES256-GCM-SHA384",
		"ECDHE-RSA-AES128-SHA",
		"AES128-GCM-SHA256",
		"DES-CBC3-SHA",
		"ECDHE-ECDSA-CHACHA20-POLY1305",
		"ECDHE-ECDSA-AES256-SHA",
	]
	gw_002.deny == {
		_suite("ECDHE-RSA-AES128-SHA", 1),
		_suite("AES128-GCM-SHA256", 2),
		_suite("DES-CBC3-SHA", 3),
		_suite("ECDHE-ECDSA-AES256-SHA", 5),
	} with input as _gw(_tls({"cipherSuites": suites}))
}

# RULES.md compliant example, and strong settings.
test_pass_modern_tls if {
	every tls in [
		_tls({"minProtocolVersion": "TLSV1_2"}),
		_tls({"minProtocolVersion": "TLSV1_3", "maxProtocolVersion": "TLSV1_3"}),
		_tls({"minProtocolVersion": "TLS_AUTO"}),
		_tls({"cipherSuites": ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-CHACHA20-POLY1305"]}),
		_tls({}),
	] {
		count(gw_002.deny) == 0 with input as _gw(tls)
	}
}

test_pass_other_kinds if {
	count(gw_002.deny) == 0 with input as object.union(_gw(_tls({"minProtocolVersion": "TLSV1_0"})), {"kind": "VirtualService"})
}

# The engine has already matched the kind (data.meshguard.engine.indexed).
test_deny_engine_indexed if {
	gw_002.deny == {_version("minProtocolVersion", "TLSV1_0")} with input as _gw(_tls({"minProtocolVersion": "TLSV1_0"})) with data.meshguard.engine.indexed as true
}
