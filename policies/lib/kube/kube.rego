# METADATA
# title: Kubernetes object helpers
# description: |
#   Normalises the input so every rule runs unchanged in all front doors.
#   `input` is the object itself (conftest style). When the input is an
#   AdmissionReview, `obj` is `request.object`, or `request.oldObject`
#   on DELETE, and `operation` is the request's operation.
package meshguard.lib.kube

# The object under judgement: input itself, or the object of an AdmissionReview
# (its oldObject on DELETE). One rule with else branches: evaluation stops at
# the first that holds, so the common case (not an AdmissionReview) is first.
obj := input if {
	input.kind != "AdmissionReview"
} else := input.request.object if {
	input.kind == "AdmissionReview"
	input.request.operation != "DELETE"
} else := input.request.oldObject if {
	input.kind == "AdmissionReview"
} else := input

# The admission operation; offline checks behave like CREATE.
operation := input.request.operation if {
	input.kind == "AdmissionReview"
} else := "CREATE"

# True when the meshguard engine evaluates the policy: it has already matched
# the object's kind against the package's METADATA `kinds`.
indexed if data.meshguard.engine.indexed == true

# API group of the object ("" for the core group), from apiVersion.
group := substring(obj.apiVersion, 0, i) if {
	i := indexof(obj.apiVersion, "/")
	i >= 0
} else := ""

kind := obj.kind

# The name, as the reports name the object: metadata.name, else
# generateName followed by "*", else "" (an unnamed file, such as an
# IstioOperator), so that no message is lost for want of a name.
name := obj.metadata.name if {
	obj.metadata.name
} else := concat("", [obj.metadata.generateName, "*"]) if {
	obj.metadata.generateName
} else := ""

namespace := obj.metadata.namespace if {
	obj.metadata.namespace
} else := ""

# True when the object's group and kind appear in the `kinds` list of the
# calling package's METADATA (pass rego.metadata.chain()).
applies(chain) if {
	some entry in chain
	some k in entry.annotations.custom.kinds
	k.group == group
	k.kind == kind
}

# The pod metadata and spec of a workload (RULES.md §0.3), and the path to them.
# The tables are literals in the bodies: a constant rule would be one more
# rule to evaluate for every object.
is_workload if {
	"Pod": "",
	"Deployment": "apps",
	"StatefulSet": "apps",
	"DaemonSet": "apps",
	"ReplicaSet": "apps",
	"Job": "batch",
	"CronJob": "batch",
}[kind] == group

pod_prefix := {
	"Pod": [],
	"Deployment": ["spec", "template"],
	"StatefulSet": ["spec", "template"],
	"DaemonSet": ["spec", "template"],
	"ReplicaSet": ["spec", "template"],
	"Job": ["spec", "template"],
	"CronJob": ["spec", "jobTemplate", "spec", "template"],
}[kind] if is_workload

pod_meta := object.get(obj, array.concat(pod_prefix, ["metadata"]), {})

pod_spec := object.get(obj, array.concat(pod_prefix, ["spec"]), {})

# The names of the pod's containers and init containers, computed once per
# evaluation: rules ask whether a proxy container is there with a lookup
# instead of walking both lists each.
container_names contains c.name if {
	some list in ["containers", "initContainers"]
	some c in pod_spec[list]
}

# Path (array of keys and indices) of a field under the pod metadata, e.g.
# pod_meta_path(["annotations", "x"]) == ["spec", "template", "metadata", "annotations", "x"]
pod_meta_path(rest) := array.concat(array.concat(pod_prefix, ["metadata"]), rest)

# Labels and annotations of the pod (template).
default pod_labels := {}

pod_labels := pod_meta.labels

default pod_annotations := {}

pod_annotations := pod_meta.annotations

# False only when the engine says the other objects are unknown (the webhook
# without a cluster): rules that judge by what else exists then stay silent.
default inventory_known := true

inventory_known := false if data.meshguard.engine.inventory == false

# The Namespace object of the object under judgement, from the inventory
# (offline: when the Namespace is among the inputs; in the cluster: the cache).
namespace_object := data.inventory.namespaces[namespace]

# A namespace the engine leaves alone (config `excludeNamespaces`). The engine
# skips objects in it; rules that judge Namespace objects themselves ask here.
# Without the engine (conftest, opa eval) the defaults of RULES.md §0.4 apply.
default _excluded_namespaces := ["kube-system", "kube-public", "kube-node-lease"]

_excluded_namespaces := data.meshguard.engine.excludedNamespaces

excluded_namespace(name) if name in _excluded_namespaces
