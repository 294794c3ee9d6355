package meshguard.istio.inj_001_test

import data.meshguard.istio.inj_001

# --- helpers -----------------------------------------------------------------

_namespace(labels) := {
	"apiVersion": "v1",
	"kind": "Namespace",
	"metadata": {"name": "shop", "labels": labels},
}

_inv(labels) := {"namespaces": {"shop": _namespace(labels)}}

_enabled := _inv({"istio-injection": "enabled"})

_pod_meta(labels, annotations) := {"labels": labels, "annotations": annotations}

_pod_spec := {"containers": [{"name": "api", "image": "registry.example.com/api:1.0"}]}

_template(meta) := {"metadata": meta, "spec": _pod_spec}

_deployment(meta) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "api", "namespace": "shop"},
	"spec": {"selector": {"matchLabels": {"app": "api"}}, "template": _template(meta)},
}

_pod(meta) := {
	"apiVersion": "v1",
	"kind": "Pod",
	"metadata": object.union({"name": "api", "namespace": "shop"}, meta),
	"spec": _pod_spec,
}

_cron_job(meta) := {
	"apiVersion": "batch/v1",
	"kind": "CronJob",
	"metadata": {"name": "api", "namespace": "shop"},
	"spec": {"schedule": "@hourly", "jobTemplate": {"spec": {"template": _template(meta)}}},
}

# Deployment-shaped workload of another kind and apiVersion.
_templated(api_version, kind, meta) := object.union(_deployment(meta), {"apiVersion": api_version, "kind": kind})

_opt_out_label := _pod_meta({"app": "api", "sidecar.istio.io/inject": "false"}, {})

_opt_out_annotation := _pod_meta({"app": "api"}, {"sidecar.istio.io/inject": "false"})

_review(obj) := {
	"apiVersion": "admission.k8s.io/v1",
	"kind": "AdmissionReview",
	"request": {"operation": "CREATE", "object": obj},
}

_f(kind, path) := {
	"msg": sprintf("ISTIO-INJ-001: %s shop/api opts out of sidecar injection in namespace shop, which is enrolled in the mesh", [kind]),
	"id": "ISTIO-INJ-001",
	"severity": "high",
	"path": path,
}

_template_label := ["spec", "template", "metadata", "labels", "sidecar.istio.io/inject"]

_template_annotation := ["spec", "template", "metadata", "annotations", "sidecar.istio.io/inject"]

# The package has no warn rule: no warnings means the document is undefined.
_passes if {
	count(inj_001.deny) == 0
	not inj_001.warn
}

# --- deny: opt-out in an enrolled namespace ----------------------------------

# RULES.md violating example.
test_deny_deployment_label_opt_out if {
	obj := _deployment(_opt_out_label)
	inj_001.deny == {_f("Deployment", _template_label)} with input as obj with data.inventory as _enabled
	not inj_001.warn with input as obj with data.inventory as _enabled
}

test_deny_deployment_annotation_opt_out if {
	obj := _deployment(_opt_out_annotation)
	inj_001.deny == {_f("Deployment", _template_annotation)} with input as obj with data.inventory as _enabled
}

# The label wins over the deprecated annotation, as in Istio's injector.
test_deny_label_and_annotation_opt_out if {
	meta := _pod_meta({"sidecar.istio.io/inject": "false"}, {"sidecar.istio.io/inject": "false"})
	inj_001.deny == {_f("Deployment", _template_label)} with input as _deployment(meta) with data.inventory as _enabled
}

test_deny_pod_opt_out if {
	inj_001.deny == {_f("Pod", ["metadata", "annotations", "sidecar.istio.io/inject"])} with input as _pod(_opt_out_annotation)
		with data.inventory as _enabled
	inj_001.deny == {_f("Pod", ["metadata", "labels", "sidecar.istio.io/inject"])} with input as _pod(_opt_out_label)
		with data.inventory as _enabled
}

test_deny_cron_job_opt_out if {
	path := ["spec", "jobTemplate", "spec", "template", "metadata", "labels", "sidecar.istio.io/inject"]
	inj_001.deny == {_f("CronJob", path)} with input as _cron_job(_opt_out_label) with data.inventory as _enabled
}

