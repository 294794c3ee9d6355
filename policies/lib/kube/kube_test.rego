package meshguard.lib.kube_test

import data.meshguard.lib.kube

# --- helpers -----------------------------------------------------------------

_deployment := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "api", "namespace": "shop"},
	"spec": {"template": {
		"metadata": {"labels": {"app": "api"}, "annotations": {"a": "1"}},
		"spec": {"containers": [{"name": "api"}]},
	}},
}

_old_deployment := json.patch(_deployment, [{"op": "replace", "path": "/metadata/name", "value": "old"}])

_review(operation, extra) := {
	"apiVersion": "admission.k8s.io/v1",
	"kind": "AdmissionReview",
	"request": object.union({"uid": "705ab4f5", "operation": operation}, extra),
}

_chain(kinds) := [
	{"path": ["meshguard", "istio", "x", "deny"], "annotations": {"scope": "rule"}},
	{"path": ["meshguard", "istio", "x"], "annotations": {"custom": {"id": "X-1", "kinds": kinds}}},
]

# --- obj and operation -------------------------------------------------------

test_obj_is_bare_input if {
	kube.obj == _deployment with input as _deployment
	kube.operation == "CREATE" with input as _deployment
	kube.obj == {"metadata": {"name": "no-kind"}} with input as {"metadata": {"name": "no-kind"}}
}

test_obj_of_admission_review_create if {
	review := _review("CREATE", {"object": _deployment})
	kube.obj == _deployment with input as review
	kube.operation == "CREATE" with input as review
}

test_obj_of_admission_review_update_is_new_object if {
	review := _review("UPDATE", {"object": _deployment, "oldObject": _old_deployment})
	kube.obj == _deployment with input as review
	kube.operation == "UPDATE" with input as review
}

test_obj_of_admission_review_delete_is_old_object if {
	review := _review("DELETE", {"oldObject": _old_deployment})
	kube.obj == _old_deployment with input as review
	kube.name == "old" with input as review
	kube.operation == "DELETE" with input as review
}

# Another kind with a `request` field is not an AdmissionReview.
test_obj_other_kind_with_request_field if {
	obj := {"apiVersion": "example.com/v1", "kind": "Thing", "request": {"object": _deployment}}
	kube.obj == obj with input as obj
	kube.operation == "CREATE" with input as obj
}

# --- identity ----------------------------------------------------------------

test_group_kind_name_namespace if {
	kube.group == "apps" with input as _deployment
	kube.kind == "Deployment" with input as _deployment
	kube.name == "api" with input as _deployment
	kube.namespace == "shop" with input as _deployment
}

test_group_of_core_and_dotted_groups if {
	kube.group == "" with input as {"apiVersion": "v1", "kind": "Pod"}
	kube.group == "security.istio.io" with input as {"apiVersion": "security.istio.io/v1beta1", "kind": "PeerAuthentication"}
	kube.group == "networking.istio.io" with input as _review("CREATE", {"object": {"apiVersion": "networking.istio.io/v1alpha3", "kind": "VirtualService"}})
}

