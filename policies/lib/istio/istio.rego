# METADATA
# title: Istio helpers
# description: |
#   Mesh facts shared by the Istio rules: the root namespace, in-mesh hosts
#   (RULES.md §0.7) and whether a workload will get a sidecar.
package meshguard.lib.istio

import data.meshguard.lib.config
import data.meshguard.lib.kube

root_namespace := config.params.istio.rootNamespace

# A host is in-mesh when it is a short name, <name>.<namespace>, a *.svc or
# *.svc.<meshDomain> name, a wildcard inside the mesh domain, or a host of a
# MESH_INTERNAL ServiceEntry in the inventory.
in_mesh_host(host) if not contains(host, ".")

in_mesh_host(host) if count(split(host, ".")) == 2

in_mesh_host(host) if endswith(host, ".svc")

in_mesh_host(host) if endswith(host, sprintf(".svc.%s", [config.params.istio.meshDomain]))

in_mesh_host(host) if endswith(host, sprintf(".%s", [config.params.istio.meshDomain]))

in_mesh_host(host) if host == sprintf("*.%s", [config.params.istio.meshDomain])

in_mesh_host(host) if host == "*.local"

in_mesh_host(host) if {
	some entries in data.inventory.objects["ServiceEntry.networking.istio.io"]
	some entry in entries
	entry.spec.location == "MESH_INTERNAL"
	some h in entry.spec.hosts
	glob.match(h, ["."], host)
}

# A Namespace object is enrolled for sidecar injection.
namespace_injected(ns) if ns.metadata.labels["istio-injection"] == "enabled"

namespace_injected(ns) if {
	ns.metadata.labels["istio.io/rev"]
	not ns.metadata.labels["istio-injection"] == "disabled"
}

# The pod (template) of the object under judgement opts out of injection:
# the label (current form) or the annotation (deprecated) is "false".
opted_out if kube.pod_labels["sidecar.istio.io/inject"] == "false"

opted_out if kube.pod_annotations["sidecar.istio.io/inject"] == "false"

# Where the opt-out is written, as a field path.
opt_out_paths contains kube.pod_meta_path(["labels", "sidecar.istio.io/inject"]) if {
	kube.pod_labels["sidecar.istio.io/inject"] == "false"
}

opt_out_paths contains kube.pod_meta_path(["annotations", "sidecar.istio.io/inject"]) if {
	kube.pod_annotations["sidecar.istio.io/inject"] == "false"
}

# The workload's namespace is enrolled (the Namespace must be in the inventory).
namespace_enrolled if namespace_injected(kube.namespace_object)

# The workload will run with an Istio sidecar: it already has one (an injected
# Pod), it asks for one with the inject label, or its namespace is enrolled and
# it does not opt out.
gets_sidecar if {
	kube.is_workload
	_has_proxy_container
}

gets_sidecar if {
	kube.is_workload
	kube.pod_labels["sidecar.istio.io/inject"] == "true"
	not kube.namespace_object.metadata.labels["istio-injection"] == "disabled"
}

gets_sidecar if {
	kube.is_workload
	namespace_enrolled
	not opted_out
}

_has_proxy_container if {
	some c in kube.pod_spec.containers
	c.name == "istio-proxy"
}

_has_proxy_container if {
	some c in kube.pod_spec.initContainers
	c.name == "istio-proxy"
}

# The action of an AuthorizationPolicy; absent means ALLOW.
default authz_action := "ALLOW"

authz_action := kube.obj.spec.action

# The policy applies to an internet-facing gateway: its selector contains one
# of the configured public gateway label sets, or it targets a Gateway.
targets_public_gateway if {
	some sel in config.params.istio.publicGatewaySelectors
	every k, v in sel {
		kube.obj.spec.selector.matchLabels[k] == v
	}
}

targets_public_gateway if {
	some ref in kube.obj.spec.targetRefs
	ref.kind == "Gateway"
}

targets_public_gateway if kube.obj.spec.targetRef.kind == "Gateway"
