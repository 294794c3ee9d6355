package meshguard.consul.mesh_001_test

import data.meshguard.consul.mesh_001

_mesh(spec) := {
	"apiVersion": "consul.hashicorp.com/v1alpha1",
	"kind": "Mesh",
	"metadata": {"name": "mesh", "namespace": "consul"},
	"spec": spec,
}

_ids(fs) := {[f.id, f.severity, f.path] | some f in fs}

test_deny_weak_tls_floor if {
	obj := _mesh({"transparentProxy": {"meshDestinationsOnly": true}, "tls": {"incoming": {"tlsMinVersion": "TLSv1_1"}, "outgoing": {"tlsMinVersion": "TLSv1_0"}}})
	_ids(mesh_001.deny) == {
		["CONSUL-MESH-001", "high", ["spec", "tls", "incoming", "tlsMinVersion"]],
		["CONSUL-MESH-001", "high", ["spec", "tls", "outgoing", "tlsMinVersion"]],
	} with input as obj
	"CONSUL-MESH-001: Mesh consul/mesh allows incoming TLS from TLSv1_1; set tlsMinVersion TLSv1_2 or TLSv1_3" in {f.msg | some f in mesh_001.deny} with input as obj
	mesh_001.warn == set() with input as obj
}

test_warn_no_floor_or_auto if {
	obj := _mesh({"transparentProxy": {"meshDestinationsOnly": true}, "tls": {"incoming": {"tlsMinVersion": "TLS_AUTO"}}})
	_ids(mesh_001.warn) == {
		["CONSUL-MESH-001", "high", ["spec", "tls", "incoming", "tlsMinVersion"]],
		["CONSUL-MESH-001", "high", ["spec", "tls", "outgoing", "tlsMinVersion"]],
	} with input as obj
	"CONSUL-MESH-001: Mesh consul/mesh sets no outgoing tlsMinVersion (or TLS_AUTO), so the floor is Envoy's default (TLS 1.0 before Envoy 1.22); set TLSv1_2" in {f.msg | some f in mesh_001.warn} with input as obj
	mesh_001.deny == set() with input as obj
}

test_warn_egress_not_mesh_only if {
	tls := {"incoming": {"tlsMinVersion": "TLSv1_2"}, "outgoing": {"tlsMinVersion": "TLSv1_3"}}
	every tp in [{}, {"transparentProxy": {}}, {"transparentProxy": {"meshDestinationsOnly": false}}] {
		_ids(mesh_001.warn) == {["CONSUL-MESH-001", "medium", ["spec", "transparentProxy", "meshDestinationsOnly"]]} with input as _mesh(object.union(tp, {"tls": tls}))
	}
}

test_allow_compliant_mesh if {
	obj := _mesh({"transparentProxy": {"meshDestinationsOnly": true}, "tls": {"incoming": {"tlsMinVersion": "TLSv1_2"}, "outgoing": {"tlsMinVersion": "TLSv1_2"}}})
	mesh_001.deny == set() with input as obj
	mesh_001.warn == set() with input as obj
	mesh_001.mutate == set() with input as obj
}

test_mutate_adds_missing_floors_only if {
	mesh_001.mutate == {
		{"path": ["spec", "tls", "incoming", "tlsMinVersion"], "value": "TLSv1_2"},
		{"path": ["spec", "tls", "outgoing", "tlsMinVersion"], "value": "TLSv1_2"},
	} with input as _mesh({})
	mesh_001.mutate == {{"path": ["spec", "tls", "outgoing", "tlsMinVersion"], "value": "TLSv1_2"}} with input as _mesh({"tls": {"incoming": {"tlsMinVersion": "TLS_AUTO"}}})
}

test_other_kinds_are_not_judged if {
	mesh_001.warn == set() with input as {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
	mesh_001.mutate == set() with input as {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
}

# The engine has matched the kind already (kube.indexed).
test_deny_when_engine_indexed if {
	_ids(mesh_001.deny) == {["CONSUL-MESH-001", "high", ["spec", "tls", "incoming", "tlsMinVersion"]]} with input as _mesh({"tls": {"incoming": {"tlsMinVersion": "TLSv1_0"}}})
		with data.meshguard.engine.indexed as true
}
