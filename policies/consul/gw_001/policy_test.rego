package meshguard.consul.gw_001_test

import data.meshguard.consul.gw_001

_gw(spec) := {
	"apiVersion": "consul.hashicorp.com/v1alpha1",
	"kind": "IngressGateway",
	"metadata": {"name": "ingress-gateway", "namespace": "consul"},
	"spec": spec,
}

_ids(fs) := {[f.id, f.severity, f.path] | some f in fs}

_tls := {"enabled": true, "tlsMinVersion": "TLSv1_2"}

test_deny_wildcard_service if {
	obj := _gw({"tls": _tls, "listeners": [
		{"port": 8443, "protocol": "http", "services": [{"name": "web", "hosts": ["www.example.com"]}]},
		{"port": 8080, "protocol": "http", "services": [{"name": "api"}, {"name": "*"}]},
	]})
	_ids(gw_001.deny) == {["CONSUL-GW-001", "high", ["spec", "listeners", 1, "services", 1, "name"]]} with input as obj
	{f.msg | some f in gw_001.deny} == {"CONSUL-GW-001: IngressGateway consul/ingress-gateway listener 1 (port 8080) forwards to every service (*), which publishes the whole mesh; list the services by name"} with input as obj
	gw_001.warn == set() with input as obj
}

test_deny_weak_tls_version if {
	obj := _gw({"tls": {"enabled": true, "tlsMinVersion": "TLSv1_0"}, "listeners": [{"port": 8443, "protocol": "http", "tls": {"enabled": true, "tlsMinVersion": "TLSv1_1"}, "services": [{"name": "web"}]}]})
	_ids(gw_001.deny) == {
		["CONSUL-GW-001", "high", ["spec", "tls", "tlsMinVersion"]],
		["CONSUL-GW-001", "high", ["spec", "listeners", 0, "tls", "tlsMinVersion"]],
	} with input as obj
	"CONSUL-GW-001: IngressGateway consul/ingress-gateway allows TLS from TLSv1_1 at spec.listeners.0.tls; set tlsMinVersion TLSv1_2 or TLSv1_3" in {f.msg | some f in gw_001.deny} with input as obj
}

test_warn_listener_without_tls if {
	obj := _gw({"listeners": [
		{"port": 8443, "protocol": "http", "tls": {"enabled": true}, "services": [{"name": "web"}]},
		{"port": 8080, "protocol": "tcp", "services": [{"name": "db"}]},
		{"port": 8081, "protocol": "tcp", "tls": {"enabled": false}, "services": [{"name": "db"}]},
		{"port": 8082, "protocol": "http", "tls": {"sds": {"clusterName": "sds", "certResource": "web"}}, "services": [{"name": "web"}]},
	]})
	_ids(gw_001.warn) == {
		["CONSUL-GW-001", "high", ["spec", "listeners", 1]],
		["CONSUL-GW-001", "high", ["spec", "listeners", 2]],
	} with input as obj
	"CONSUL-GW-001: IngressGateway consul/ingress-gateway listener 1 (port 8080) serves without TLS; enable spec.tls or the listener's tls" in {f.msg | some f in gw_001.warn} with input as obj
	gw_001.deny == set() with input as obj
}

test_allow_gateway_tls_covers_every_listener if {
	every tls in [_tls, {"sds": {"clusterName": "sds", "certResource": "gw"}}] {
		gw_001.warn == set() with input as _gw({"tls": tls, "listeners": [{"port": 8080, "protocol": "tcp", "services": [{"name": "db"}]}]})
	}
}

test_allow_compliant if {
	obj := _gw({"tls": _tls, "listeners": [{"port": 8443, "protocol": "http", "services": [{"name": "web", "hosts": ["www.example.com"]}]}]})
	gw_001.deny == set() with input as obj
	gw_001.warn == set() with input as obj
}

test_other_kinds_are_not_judged if {
	gw_001.deny == set() with input as {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "spec": {"listeners": [{"services": [{"name": "*"}]}]}}
}

# The engine has matched the kind already (kube.indexed).
test_deny_when_engine_indexed if {
	_ids(gw_001.deny) == {["CONSUL-GW-001", "high", ["spec", "listeners", 0, "services", 0, "name"]]} with input as _gw({"tls": _tls, "listeners": [{"port": 8080, "protocol": "http", "services": [{"name": "*"}]}]})
		with data.meshguard.engine.indexed as true
}
