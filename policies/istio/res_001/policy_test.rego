package meshguard.istio.res_001_test

import data.meshguard.istio.res_001
import data.meshguard.lib.config

# --- helpers -----------------------------------------------------------------

_cpu := "sidecar.istio.io/proxyCPU"

_cpu_limit := "sidecar.istio.io/proxyCPULimit"

_memory := "sidecar.istio.io/proxyMemory"

_memory_limit := "sidecar.istio.io/proxyMemoryLimit"

_complete := {_cpu: "100m", _memory: "128Mi", _memory_limit: "512Mi"}

_enrolled := {"namespaces": {"shop": {
	"apiVersion": "v1",
	"kind": "Namespace",
	"metadata": {"name": "shop", "labels": {"istio-injection": "enabled"}},
}}}

_app := {"name": "api", "image": "registry.example.com/api:1.0"}

_proxy(resources) := {"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.28.0", "resources": resources}

_pod_with(annotations, labels, spec) := {
	"apiVersion": "v1",
	"kind": "Pod",
	"metadata": {"name": "api", "namespace": "shop", "annotations": annotations, "labels": labels},
	"spec": spec,
}

_pod(annotations) := _pod_with(annotations, {"app": "api"}, {"containers": [_app]})

_template(annotations, labels, spec) := {"metadata": {"annotations": annotations, "labels": labels}, "spec": spec}

_deployment_with(annotations, labels, spec) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "api", "namespace": "shop"},
	"spec": {"selector": {"matchLabels": {"app": "api"}}, "template": _template(annotations, labels, spec)},
}

_deployment(annotations) := _deployment_with(annotations, {"app": "api"}, {"containers": [_app]})

_review(obj) := {
	"apiVersion": "admission.k8s.io/v1",
	"kind": "AdmissionReview",
	"request": {"operation": "CREATE", "object": obj},
}

_f(msg, path) := {"msg": msg, "id": "ISTIO-RES-001", "severity": "medium", "path": path}

_none(ref, path) := _f(
	sprintf("ISTIO-RES-001: %s will get an Istio sidecar but sets no proxy resources; add the sidecar.istio.io/proxyCPU, proxyMemory and proxyMemoryLimit annotations", [ref]),
	path,
)

_partial(ref, key, path) := _f(
	sprintf("ISTIO-RES-001: %s sets some proxy resources but not %s; the injector then drops every default, so set all of proxyCPU, proxyMemory and proxyMemoryLimit", [ref, key]),
	path,
)

_unparsable(ref, key, value, path) := _f(sprintf("ISTIO-RES-001: %s: %s value %q is not a Kubernetes quantity", [ref, key, value]), path)

_below(ref, key, value, min, path) := _f(sprintf("ISTIO-RES-001: %s: %s %s is below the minimum %s", [ref, key, value, min]), path)

_above(ref, key, value, max, path) := _f(sprintf("ISTIO-RES-001: %s: %s %s is above the maximum %s", [ref, key, value, max]), path)

_under_request(ref, key, value, request, path) := _f(sprintf("ISTIO-RES-001: %s: %s %s is below the request %s", [ref, key, value, request]), path)

_pod_ann(key) := ["metadata", "annotations", key]

_tpl_ann(key) := ["spec", "template", "metadata", "annotations", key]

# The package has no warn rule: no warnings means the document is undefined.
_passes if {
	count(res_001.deny) == 0
	not res_001.warn
}

# --- (a) incomplete annotations ----------------------------------------------

# RULES.md violating example: only CPU set.
test_deny_only_cpu_annotation if {
	pod := _pod({_cpu: "50m"})
	res_001.deny == {
		_partial("Pod shop/api", _memory, ["metadata", "annotations"]),
		_partial("Pod shop/api", _memory_limit, ["metadata", "annotations"]),
	} with input as pod with data.inventory as _enrolled
	not res_001.warn with input as pod with data.inventory as _enrolled
}

test_deny_only_cpu_limit_annotation if {
	path := ["spec", "template", "metadata", "annotations"]
	res_001.deny == {
		_partial("Deployment shop/api", _cpu, path),
		_partial("Deployment shop/api", _memory, path),
		_partial("Deployment shop/api", _memory_limit, path),
	} with input as _deployment({_cpu_limit: "500m"}) with data.inventory as _enrolled
}

