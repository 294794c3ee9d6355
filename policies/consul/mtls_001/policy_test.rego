package meshguard.consul.mtls_001_test

import data.meshguard.consul.mtls_001

_obj(kind, name, spec) := {
	"apiVersion": "consul.hashicorp.com/v1alpha1",
	"kind": kind,
	"metadata": {"name": name, "namespace": "consul"},
	"spec": spec,
}

_ids(fs) := {[f.id, f.severity, f.path] | some f in fs}

test_deny_permissive_proxy_defaults if {
	obj := _obj("ProxyDefaults", "global", {"mutualTLSMode": "permissive"})
	_ids(mtls_001.deny) == {["CONSUL-MTLS-001", "critical", ["spec", "mutualTLSMode"]]} with input as obj
	{f.msg | some f in mtls_001.deny} == {"CONSUL-MTLS-001: ProxyDefaults consul/global sets mutualTLSMode permissive: the service port then accepts plaintext and intentions are not enforced for it; use strict"} with input as obj
}

test_deny_permissive_service_defaults if {
	_ids(mtls_001.deny) == {["CONSUL-MTLS-001", "high", ["spec", "mutualTLSMode"]]} with input as _obj("ServiceDefaults", "web", {"protocol": "http", "mutualTLSMode": "permissive"})
}

test_deny_mesh_allowing_permissive if {
	obj := _obj("Mesh", "mesh", {"allowEnablingPermissiveMutualTLS": true})
	_ids(mtls_001.deny) == {["CONSUL-MTLS-001", "high", ["spec", "allowEnablingPermissiveMutualTLS"]]} with input as obj
	{f.msg | some f in mtls_001.deny} == {"CONSUL-MTLS-001: Mesh consul/mesh sets allowEnablingPermissiveMutualTLS, which lets ProxyDefaults and ServiceDefaults accept plaintext; remove it"} with input as obj
}

test_allow_strict_and_unset if {
	every spec in [{"mutualTLSMode": "strict"}, {"mutualTLSMode": ""}, {}] {
		mtls_001.deny == set() with input as _obj("ProxyDefaults", "global", spec)
		mtls_001.deny == set() with input as _obj("ServiceDefaults", "web", spec)
	}
	mtls_001.deny == set() with input as _obj("Mesh", "mesh", {"allowEnablingPermissiveMutualTLS": false})
	mtls_001.deny == set() with input as _obj("Mesh", "mesh", {"mutualTLSMode": "permissive"})
}

test_other_kinds_are_not_judged if {
	mtls_001.deny == set() with input as {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "spec": {"mutualTLSMode": "permissive"}}
}

# The engine has matched the kind already (kube.indexed).
test_deny_when_engine_indexed if {
	_ids(mtls_001.deny) == {["CONSUL-MTLS-001", "critical", ["spec", "mutualTLSMode"]]} with input as _obj("ProxyDefaults", "global", {"mutualTLSMode": "permissive"})
		with data.meshguard.engine.indexed as true
}