test_deny_every_templated_workload_kind if {
	every api_version, kind in {
		"apps/v1": "StatefulSet",
		"batch/v1": "Job",
	} {
		inj_001.deny == {_f(kind, _template_label)} with input as _templated(api_version, kind, _opt_out_label)
			with data.inventory as _enabled
	}
	every kind in ["DaemonSet", "ReplicaSet"] {
		inj_001.deny == {_f(kind, _template_annotation)} with input as _templated("apps/v1", kind, _opt_out_annotation)
			with data.inventory as _enabled
	}
}

test_deny_opt_out_in_revision_namespace if {
	inj_001.deny == {_f("Deployment", _template_label)} with input as _deployment(_opt_out_label)
		with data.inventory as _inv({"istio.io/rev": "1-24"})
}

# Regression (fixed; the test keeps it fixed): Istio opts a pod out for any non-empty value other than y/yes/true/on
# (case-insensitive; istio/istio pkg/kube/inject/inject.go injectRequired), so
# "False", "no" or "off" skip the sidecar just like "false", but the rule
# only matches the exact string "false".
test_deny_opt_out_value_spellings if {
	every value in ["False", "FALSE", "no", "off", "n"] {
		meta := _pod_meta({"sidecar.istio.io/inject": value}, {})
		inj_001.deny == {_f("Deployment", _template_label)} with input as _deployment(meta)
			with data.inventory as _enabled
	}
}

# Regression (fixed; the test keeps it fixed): the label, when present, wins over the deprecated annotation (same
# injectRequired), so a pod labelled "true" gets its sidecar even with the
# annotation "false"; the rule still denies it.
test_allow_label_true_overrides_annotation_false if {
	meta := _pod_meta({"sidecar.istio.io/inject": "true"}, {"sidecar.istio.io/inject": "false"})
	_passes with input as _deployment(meta) with data.inventory as _enabled
}

# --- allow -------------------------------------------------------------------

# RULES.md compliant example.
test_allow_no_opt_out if {
	_passes with input as _deployment(_pod_meta({"app": "api"}, {})) with data.inventory as _enabled
}

test_allow_template_without_metadata if {
	obj := json.remove(_deployment({}), ["spec/template/metadata"])
	not obj.spec.template.metadata
	obj.spec.template.spec
	_passes with input as obj with data.inventory as _enabled
}

test_allow_inject_true if {
	meta := _pod_meta({"sidecar.istio.io/inject": "true"}, {"sidecar.istio.io/inject": "true"})
	_passes with input as _deployment(meta) with data.inventory as _enabled
}

test_allow_opt_out_in_disabled_namespace if {
	_passes with input as _deployment(_opt_out_label) with data.inventory as _inv({"istio-injection": "disabled"})
}

# istio-injection=disabled wins over a revision label.
test_allow_opt_out_in_disabled_revision_namespace if {
	_passes with input as _deployment(_opt_out_label)
		with data.inventory as _inv({"istio-injection": "disabled", "istio.io/rev": "1-24"})
}

test_allow_opt_out_in_unlabelled_namespace if {
	_passes with input as _pod(_opt_out_annotation) with data.inventory as _inv({"team": "shop"})
}

# Offline without the Namespace among the inputs, enrolment is unknown.
test_allow_opt_out_namespace_not_in_inventory if {
	_passes with input as _deployment(_opt_out_label)
	_passes with input as _deployment(_opt_out_label) with data.inventory as {"namespaces": {"other": _namespace({"istio-injection": "enabled"})}}
}

# --- kind guard and front doors ----------------------------------------------

test_allow_wrong_kind if {
	svc := {
		"apiVersion": "v1",
		"kind": "Service",
		"metadata": {"name": "api", "namespace": "shop", "labels": {"sidecar.istio.io/inject": "false"}},
		"spec": {"ports": [{"port": 80}]},
	}
	_passes with input as svc with data.inventory as _enabled
}

test_allow_wrong_group if {
	old := _templated("extensions/v1beta1", "Deployment", _opt_out_label)
	_passes with input as old with data.inventory as _enabled
}

test_deny_label_opt_out_admission_review if {
	obj := _deployment(_opt_out_label)
	bare := inj_001.deny with input as obj with data.inventory as _enabled
	reviewed := inj_001.deny with input as _review(obj) with data.inventory as _enabled
	bare == {_f("Deployment", _template_label)}
	reviewed == bare
}

test_deny_label_opt_out_engine_indexed if {
	inj_001.deny == {_f("Deployment", _template_label)} with input as _deployment(_opt_out_label)
		with data.inventory as _enabled
		with data.meshguard.engine.indexed as true
}