# RULES.md compliant example.
test_allow_complete_annotations if {
	_passes with input as _pod(_complete) with data.inventory as _enrolled
}

test_allow_complete_annotations_with_cpu_limit if {
	_passes with input as _deployment(object.union(_complete, {_cpu_limit: "2"})) with data.inventory as _enrolled
}

# --- none set ----------------------------------------------------------------

test_deny_no_annotations_in_enrolled_namespace if {
	res_001.deny == {_none("Deployment shop/api", ["spec", "template", "metadata", "annotations"])} with input as _deployment({})
		with data.inventory as _enrolled
}

test_deny_no_annotations_with_inject_label if {
	obj := _deployment_with({}, {"app": "api", "sidecar.istio.io/inject": "true"}, {"containers": [_app]})
	res_001.deny == {_none("Deployment shop/api", ["spec", "template", "metadata", "annotations"])} with input as obj
}

test_deny_no_annotations_cron_job if {
	cron := {
		"apiVersion": "batch/v1",
		"kind": "CronJob",
		"metadata": {"name": "api", "namespace": "shop"},
		"spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": _template({}, {}, {"containers": [_app]})}}},
	}
	path := ["spec", "jobTemplate", "spec", "template", "metadata", "annotations"]
	res_001.deny == {_none("CronJob shop/api", path)} with input as cron with data.inventory as _enrolled
}

test_deny_every_templated_workload_kind if {
	every api_version, kind in {"apps/v1": "StatefulSet", "batch/v1": "Job"} {
		obj := object.union(_deployment({_cpu: "50m", _memory: "64Mi"}), {"apiVersion": api_version, "kind": kind})
		res_001.deny == {_partial(sprintf("%s shop/api", [kind]), _memory_limit, ["spec", "template", "metadata", "annotations"])} with input as obj
			with data.inventory as _enrolled
	}
	every kind in ["DaemonSet", "ReplicaSet"] {
		obj := object.union(_deployment({}), {"kind": kind})
		res_001.deny == {_none(sprintf("%s shop/api", [kind]), ["spec", "template", "metadata", "annotations"])} with input as obj
			with data.inventory as _enrolled
	}
}

# --- no sidecar, nothing to check --------------------------------------------

test_allow_no_annotations_namespace_not_enrolled if {
	_passes with input as _deployment({})
	_passes with input as _deployment({}) with data.inventory as {"namespaces": {"shop": {"metadata": {"name": "shop"}}}}
}

test_allow_inject_label_in_disabled_namespace if {
	obj := _deployment_with({}, {"sidecar.istio.io/inject": "true"}, {"containers": [_app]})
	disabled := {"namespaces": {"shop": {"metadata": {"name": "shop", "labels": {"istio-injection": "disabled"}}}}}
	_passes with input as obj with data.inventory as disabled
}

test_allow_opted_out_workload if {
	obj := _deployment_with({_cpu: "5m"}, {"sidecar.istio.io/inject": "false"}, {"containers": [_app]})
	_passes with input as obj with data.inventory as _enrolled
	_passes with input as _deployment({"sidecar.istio.io/inject": "false"}) with data.inventory as _enrolled
}

# --- (b) unparsable values ---------------------------------------------------

test_deny_unparsable_annotation if {
	pod := _pod(object.union(_complete, {_memory: "lots"}))
	res_001.deny == {_unparsable("Pod shop/api", _memory, "lots", _pod_ann(_memory))} with input as pod with data.inventory as _enrolled
}

# --- (b) bounds --------------------------------------------------------------

test_deny_requests_below_minimum if {
	pod := _pod({_cpu: "5m", _memory: "16Mi", _memory_limit: "512Mi"})
	res_001.deny == {
		_below("Pod shop/api", _cpu, "5m", "10m", _pod_ann(_cpu)),
		_below("Pod shop/api", _memory, "16Mi", "32Mi", _pod_ann(_memory)),
	} with input as pod with data.inventory as _enrolled
}

