package meshguard.consul.inj_001_test

import data.meshguard.consul.inj_001

_pod(annotations) := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "shop", "annotations": annotations}}

_deploy(annotations) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": {"template": {"metadata": {"annotations": annotations}, "spec": {"containers": [{"name": "web"}]}}},
}

_ids(fs) := {[f.id, f.severity, f.path] | some f in fs}

_mesh_shop := {"consul": {"meshNamespaces": ["shop"]}}

_inject := {"consul.hashicorp.com/connect-inject": "true"}

test_deny_exclusions_on_injected_workloads if {
	every k in ["inbound-ports", "outbound-ports", "outbound-cidrs", "uids"] {
		key := sprintf("consul.hashicorp.com/transparent-proxy-exclude-%s", [k])
		_ids(inj_001.deny) == {["CONSUL-INJ-001", "high", ["metadata", "annotations", key]]} with input as _pod(object.union(_inject, {key: "8080"}))
		_ids(inj_001.deny) == {["CONSUL-INJ-001", "high", ["spec", "template", "metadata", "annotations", key]]} with input as _deploy(object.union(_inject, {key: "8080"}))
	}
	{f.msg | some f in inj_001.deny} == {"CONSUL-INJ-001: Pod shop/web sets consul.hashicorp.com/transparent-proxy-exclude-inbound-ports \"8080\": that traffic bypasses the Consul sidecar, and with it mTLS and intentions"} with input as _pod(object.union(_inject, {"consul.hashicorp.com/transparent-proxy-exclude-inbound-ports": "8080"}))
}

test_deny_transparent_proxy_off if {
	obj := _pod(object.union(_inject, {"consul.hashicorp.com/transparent-proxy": "false"}))
	_ids(inj_001.deny) == {["CONSUL-INJ-001", "high", ["metadata", "annotations", "consul.hashicorp.com/transparent-proxy"]]} with input as obj
	{f.msg | some f in inj_001.deny} == {"CONSUL-INJ-001: Pod shop/web turns off the Consul transparent proxy, so its traffic is not redirected through the sidecar (no mTLS, no intentions)"} with input as obj
}

test_not_injected_workloads_are_not_judged if {
	obj := {"consul.hashicorp.com/transparent-proxy": "false", "consul.hashicorp.com/transparent-proxy-exclude-uids": "5996"}
	inj_001.deny == set() with input as _pod(obj)
	inj_001.deny == set() with input as _pod(object.union(obj, {"consul.hashicorp.com/connect-inject": "false"}))
}

test_deny_opt_out_in_mesh_namespace if {
	obj := _deploy({"consul.hashicorp.com/connect-inject": "false"})
	_ids(inj_001.deny) == {["CONSUL-INJ-001", "high", ["spec", "template", "metadata", "annotations", "consul.hashicorp.com/connect-inject"]]} with input as obj with data.meshguard.config as _mesh_shop
	{f.msg | some f in inj_001.deny} == {"CONSUL-INJ-001: Deployment shop/web opts out of Consul sidecar injection in namespace shop, whose workloads must be meshed"} with input as obj with data.meshguard.config as _mesh_shop
	inj_001.deny == set() with input as obj
}

test_deny_exclusions_in_mesh_namespace_without_inject_annotation if {
	obj := _pod({"consul.hashicorp.com/transparent-proxy-exclude-outbound-cidrs": "10.0.0.0/8"})
	_ids(inj_001.deny) == {["CONSUL-INJ-001", "high", ["metadata", "annotations", "consul.hashicorp.com/transparent-proxy-exclude-outbound-cidrs"]]} with input as obj with data.meshguard.config as _mesh_shop
}

test_deny_namespace_transparent_proxy_off if {
	ns := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"consul.hashicorp.com/transparent-proxy": "false"}}}
	_ids(inj_001.deny) == {["CONSUL-INJ-001", "high", ["metadata", "labels", "consul.hashicorp.com/transparent-proxy"]]} with input as ns
	{f.msg | some f in inj_001.deny} == {"CONSUL-INJ-001: Namespace shop turns off the Consul transparent proxy for its workloads, so their traffic is not redirected through the sidecar"} with input as ns
	inj_001.deny == set() with input as {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"consul.hashicorp.com/transparent-proxy": "true"}}}
}

test_allow_meshed_workload if {
	inj_001.deny == set() with input as _pod(_inject)
	inj_001.deny == set() with input as _pod(object.union(_inject, {"consul.hashicorp.com/transparent-proxy": "true"}))
	inj_001.mutate == set() with input as _pod(_inject) with data.meshguard.config as _mesh_shop
}

test_mutate_requests_injection_in_mesh_namespaces if {
	inj_001.mutate == {{"path": ["spec", "template", "metadata", "annotations", "consul.hashicorp.com/connect-inject"], "value": "true"}} with input as _deploy({}) with data.meshguard.config as _mesh_shop
	inj_001.mutate == set() with input as _deploy({})
	inj_001.mutate == set() with input as _deploy({"consul.hashicorp.com/connect-inject": "false"}) with data.meshguard.config as _mesh_shop
}

test_other_kinds_are_not_judged if {
	inj_001.deny == set() with input as {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "shop", "labels": {"consul.hashicorp.com/transparent-proxy": "false"}}}
}

# The engine has matched the kind already (kube.indexed).
test_deny_when_engine_indexed if {
	_ids(inj_001.deny) == {["CONSUL-INJ-001", "high", ["metadata", "annotations", "consul.hashicorp.com/transparent-proxy"]]} with input as _pod(object.union(_inject, {"consul.hashicorp.com/transparent-proxy": "false"}))
		with data.meshguard.engine.indexed as true
}
