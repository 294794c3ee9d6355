package meshguard.consul.res_001_test

import data.meshguard.consul.res_001
import data.meshguard.lib.config

_pod(annotations) := {
	"apiVersion": "v1",
	"kind": "Pod",
	"metadata": {"name": "web", "namespace": "shop", "annotations": object.union({"consul.hashicorp.com/connect-inject": "true"}, annotations)},
	"spec": {"containers": [{"name": "web"}]},
}

_deploy(annotations) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": {"template": {"metadata": {"annotations": annotations}, "spec": {"containers": [{"name": "web"}]}}},
}

_k(s) := sprintf("consul.hashicorp.com/sidecar-proxy-%s", [s])

_ids(fs) := {[f.id, f.severity, f.path] | some f in fs}

_complete := {_k("cpu-request"): "100m", _k("memory-request"): "100Mi", _k("memory-limit"): "100Mi"}

test_warn_missing_resources if {
	obj := _pod({_k("memory-request"): "64Mi"})
	_ids(res_001.warn) == {["CONSUL-RES-001", "medium", ["metadata", "annotations"]]} with input as obj
	{f.msg | some f in res_001.warn} == {"CONSUL-RES-001: Pod shop/web gets the Consul sidecar but does not set consul.hashicorp.com/sidecar-proxy-cpu-request, consul.hashicorp.com/sidecar-proxy-memory-limit, so the proxy runs without those bounds"} with input as obj
	res_001.deny == set() with input as obj
}

test_warn_missing_in_mesh_namespace_template if {
	_ids(res_001.warn) == {["CONSUL-RES-001", "medium", ["spec", "template", "metadata", "annotations"]]} with input as _deploy({}) with data.meshguard.config as {"consul": {"meshNamespaces": ["shop"]}}
	res_001.warn == set() with input as _deploy({})
}

test_deny_limit_below_request if {
	obj := _pod({_k("cpu-request"): "100m", _k("memory-request"): "512Mi", _k("memory-limit"): "64Mi"})
	_ids(res_001.deny) == {["CONSUL-RES-001", "medium", ["metadata", "annotations", _k("memory-limit")]]} with input as obj
	{f.msg | some f in res_001.deny} == {"CONSUL-RES-001: Pod shop/web: consul.hashicorp.com/sidecar-proxy-memory-limit 64Mi is below the request 512Mi"} with input as obj
	res_001.warn == set() with input as obj
	_ids(res_001.deny) == {["CONSUL-RES-001", "medium", ["metadata", "annotations", _k("cpu-limit")]]} with input as _pod(object.union(_complete, {_k("cpu-limit"): "50m"}))
}

test_deny_unparsable if {
	obj := _pod(object.union(_complete, {_k("cpu-request"): "lots"}))
	_ids(res_001.deny) == {["CONSUL-RES-001", "medium", ["metadata", "annotations", _k("cpu-request")]]} with input as obj
	{f.msg | some f in res_001.deny} == {"CONSUL-RES-001: Pod shop/web: consul.hashicorp.com/sidecar-proxy-cpu-request value \"lots\" is not a Kubernetes quantity"} with input as obj
}

test_deny_out_of_bounds if {
	obj := _pod({_k("cpu-request"): "5m", _k("memory-request"): "100Mi", _k("memory-limit"): "4Gi", _k("cpu-limit"): "3"})
	_ids(res_001.deny) == {
		["CONSUL-RES-001", "medium", ["metadata", "annotations", _k("cpu-request")]],
		["CONSUL-RES-001", "medium", ["metadata", "annotations", _k("memory-limit")]],
		["CONSUL-RES-001", "medium", ["metadata", "annotations", _k("cpu-limit")]],
	} with input as obj
	msgs := {f.msg | some f in res_001.deny} with input as obj
	"CONSUL-RES-001: Pod shop/web: consul.hashicorp.com/sidecar-proxy-cpu-request 5m is below the minimum 10m" in msgs
	"CONSUL-RES-001: Pod shop/web: consul.hashicorp.com/sidecar-proxy-memory-limit 4Gi is above the maximum 2Gi" in msgs
}

test_allow_complete if {
	res_001.deny == set() with input as _pod(_complete)
	res_001.warn == set() with input as _pod(_complete)
	res_001.warn == set() with input as _pod(object.union(_complete, {_k("cpu-limit"): 1}))
	res_001.deny == set() with input as _pod(object.union(_complete, {_k("cpu-limit"): 1}))
}

test_not_injected_workloads_are_not_judged if {
	obj := {"consul.hashicorp.com/connect-inject": "false", _k("memory-limit"): "1Ki"}
	res_001.deny == set() with input as _deploy(obj)
	res_001.warn == set() with input as _deploy(obj)
}

test_mutate_adds_defaults_when_none_set if {
	res_001.mutate == {
		{"path": ["metadata", "annotations", _k("cpu-request")], "value": "100m"},
		{"path": ["metadata", "annotations", _k("cpu-limit")], "value": "100m"},
		{"path": ["metadata", "annotations", _k("memory-request")], "value": "100Mi"},
		{"path": ["metadata", "annotations", _k("memory-limit")], "value": "100Mi"},
	} with input as _pod({})
	res_001.mutate == {{"path": ["metadata", "annotations", _k("memory-request")], "value": "100Mi"}} with input as _pod({})
		with data.meshguard.config as {"consul": {"sidecarProxy": {"cpuRequest": "", "cpuLimit": null, "memoryLimit": ""}}}
	res_001.mutate == set() with input as _pod({_k("cpu-limit"): "1"})
	res_001.mutate == set() with input as _pod({"consul.hashicorp.com/connect-inject-status": "injected"})
	res_001.mutate == set() with input as _deploy({})
}

# The defaults the webhook adds satisfy the rule.
test_defaults_within_bounds if {
	d := config.defaults.consul.sidecarProxy
	s := config.defaults.sidecar
	units.parse(s.cpuRequestMin) <= units.parse(d.cpuRequest)
	units.parse(d.cpuRequest) <= units.parse(s.cpuRequestMax)
	units.parse(s.memoryRequestMin) <= units.parse(d.memoryRequest)
	units.parse(d.memoryRequest) <= units.parse(s.memoryRequestMax)
	units.parse(d.memoryRequest) <= units.parse(d.memoryLimit)
	units.parse(d.cpuRequest) <= units.parse(d.cpuLimit)
	units.parse(d.memoryLimit) <= units.parse(s.memoryLimitMax)
	units.parse(d.cpuLimit) <= units.parse(s.cpuLimitMax)
}

# The engine has matched the kind already (kube.indexed).
test_warn_when_engine_indexed if {
	_ids(res_001.warn) == {["CONSUL-RES-001", "medium", ["metadata", "annotations"]]} with input as _pod({})
		with data.meshguard.engine.indexed as true
}
