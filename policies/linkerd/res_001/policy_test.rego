package meshguard.linkerd.res_001_test

import data.meshguard.linkerd.res_001

_k(name) := sprintf("config.linkerd.io/proxy-%s", [name])

_complete := {_k("cpu-request"): "100m", _k("memory-request"): "64Mi", _k("memory-limit"): "256Mi"}

_ns(annotations) := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "emojivoto", "annotations": annotations}}

_deploy(annotations) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": "emojivoto"},
	"spec": {"template": {"metadata": {"annotations": annotations}, "spec": {"containers": [{"name": "web"}]}}},
}

_meshed(annotations) := _deploy(object.union({"linkerd.io/inject": "enabled"}, annotations))

_injected_pod(resources) := {
	"apiVersion": "v1",
	"kind": "Pod",
	"metadata": {"name": "web", "namespace": "emojivoto"},
	"spec": {"containers": [{"name": "web"}, {"name": "linkerd-proxy", "resources": resources}]},
}

_inv(ns_annotations) := {"namespaces": {"emojivoto": _ns(ns_annotations)}, "objects": {}}

_path(key) := ["spec", "template", "metadata", "annotations", key]

_f(msg, path) := {"msg": sprintf("LINKERD-RES-001: %s", [msg]), "id": "LINKERD-RES-001", "severity": "medium", "path": path}

test_warn_meshed_workload_without_resources if {
	res_001.warn == {_f("Deployment emojivoto/web gets a Linkerd proxy but neither it nor its Namespace sets config.linkerd.io/proxy-cpu-request, config.linkerd.io/proxy-memory-request, config.linkerd.io/proxy-memory-limit, so the proxy runs without them; annotate the Namespace or the pod template", ["spec", "template", "metadata", "annotations"])} with input as _meshed({})
	res_001.warn == {_f("Deployment emojivoto/web gets a Linkerd proxy but neither it nor its Namespace sets config.linkerd.io/proxy-memory-limit, so the proxy runs without them; annotate the Namespace or the pod template", ["spec", "template", "metadata", "annotations"])} with input as _meshed({_k("cpu-request"): "100m", _k("memory-request"): "64Mi"})

	# Meshed through its Namespace.
	count(res_001.warn) == 1 with input as _deploy({}) with data.inventory as _inv({"linkerd.io/inject": "enabled"})
}