test_allow_values_at_bounds if {
	_passes with input as _pod({_cpu: "10m", _memory: "32Mi", _memory_limit: "2Gi", _cpu_limit: "2000m"}) with data.inventory as _enrolled
	_passes with input as _pod({_cpu: "1", _memory: "1Gi", _memory_limit: "1Gi", _cpu_limit: "1"}) with data.inventory as _enrolled
}

test_deny_values_above_maximum if {
	pod := _pod({_cpu: "1500m", _memory: "2Gi", _memory_limit: "4Gi", _cpu_limit: "3"})
	res_001.deny == {
		_above("Pod shop/api", _cpu, "1500m", "1000m", _pod_ann(_cpu)),
		_above("Pod shop/api", _memory, "2Gi", "1Gi", _pod_ann(_memory)),
		_above("Pod shop/api", _memory_limit, "4Gi", "2Gi", _pod_ann(_memory_limit)),
		_above("Pod shop/api", _cpu_limit, "3", "2000m", _pod_ann(_cpu_limit)),
	} with input as pod with data.inventory as _enrolled
}

test_deny_limits_below_requests if {
	obj := _deployment({_cpu: "500m", _cpu_limit: "200m", _memory: "256Mi", _memory_limit: "128Mi"})
	res_001.deny == {
		_under_request("Deployment shop/api", _cpu_limit, "200m", "500m", _tpl_ann(_cpu_limit)),
		_under_request("Deployment shop/api", _memory_limit, "128Mi", "256Mi", _tpl_ann(_memory_limit)),
	} with input as obj with data.inventory as _enrolled
}

# --- an injected Pod, judged on its istio-proxy container --------------------

