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
# One chain of else branches, cheapest first, that stops at the first that
# holds and ends in false, so that OPA caches every answer (it caches a
# function's value, never its undefinedness) and the rules that ask about the
# same host share one evaluation. The *.svc.<meshDomain> names end in
# .<meshDomain> and need no test of their own.
in_mesh_host(host) if {
	not contains(host, ".")
} else if {
	strings.count(host, ".") == 1
} else if {
	endswith(host, ".svc")
} else if {
	endswith(host, sprintf(".%s", [config.params.istio.meshDomain]))
} else if {
	mesh_internal_hosts.exact[host] == true
} else if {
	some h in mesh_internal_hosts.wildcard
	glob.match(h, ["."], host)
} else := false

# The hosts of the MESH_INTERNAL ServiceEntries in the inventory: exact names
# as keys, patterns (with *) apart. The engine computes it once per inventory
# (pkg/policy/index.go); elsewhere mesh_internal_hosts computes it when read.

# METADATA
# description: Hosts of MESH_INTERNAL ServiceEntries, once per inventory.
# custom:
#   index: true
computed_mesh_internal_hosts := {
	"exact": {h: true | some h in _mesh_internal_entry_hosts; not _pattern(h)},
	"wildcard": {h | some h in _mesh_internal_entry_hosts; _pattern(h)},
}

_mesh_internal_entry_hosts contains h if {
	some entries in data.inventory.objects["ServiceEntry.networking.istio.io"]
	some entry in entries
	entry.spec.location == "MESH_INTERNAL"
	some h in entry.spec.hosts
}

_pattern(h) if regex.match(`[*?\[\]{}]`, h)

mesh_internal_hosts := v if {
	v := data.meshguard.index.lib.istio.computed_mesh_internal_hosts
} else := computed_mesh_internal_hosts

# A Namespace object is enrolled for sidecar injection.
namespace_injected(ns) if ns.metadata.labels["istio-injection"] == "enabled"

namespace_injected(ns) if {
	ns.metadata.labels["istio.io/rev"]
	not ns.metadata.labels["istio-injection"] == "disabled"
}

# A selector that selects workloads: Istio treats an absent selector and one
# with no labels alike, as namespace-wide.
has_selector(spec) if count(object.get(spec, ["selector", "matchLabels"], {})) > 0

_inject_key := "sidecar.istio.io/inject"

_truthy := {"y", "yes", "true", "on"}

# The injection decision the pod (template) states, as Istio's injector reads
# it: the label (current form) wins over the deprecated annotation; y, yes,
# true and on (any case) ask for a sidecar, any other non-empty value opts out.
_inject_value := kube.pod_labels[_inject_key] if {
	kube.pod_labels[_inject_key] != ""
} else := kube.pod_annotations[_inject_key]

_inject_path := kube.pod_meta_path(["labels", _inject_key]) if {
	kube.pod_labels[_inject_key] != ""
} else := kube.pod_meta_path(["annotations", _inject_key])

requests_sidecar if lower(_inject_value) in _truthy

opted_out if {
	_inject_value != ""
	not requests_sidecar
}

# Where the opt-out is written, as a field path.
opt_out_paths contains _inject_path if opted_out

# The workload's namespace is enrolled (the Namespace must be in the inventory):
# namespace_injected(kube.namespace_object), spelled out so that it is
# evaluated once per object without a function call.
namespace_enrolled if kube.namespace_object.metadata.labels["istio-injection"] == "enabled"

namespace_enrolled if {
	kube.namespace_object.metadata.labels["istio.io/rev"]
	not kube.namespace_object.metadata.labels["istio-injection"] == "disabled"
}

# The workload will run with an Istio sidecar: it already has one (an injected
# Pod), it asks for one with the inject label, or its namespace is enrolled and
# it does not opt out. (The bodies spell out _inject_key, _truthy and the proxy
# container test: each rule referred to is one more rule evaluated per object.
# The pod labels and container names of any other kind are empty, so only the
# namespace's body needs kube.is_workload.)
gets_sidecar if "istio-proxy" in kube.container_names

gets_sidecar if {
	lower(kube.pod_labels["sidecar.istio.io/inject"]) in {"y", "yes", "true", "on"} # only the label opts in outside enrolled namespaces
	not kube.namespace_object.metadata.labels["istio-injection"] == "disabled"
}

