# METADATA
# title: Linkerd helpers
# description: |
#   Mesh facts shared by the Linkerd rules: whether a namespace or workload is
#   meshed, the config annotations a pod gets (its own, else its Namespace's),
#   port lists as Linkerd's annotations write them, label selectors, and the
#   policy objects of the inventory.
package meshguard.lib.linkerd

import data.meshguard.lib.config
import data.meshguard.lib.kube

inject_key := "linkerd.io/inject"

# A Namespace object asks the injector to mesh its pods.
namespace_meshed(ns) if ns.metadata.annotations[inject_key] in {"enabled", "ingress"}

# The cluster runs Linkerd: its control plane Namespace is known (offline:
# among the inputs; in the cluster: the cache).
cluster_meshed if data.inventory.namespaces[config.params.linkerd.namespace]

# A Linkerd control plane or extension namespace (linkerd, linkerd-viz, ...).
control_plane_namespace(ns) if ns.metadata.name == config.params.linkerd.namespace

control_plane_namespace(ns) if ns.metadata.labels["linkerd.io/is-control-plane"]

control_plane_namespace(ns) if ns.metadata.labels["linkerd.io/extension"]

# The pod (an injected Pod) has a linkerd-proxy container.
has_proxy_container if "linkerd-proxy" in kube.container_names

# The workload will run with a Linkerd proxy: it already has one (an injected
# Pod), its pod metadata asks for one, or its Namespace does and the pod does
# not opt out.
# (The bodies spell out inject_key, namespace_meshed and has_proxy_container:
# each rule referred to is one more rule evaluated per object. The pod
# annotations and container names of any other kind are empty, so only the
# Namespace's body needs kube.is_workload.)
workload_meshed if kube.pod_annotations["linkerd.io/inject"] in {"enabled", "ingress"}

workload_meshed if {
	kube.is_workload
	kube.namespace_object.metadata.annotations["linkerd.io/inject"] in {"enabled", "ingress"}
	not kube.pod_annotations["linkerd.io/inject"] == "disabled"
}

workload_meshed if "linkerd-proxy" in kube.container_names

# The object's own annotations: a Namespace's or a workload's pod metadata.
own_annotations := kube.pod_annotations if {
	kube.is_workload
} else := object.get(kube.obj, ["metadata", "annotations"], {})

# Path of one of the object's own annotations.
annotation_path(key) := ["metadata", "annotations", key] if not kube.is_workload

annotation_path(key) := kube.pod_meta_path(["annotations", key]) if kube.is_workload

# The object's own annotations as strings: values are strings in the cluster;
# offline YAML may hold numbers. Computed once per evaluation (most objects
# have none or a few), so that rules look values up instead of calling a
# function per key.
own_values := {key: sprintf("%v", [v]) | some key, v in own_annotations}

own_annotation(key) := own_values[key]

# The value of a config annotation a workload's proxy gets, with where it is
# written: the pod's own, else its Namespace's (from the inventory).
# config(key) == [value, "pod" | "namespace"]
config(key) := [own_values[key], "pod"] if {
	kube.is_workload
	own_annotations[key]
} else := [sprintf("%v", [kube.namespace_object.metadata.annotations[key]]), "namespace"] if {
	kube.is_workload
	kube.namespace_object.metadata.annotations[key]
}

# --- port lists ("8080,9000-9100,redis") ----------------------------------------

_port_number(s) := n if {
	regex.match(`^[0-9]{1,5}$`, s)
	n := to_number(s)
	n >= 1
	n <= 65535
}

_port_name(s) if {
	regex.match(`^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$`, s)
	regex.match(`[a-z]`, s)
}

_items(value) := [trim_space(e) | some e in split(value, ","); trim_space(e) != ""]

# One item of a port list: {"from": n, "to": m} for a port or a range, or
# {"name": s} for a named port; undefined when malformed. The three forms
# exclude each other (a name has a letter, a range a "-"), so the first that
# holds is the only one.
port_item(s) := {"from": n, "to": n} if {
	n := _port_number(s)
} else := {"from": a, "to": b} if {
	parts := split(s, "-")
	count(parts) == 2
	a := _port_number(parts[0])
	b := _port_number(parts[1])
	a <= b
} else := {"name": s} if _port_name(s)

# The items of a port list, and the ones that are not a port, range or name.
ports(value) := [port_item(s) | some s in _items(value)]

malformed_ports(value) := [s | some s in _items(value); not port_item(s)]

# A port (number, with its name when known) is in a port list.
covers(list, port, name) if listed(ports(list), port, name)

# The same for a list already parsed with ports(list): a caller that asks
# about many ports parses the list once.
listed(items, port, _) if {
	some item in items
	item.from <= port
	port <= item.to
}

listed(items, _, name) if {
	name != ""
	some item in items
	item.name == name
}

# --- label selectors ------------------------------------------------------------

# A Kubernetes label selector (matchLabels, matchExpressions) selects the
# labels. An empty selector selects everything.
selects(selector, labels) if {
	every k, v in object.get(selector, "matchLabels", {}) {
		labels[k] == v
	}
	every e in object.get(selector, "matchExpressions", []) {
		_expression(e, labels)
	}
}

_expression(e, labels) if {
	e.operator == "In"
	labels[e.key] in e.values
}

_expression(e, labels) if {
	e.operator == "NotIn"
	not labels[e.key] in e.values
}

_expression(e, labels) if {
	e.operator == "Exists"
	labels[e.key]
}

_expression(e, labels) if {
	e.operator == "DoesNotExist"
	not labels[e.key]
}

# --- the policy objects of the inventory ------------------------------------------

# objects(key, ns): the objects of a kind ("<Kind>.<group>") in a namespace,
# by name; empty when there are none (or no inventory, under conftest).
objects(key, ns) := object.get(data.inventory, ["objects", key, ns], {}) if {
	data.inventory
} else := {}