test_allow_injected_pod_with_proxy_resources if {
	proxy := _proxy({"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "2", "memory": "1Gi"}})
	_passes with input as _pod_with({}, {}, {"containers": [_app, proxy]})
}

test_deny_injected_pod_without_proxy_resources if {
	pod := _pod_with({}, {}, {"containers": [_app, {"name": "istio-proxy", "image": "proxyv2"}]})
	res_001.deny == {_none("Pod shop/api", ["metadata", "annotations"])} with input as pod
}

test_deny_injected_pod_missing_memory_limit if {
	pod := _pod_with({}, {}, {"containers": [_app, _proxy({"requests": {"cpu": "100m", "memory": "128Mi"}})]})
	res_001.deny == {_partial("Pod shop/api", _memory_limit, ["metadata", "annotations"])} with input as pod
}

test_deny_injected_pod_proxy_out_of_bounds if {
	proxy := _proxy({"requests": {"cpu": "4", "memory": "128Mi"}, "limits": {"memory": "64Mi"}})
	p := ["spec", "containers", 1, "resources"]
	res_001.deny == {
		_above("Pod shop/api", _cpu, "4", "1000m", array.concat(p, ["requests", "cpu"])),
		_under_request("Pod shop/api", _memory_limit, "64Mi", "128Mi", array.concat(p, ["limits", "memory"])),
	} with input as _pod_with({}, {}, {"containers": [_app, proxy]})
}

# Native sidecar: the proxy is an init container.
test_deny_native_sidecar_proxy_out_of_bounds if {
	proxy := _proxy({"requests": {"cpu": "100m", "memory": "8Mi"}, "limits": {"memory": "1Gi"}})
	pod := _pod_with({}, {}, {"initContainers": [proxy], "containers": [_app]})
	res_001.deny == {_below("Pod shop/api", _memory, "8Mi", "32Mi", ["spec", "initContainers", 0, "resources", "requests", "memory"])} with input as pod
}

# Annotations, when present, decide (the injector renders from them).
test_allow_annotations_win_over_proxy_container if {
	proxy := _proxy({"requests": {"cpu": "4"}})
	_passes with input as _pod_with(_complete, {}, {"containers": [_app, proxy]})
}

test_deny_template_proxy_override_out_of_bounds if {
	proxy := _proxy({"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "3Gi"}})
	obj := _deployment_with({}, {}, {"containers": [_app, proxy]})
	path := ["spec", "template", "spec", "containers", 1, "resources", "limits", "memory"]
	res_001.deny == {_above("Deployment shop/api", _memory_limit, "3Gi", "2Gi", path)} with input as obj
}

# Regression (fixed; the test keeps it fixed): Kubernetes quantities may be YAML numbers (`cpu: 1`); read offline from
# a manifest they reach the policy as numbers, units.parse fails on them and
# the rule reports "proxyCPU value '\x01' is not a Kubernetes quantity".
test_allow_numeric_proxy_quantities if {
	proxy := _proxy({"requests": {"cpu": 1, "memory": "128Mi"}, "limits": {"cpu": 2, "memory": "1Gi"}})
	_passes with input as _pod_with({}, {}, {"containers": [_app, proxy]})
}

# The annotations the mutating webhook adds (RULES.md ISTIO-RES-001 mutation)
# satisfy the rule.
test_allow_mutation_defaults if {
	s := config.params.sidecar
	_passes with input as _pod({_cpu: s.cpuRequest, _memory: s.memoryRequest, _memory_limit: s.memoryLimit})
		with data.inventory as _enrolled
}

# --- config override ---------------------------------------------------------

test_deny_config_bounds_override if {
	cfg := {"sidecar": {"cpuRequestMax": "500m", "memoryLimitMax": "512Mi"}}
	pod := _pod({_cpu: "800m", _memory: "128Mi", _memory_limit: "1Gi"})
	_passes with input as pod with data.inventory as _enrolled
	res_001.deny == {
		_above("Pod shop/api", _cpu, "800m", "500m", _pod_ann(_cpu)),
		_above("Pod shop/api", _memory_limit, "1Gi", "512Mi", _pod_ann(_memory_limit)),
	} with input as pod with data.inventory as _enrolled with data.meshguard.config as cfg
}

test_deny_config_minimum_override if {
	pod := _pod({_cpu: "50m", _memory: "128Mi", _memory_limit: "1Gi"})
	res_001.deny == {_below("Pod shop/api", _cpu, "50m", "100m", _pod_ann(_cpu))} with input as pod
		with data.inventory as _enrolled
		with data.meshguard.config as {"sidecar": {"cpuRequestMin": "100m"}}
}

# --- kind guard and front doors ----------------------------------------------

test_allow_wrong_kind if {
	svc := {
		"apiVersion": "v1",
		"kind": "Service",
		"metadata": {"name": "api", "namespace": "shop", "annotations": {_cpu: "5m"}, "labels": {"sidecar.istio.io/inject": "true"}},
		"spec": {"ports": [{"port": 80}]},
	}
	_passes with input as svc with data.inventory as _enrolled
}

test_allow_wrong_group if {
	_passes with input as object.union(_deployment({_cpu: "5m"}), {"apiVersion": "extensions/v1beta1"}) with data.inventory as _enrolled
}

test_deny_only_cpu_annotation_admission_review if {
	pod := _pod({_cpu: "50m"})
	bare := res_001.deny with input as pod with data.inventory as _enrolled
	reviewed := res_001.deny with input as _review(pod) with data.inventory as _enrolled
	bare == {
		_partial("Pod shop/api", _memory, ["metadata", "annotations"]),
		_partial("Pod shop/api", _memory_limit, ["metadata", "annotations"]),
	}
	reviewed == bare
}

test_deny_no_annotations_engine_indexed if {
	res_001.deny == {_none("Pod shop/api", ["metadata", "annotations"])} with input as _pod({})
		with data.inventory as _enrolled
		with data.meshguard.engine.indexed as true
}

# --- mutation ----------------------------------------------------------------

_template_annotation(key) := ["spec", "template", "metadata", "annotations", key]

test_mutate_adds_defaults_to_a_template_that_gets_a_sidecar if {
	res_001.mutate == {
		{"path": _template_annotation(_cpu), "value": "100m"},
		{"path": _template_annotation(_memory), "value": "128Mi"},
		{"path": _template_annotation(_memory_limit), "value": "1024Mi"},
	} with input as _review(_deployment({}))
		with data.inventory as _enrolled
}

test_mutate_adds_cpu_limit_only_when_configured if {
	res_001.mutate == {
		{"path": ["metadata", "annotations", _cpu], "value": "100m"},
		{"path": ["metadata", "annotations", _cpu_limit], "value": "500m"},
		{"path": ["metadata", "annotations", _memory], "value": "128Mi"},
		{"path": ["metadata", "annotations", _memory_limit], "value": "1024Mi"},
	} with input as _pod({})
		with data.inventory as _enrolled
		with data.meshguard.config as {"sidecar": {"cpuLimit": "500m"}}
}

test_mutate_every_workload_kind if {
	cron := {
		"apiVersion": "batch/v1",
		"kind": "CronJob",
		"metadata": {"name": "api", "namespace": "shop"},
		"spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": _template({}, {}, {"containers": [_app]})}}},
	}
	cron_path := ["spec", "jobTemplate", "spec", "template", "metadata", "annotations"]
	res_001.mutate == {
		{"path": array.concat(cron_path, [_cpu]), "value": "100m"},
		{"path": array.concat(cron_path, [_memory]), "value": "128Mi"},
		{"path": array.concat(cron_path, [_memory_limit]), "value": "1024Mi"},
	} with input as cron with data.inventory as _enrolled
	every api_version, kind in {"apps/v1": "StatefulSet", "batch/v1": "Job"} {
		obj := object.union(_deployment({}), {"apiVersion": api_version, "kind": kind})
		count(res_001.mutate) == 3 with input as obj with data.inventory as _enrolled
	}
	every kind in ["DaemonSet", "ReplicaSet"] {
		obj := object.union(_deployment({}), {"kind": kind})
		count(res_001.mutate) == 3 with input as obj with data.inventory as _enrolled
	}
}

# Annotations are strings: a parameter written as a YAML number is rendered.
test_mutate_renders_numeric_parameters_as_strings if {
	res_001.mutate == {
		{"path": _pod_ann(_cpu), "value": "1"},
		{"path": _pod_ann(_memory), "value": "128Mi"},
		{"path": _pod_ann(_memory_limit), "value": "1024Mi"},
	} with input as _pod({})
		with data.inventory as _enrolled
		with data.meshguard.config as {"sidecar": {"cpuRequest": 1}}
}

# The annotations the mutation adds pass the rule (default configuration, and
# with a CPU limit).
test_mutate_result_passes if {
	every cfg in [{}, {"sidecar": {"cpuLimit": "500m"}}] {
		added := {m.path[2]: m.value |
			some m in res_001.mutate with input as _pod({}) with data.inventory as _enrolled with data.meshguard.config as cfg
		}
		count(added) > 2
		_passes with input as _pod(added) with data.inventory as _enrolled with data.meshguard.config as cfg
	}
}

test_mutate_leaves_partial_sets_and_injected_pods_alone if {
	res_001.mutate == set() with input as _deployment({_cpu: "100m"}) with data.inventory as _enrolled
	res_001.mutate == set() with input as _deployment({_cpu_limit: ""}) with data.inventory as _enrolled
	res_001.mutate == set() with input as _pod_with({}, {"app": "api"}, {"containers": [_app, _proxy({})]})
		with data.inventory as _enrolled
	res_001.mutate == set() with input as _pod_with({}, {"app": "api"}, {"initContainers": [_proxy({})], "containers": [_app]})
		with data.inventory as _enrolled
}

test_mutate_nothing_without_a_sidecar if {
	res_001.mutate == set() with input as _deployment({})
	res_001.mutate == set() with input as _deployment({"sidecar.istio.io/inject": "false"}) with data.inventory as _enrolled
}

test_mutate_nothing_for_other_kinds if {
	svc := {
		"apiVersion": "v1",
		"kind": "Service",
		"metadata": {"name": "api", "namespace": "shop", "labels": {"sidecar.istio.io/inject": "true"}},
		"spec": {"ports": [{"port": 80}]},
	}
	res_001.mutate == set() with input as svc with data.inventory as _enrolled
	res_001.mutate == set() with input as object.union(_deployment({}), {"apiVersion": "extensions/v1beta1"}) with data.inventory as _enrolled
}