test_name_of_unnamed_objects if {
	kube.name == "web-*" with input as {"apiVersion": "v1", "kind": "Pod", "metadata": {"generateName": "web-"}}
	kube.name == "" with input as {"apiVersion": "install.istio.io/v1alpha1", "kind": "IstioOperator", "spec": {}}
	kube.name == "" with input as {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": ""}}
}

test_namespace_defaults_to_empty if {
	kube.namespace == "" with input as {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}
	kube.namespace == "" with input as {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": ""}}
}

# --- engine and METADATA kind guard ------------------------------------------

test_indexed_only_when_engine_says_true if {
	kube.indexed with data.meshguard.engine.indexed as true
	not kube.indexed
	not kube.indexed with data.meshguard.engine.indexed as "true"
	not kube.indexed with data.meshguard.engine.indexed as false
}

test_inventory_known_unless_engine_says_false if {
	kube.inventory_known
	kube.inventory_known with data.meshguard.engine.inventory as true
	not kube.inventory_known with data.meshguard.engine.inventory as false
}

test_applies_matches_group_and_kind if {
	kinds := [{"group": "", "kind": "Pod"}, {"group": "apps", "kind": "Deployment", "versions": ["v1"]}]
	kube.applies(_chain(kinds)) with input as _deployment
	kube.applies(_chain(kinds)) with input as {"apiVersion": "v1", "kind": "Pod"}
}

test_applies_rejects_other_group_or_kind if {
	kinds := [{"group": "apps", "kind": "Deployment"}]
	not kube.applies(_chain(kinds)) with input as object.union(_deployment, {"apiVersion": "extensions/v1beta1"})
	not kube.applies(_chain(kinds)) with input as object.union(_deployment, {"kind": "StatefulSet"})
	not kube.applies(_chain([])) with input as _deployment
	not kube.applies([{"annotations": {"title": "no custom"}}]) with input as _deployment
}

test_applies_to_admission_review_object if {
	kube.applies(_chain([{"group": "apps", "kind": "Deployment"}])) with input as _review("CREATE", {"object": _deployment})
}

# --- workloads (RULES.md §0.3) -----------------------------------------------

test_is_workload_for_each_kind_and_group if {
	every api_version, kinds in {
		"v1": ["Pod"],
		"apps/v1": ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"],
		"batch/v1": ["Job", "CronJob"],
	} {
		every kind in kinds {
			kube.is_workload with input as {"apiVersion": api_version, "kind": kind}
		}
	}
}

test_is_not_workload if {
	not kube.is_workload with input as {"apiVersion": "v1", "kind": "Service"}
	not kube.is_workload with input as {"apiVersion": "batch/v1", "kind": "Deployment"}
	not kube.is_workload with input as {"apiVersion": "example.com/v1", "kind": "Pod"}
}

test_pod_prefix_per_kind if {
	kube.pod_prefix == [] with input as {"apiVersion": "v1", "kind": "Pod"}
	every kind in ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"] {
		kube.pod_prefix == ["spec", "template"] with input as {"apiVersion": "apps/v1", "kind": kind}
	}
	kube.pod_prefix == ["spec", "template"] with input as {"apiVersion": "batch/v1", "kind": "Job"}
	kube.pod_prefix == ["spec", "jobTemplate", "spec", "template"] with input as {"apiVersion": "batch/v1", "kind": "CronJob"}
	not kube.pod_prefix with input as {"apiVersion": "v1", "kind": "Service"}
}

test_pod_meta_and_spec_of_template if {
	kube.pod_meta == {"labels": {"app": "api"}, "annotations": {"a": "1"}} with input as _deployment
	kube.pod_spec == {"containers": [{"name": "api"}]} with input as _deployment
	kube.pod_labels == {"app": "api"} with input as _deployment
	kube.pod_annotations == {"a": "1"} with input as _deployment
}

test_pod_meta_of_each_workload_shape if {
	pod := {"apiVersion": "v1", "kind": "Pod", "metadata": {"labels": {"k": "pod"}}, "spec": {"containers": []}}
	kube.pod_labels == {"k": "pod"} with input as pod
	kube.pod_spec == {"containers": []} with input as pod
	ds := {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"labels": {"k": "owner"}}, "spec": {"template": {"metadata": {"labels": {"k": "ds"}}}}}
	kube.pod_labels == {"k": "ds"} with input as ds
	cron := {
		"apiVersion": "batch/v1",
		"kind": "CronJob",
		"metadata": {"labels": {"k": "owner"}},
		"spec": {"jobTemplate": {
			"metadata": {"labels": {"k": "job"}},
			"spec": {"template": {"metadata": {"annotations": {"k": "cron"}}}},
		}},
	}
	kube.pod_annotations == {"k": "cron"} with input as cron
	kube.pod_labels == {} with input as cron
}

test_pod_meta_defaults_when_missing if {
	bare := {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api"}, "spec": {}}
	kube.pod_meta == {} with input as bare
	kube.pod_spec == {} with input as bare
	kube.pod_labels == {} with input as bare
	kube.pod_annotations == {} with input as bare
	kube.pod_labels == {} with input as {"apiVersion": "v1", "kind": "Service", "metadata": {"labels": {"a": "b"}}}
}

test_pod_meta_path if {
	kube.pod_meta_path(["annotations", "x"]) == ["spec", "template", "metadata", "annotations", "x"] with input as _deployment
	kube.pod_meta_path(["labels"]) == ["metadata", "labels"] with input as {"apiVersion": "v1", "kind": "Pod"}
	path := kube.pod_meta_path([]) with input as {"apiVersion": "batch/v1", "kind": "CronJob"}
	path == ["spec", "jobTemplate", "spec", "template", "metadata"]
}

# --- inventory ---------------------------------------------------------------

test_namespace_object_from_inventory if {
	ns := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"istio-injection": "enabled"}}}
	kube.namespace_object == ns with input as _deployment with data.inventory as {"namespaces": {"shop": ns}}
	not kube.namespace_object with input as _deployment with data.inventory as {"namespaces": {"other": ns}}
	not kube.namespace_object with input as _deployment
}

test_excluded_namespaces_from_the_engine_or_the_defaults if {
	kube.excluded_namespace("kube-system")
	not kube.excluded_namespace("shop")
	kube.excluded_namespace("shop") with data.meshguard.engine.excludedNamespaces as ["shop"]
	not kube.excluded_namespace("kube-system") with data.meshguard.engine.excludedNamespaces as []
}