gets_sidecar if {
	namespace_enrolled
	kube.is_workload
	not opted_out
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

# A Namespace object is in the mesh: enrolled for sidecar injection, or for
# the ambient data plane (`istio.io/dataplane-mode: ambient`). PeerAuthentication
# and AuthorizationPolicy apply in both, so the zero-trust baseline is owed by
# both (ISTIO-MTLS-003, ISTIO-AUTHZ-004, the generated defaults).
namespace_in_mesh(ns) if namespace_injected(ns)

namespace_in_mesh(ns) if ns.metadata.labels["istio.io/dataplane-mode"] == "ambient"

# namespace_in_mesh(kube.obj), for the rules that judge Namespace objects: a
# rule is evaluated once per object, where a function call whose answer is
# "no" (undefined) is evaluated again on every call.
obj_in_mesh if namespace_in_mesh(kube.obj)

# A policy spec that applies to its whole namespace (mesh-wide in the root
# namespace): no workload selector and no targetRef(s).
namespace_wide(spec) if {
	not has_selector(spec)
	not spec.targetRef
	not spec.targetRefs
}

# --- effective mTLS mode -----------------------------------------------------
# Istio resolves a workload's mTLS mode workload policy -> namespace-wide
# policy -> mesh-wide policy (root namespace), and with no policy anywhere
# uses PERMISSIVE. A policy without a mode (or UNSET) passes to its parent.
# Every rule that needs the mode a namespace gets asks these helpers, which
# return [deciding object, mode].

_peer_authentications := object.get(data.inventory, ["objects", "PeerAuthentication.security.istio.io"], {})

# The mode set by the namespace-wide policy of a namespace (none when no such
# policy sets one); the first by name if there are several (Istio itself then
# uses the oldest).
namespace_mtls(ns) := sort([[sprintf("PeerAuthentication %s/%s", [ns, n]), pa.spec.mtls.mode] |
	some n, pa in object.get(_peer_authentications, ns, {})
	namespace_wide(object.get(pa, "spec", {}))
	pa.spec.mtls.mode
	pa.spec.mtls.mode != "UNSET"
])[0]

# The mesh-wide mode: the root namespace's namespace-wide policy, else
# Istio's default.
mesh_mtls := namespace_mtls(root_namespace)

mesh_mtls := ["Istio's default (no mesh-wide PeerAuthentication)", "PERMISSIVE"] if not namespace_mtls(root_namespace)

# The mode every workload of a namespace gets unless a workload policy says
# otherwise: its namespace-wide policy's, else the mesh-wide one.
effective_namespace_mtls(ns) := namespace_mtls(ns)

effective_namespace_mtls(ns) := mesh_mtls if not namespace_mtls(ns)

# The namespace of a service host written as <name>.<namespace>,
# <name>.<namespace>.svc or <name>.<namespace>.svc.<meshDomain> (the name may
# be a wildcard), or as a short name, which Istio resolves in the namespace of
# the object under judgement; undefined for other hosts.
host_namespace(host) := kube.namespace if not contains(host, ".")

host_namespace(host) := parts[1] if {
	parts := split(host, ".")
	count(parts) == 2
}

host_namespace(host) := parts[1] if {
	parts := split(host, ".")
	count(parts) == 3
	parts[2] == "svc"
}

host_namespace(host) := parts[1] if {
	suffix := sprintf(".svc.%s", [config.params.istio.meshDomain])
	endswith(host, suffix)
	parts := split(trim_suffix(host, suffix), ".")
	count(parts) == 2
}

# --- namespace baselines -------------------------------------------------------

# A PeerAuthentication that makes its namespace STRICT by itself.
strict_baseline(pa) if {
	namespace_wide(object.get(pa, "spec", {}))
	pa.spec.mtls.mode == "STRICT"
}

# An allow-nothing AuthorizationPolicy: namespace-wide, action ALLOW (or
# absent) and no rules, so every workload in scope has an ALLOW policy that
# matches nothing and is deny-by-default.
allow_nothing(ap) if {
	spec := object.get(ap, "spec", {})
	namespace_wide(spec)
	object.get(spec, "action", "ALLOW") == "ALLOW"
	count(object.get(spec, "rules", [])) == 0
}

# --- Gateways -------------------------------------------------------------------

# The Gateway under judgement is internet-facing: its `spec.selector` holds
# one of the configured public gateway label sets.
public_gateway if {
	some sel in config.params.istio.publicGatewaySelectors
	every k, v in sel {
		kube.obj.spec.selector[k] == v
	}
}