test_allow_resources_from_the_pod_the_namespace_or_the_proxy_container if {
	res_001.warn == set() with input as _meshed(_complete)
	res_001.deny == set() with input as _meshed(_complete)
	res_001.warn == set() with input as _deploy({}) with data.inventory as _inv(object.union({"linkerd.io/inject": "enabled"}, _complete))
	res_001.warn == set() with input as _meshed({_k("cpu-request"): "100m"}) with data.inventory as _inv({_k("memory-request"): "64Mi", _k("memory-limit"): "256Mi"})
	res_001.warn == set() with input as _injected_pod({"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}})
	count(res_001.warn) == 1 with input as _injected_pod({"requests": {"cpu": "100m"}})
}

test_unmeshed_workloads_are_not_judged if {
	res_001.warn == set() with input as _deploy({})
	res_001.deny == set() with input as _deploy({_k("memory-request"): "512Mi", _k("memory-limit"): "128Mi"})
	res_001.warn == set() with input as _deploy({"linkerd.io/inject": "disabled"}) with data.inventory as _inv({"linkerd.io/inject": "enabled"})
}

test_deny_unparsable_values if {
	res_001.deny == {_f("Deployment emojivoto/web: config.linkerd.io/proxy-cpu-request value \"lots\" is not a Kubernetes quantity", _path(_k("cpu-request")))} with input as _meshed(object.union(_complete, {_k("cpu-request"): "lots"}))
	res_001.deny == {_f("Namespace emojivoto: config.linkerd.io/proxy-ephemeral-storage-limit value \"x\" is not a Kubernetes quantity", ["metadata", "annotations", _k("ephemeral-storage-limit")])} with input as _ns({_k("ephemeral-storage-limit"): "x"})
}

test_deny_out_of_bounds if {
	res_001.deny == {
		_f("Deployment emojivoto/web: config.linkerd.io/proxy-cpu-request 5m is below the minimum 10m", _path(_k("cpu-request"))),
		_f("Deployment emojivoto/web: config.linkerd.io/proxy-memory-request 2Gi is above the maximum 1Gi", _path(_k("memory-request"))),
		_f("Deployment emojivoto/web: config.linkerd.io/proxy-memory-limit 4Gi is above the maximum 2Gi", _path(_k("memory-limit"))),
		_f("Deployment emojivoto/web: config.linkerd.io/proxy-cpu-limit 3 is above the maximum 2000m", _path(_k("cpu-limit"))),
	} with input as _meshed({_k("cpu-request"): "5m", _k("memory-request"): "2Gi", _k("memory-limit"): "4Gi", _k("cpu-limit"): "3"})
	res_001.deny == {_f("Namespace emojivoto: config.linkerd.io/proxy-memory-request 16Mi is below the minimum 32Mi", ["metadata", "annotations", _k("memory-request")])} with input as _ns({_k("memory-request"): "16Mi"})
}

test_bounds_are_parameters if {
	res_001.deny == set() with input as _meshed(object.union(_complete, {_k("memory-limit"): "4Gi"}))
		with data.meshguard.config as {"sidecar": {"memoryLimitMax": "8Gi"}}
}

test_deny_limit_below_request if {
	res_001.deny == {_f("Deployment emojivoto/web: config.linkerd.io/proxy-memory-limit 128Mi is below the request 512Mi", _path(_k("memory-limit")))} with input as _meshed({_k("cpu-request"): "100m", _k("memory-request"): "512Mi", _k("memory-limit"): "128Mi"})
	res_001.deny == {_f("Namespace emojivoto: config.linkerd.io/proxy-ephemeral-storage-limit 1Gi is below the request 2Gi", ["metadata", "annotations", _k("ephemeral-storage-limit")])} with input as _ns({_k("ephemeral-storage-request"): "2Gi", _k("ephemeral-storage-limit"): "1Gi"})

	# The request from the workload, the limit from its Namespace: reported on the workload's request.
	res_001.deny == {_f("Deployment emojivoto/web: config.linkerd.io/proxy-cpu-limit 200m is below the request 500m", _path(_k("cpu-request")))} with input as _meshed(object.union(_complete, {_k("cpu-request"): "500m"}))
		with data.inventory as _inv({_k("cpu-limit"): "200m"})

	# Both from the Namespace: reported on the Namespace only.
	res_001.deny == set() with input as _meshed(_complete) with data.inventory as _inv({_k("cpu-request"): "500m", _k("cpu-limit"): "200m"})
	res_001.deny == set() with input as _meshed(object.union(_complete, {_k("cpu-limit"): "100m"}))
}

test_deny_bad_cpu_ratio if {
	every v in ["0", "1.5", "half", "-0.5"] {
		res_001.deny == {_f(sprintf("Deployment emojivoto/web: config.linkerd.io/proxy-cpu-ratio-limit value %q is not a number in (0, 1]", [v]), _path(_k("cpu-ratio-limit")))} with input as _meshed(object.union(_complete, {_k("cpu-ratio-limit"): v}))
	}
	res_001.deny == set() with input as _meshed(object.union(_complete, {_k("cpu-ratio-limit"): "0.5"}))
	res_001.deny == set() with input as _meshed(object.union(_complete, {_k("cpu-ratio-limit"): "1"}))
}

test_other_kinds_are_not_judged if {
	res_001.deny == set() with input as {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "annotations": {_k("cpu-request"): "lots"}}}
}

_defaults := {
	{"path": _path(_k("cpu-request")), "value": "100m"},
	{"path": _path(_k("memory-request")), "value": "64Mi"},
	{"path": _path(_k("memory-limit")), "value": "256Mi"},
}

test_mutate_adds_the_defaults_to_meshed_workloads_that_set_none if {
	res_001.mutate == _defaults with input as _meshed({})
	res_001.mutate == _defaults with input as _deploy({}) with data.inventory as _inv({"linkerd.io/inject": "enabled"})
	res_001.mutate == {{"path": ["metadata", "annotations", _k("cpu-request")], "value": "100m"}} with input as object.union(_injected_pod({}), {"metadata": {"annotations": {"linkerd.io/inject": "enabled"}}, "spec": {"containers": [{"name": "web"}]}})
		with data.meshguard.config as {"linkerd": {"proxyMemoryRequest": "", "proxyMemoryLimit": ""}}
}

test_mutate_leaves_partial_sets_namespaces_injected_pods_and_unknown_namespaces if {
	res_001.mutate == set() with input as _meshed({_k("cpu-request"): "100m"})
	res_001.mutate == set() with input as _meshed({_k("cpu-ratio-limit"): "0.5"})
	res_001.mutate == set() with input as _meshed({}) with data.inventory as _inv({_k("memory-limit"): "1Gi"})
	res_001.mutate == set() with input as _injected_pod({}) with data.inventory as _inv({"linkerd.io/inject": "enabled"})
	res_001.mutate == set() with input as _meshed({}) with data.meshguard.engine.inventory as false
	res_001.mutate == set() with input as _deploy({})
	res_001.mutate == set() with input as _ns({"linkerd.io/inject": "enabled"})
}

test_mutated_defaults_satisfy_the_rule if {
	mutated := object.union(_meshed({}), {"spec": {"template": {"metadata": {"annotations": {k: v | some m in _defaults; k := m.path[4]; v := m.value}}}}})
	res_001.warn == set() with input as mutated
	res_001.deny == set() with input as mutated
	res_001.mutate == set() with input as mutated
}
