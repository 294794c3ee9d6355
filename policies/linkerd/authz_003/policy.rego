# METADATA
# title: Servers need authorizations; authorizations need targets
# description: |
#   Keeps the allow-list graph consistent. A Server that denies by default
#   (`accessPolicy` absent or `deny`) and that no AuthorizationPolicy or
#   ServerAuthorization reaches (directly, through an HTTPRoute or GRPCRoute
#   whose parent is the Server, or through a policy for the whole Namespace)
#   denies all traffic to its port, usually by mistake. An AuthorizationPolicy
#   whose `targetRef` names a Server, HTTPRoute or GRPCRoute that does not
#   exist, and a ServerAuthorization whose `server` names or selects no
#   Server, authorize nothing. The other objects come from the inventory
#   (offline: the inputs; in the cluster: the cache), so the verdict depends
#   on creation order at admission: warnings, which the audit keeps current.
# custom:
#   id: LINKERD-AUTHZ-003
#   version: 1.0.0
#   severity: medium
#   action: warn
#   since: 2026.12.0
#   kinds:
#   - {group: policy.linkerd.io, kind: Server, versions: [v1alpha1, v1beta1, v1beta2, v1beta3]}
#   - {group: policy.linkerd.io, kind: AuthorizationPolicy, versions: [v1alpha1]}
#   - {group: policy.linkerd.io, kind: ServerAuthorization, versions: [v1alpha1, v1beta1]}
#   remediation: |
#     Give every Server an AuthorizationPolicy whose `targetRef` is the Server
#     (or a route attached to it, or the Namespace), and point `targetRef` and
#     `server` only at objects that exist; delete policies whose target is gone.
package meshguard.linkerd.authz_003

import data.meshguard.lib.finding
import data.meshguard.lib.kube
import data.meshguard.lib.linkerd

# The object is of a kind in this package's METADATA. The engine evaluates a
# package only for those kinds (kube.indexed); under conftest or opa eval,
# where every package sees every object, the METADATA is read.
_applies if kube.indexed

else if kube.applies(rego.metadata.chain())

_group := "policy.linkerd.io"

_gateway_group := "gateway.networking.k8s.io"

_is(kind) if {
	kube.kind == kind
	kube.group == _group
}

_ref := sprintf("%s %s/%s", [kube.kind, kube.namespace, kube.name])

# The inventory keys of the objects a targetRef may name.
_target_keys(ref) := {"Server.policy.linkerd.io"} if {
	ref.kind == "Server"
	object.get(ref, "group", _group) == _group
}

_target_keys(ref) := {sprintf("%s.%s", [ref.kind, ref.group])} if {
	ref.kind in {"HTTPRoute", "GRPCRoute"}
	ref.group in {_group, _gateway_group}
}

_target_keys(ref) := {"HTTPRoute.policy.linkerd.io", "HTTPRoute.gateway.networking.k8s.io"} if {
	ref.kind == "HTTPRoute"
	not ref.group
}

_target_keys(ref) := {"GRPCRoute.gateway.networking.k8s.io"} if {
	ref.kind == "GRPCRoute"
	not ref.group
}

_target_namespace(ref, ns) := object.get(ref, "namespace", ns)

# The object a targetRef of a policy in namespace ns names, if it exists.
_target(ref, ns) := obj if {
	some key in _target_keys(ref)
	obj := linkerd.objects(key, _target_namespace(ref, ns))[ref.name]
}

# --- (a) a Server nothing authorizes ------------------------------------------------

# A targetRef reaches this Server: it names it, a route attached to it, or
# its Namespace.
# The Server itself may not be in the inventory yet (at admission).
_reaches(ref) if {
	"Server.policy.linkerd.io" in _target_keys(ref)
	ref.name == kube.name
	_target_namespace(ref, kube.namespace) == kube.namespace
}

_reaches(ref) if {
	ref.kind == "Namespace"
	ref.name == kube.namespace
}

_reaches(ref) if {
	ref.kind in {"HTTPRoute", "GRPCRoute"}
	route := _target(ref, kube.namespace)
	some p in route.spec.parentRefs
	p.kind == "Server"
	p.name == kube.name
	object.get(p, "namespace", route.metadata.namespace) == kube.namespace
}

_authorized if {
	some ap in linkerd.objects("AuthorizationPolicy.policy.linkerd.io", kube.namespace)
	_reaches(ap.spec.targetRef)
}

_authorized if {
	some sa in linkerd.objects("ServerAuthorization.policy.linkerd.io", kube.namespace)
	sa.spec.server.name == kube.name
}

_authorized if {
	some sa in linkerd.objects("ServerAuthorization.policy.linkerd.io", kube.namespace)
	linkerd.selects(sa.spec.server.selector, object.get(kube.obj, ["metadata", "labels"], {}))
}

warn contains f if {
	_applies
	_is("Server")
	kube.inventory_known
	object.get(kube.obj, ["spec", "accessPolicy"], "deny") == "deny"
	not _authorized
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s is not reached by any AuthorizationPolicy or ServerAuthorization (for the Server, a route attached to it, or its namespace), so all traffic to its port is denied; authorize its clients", [_ref]),
		["spec"],
	)
}

# --- (b) policies that point at nothing -------------------------------------------

warn contains f if {
	_applies
	_is("AuthorizationPolicy")
	kube.inventory_known
	ref := kube.obj.spec.targetRef
	_target_keys(ref)
	not _target(ref, kube.namespace)
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s targets %s %s/%s, which does not exist, so it authorizes nothing", [_ref, ref.kind, _target_namespace(ref, kube.namespace), ref.name]),
		["spec", "targetRef", "name"],
	)
}

warn contains f if {
	_applies
	_is("ServerAuthorization")
	kube.inventory_known
	name := kube.obj.spec.server.name
	not linkerd.objects("Server.policy.linkerd.io", kube.namespace)[name]
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s is for Server %s/%s, which does not exist, so it authorizes nothing", [_ref, kube.namespace, name]),
		["spec", "server", "name"],
	)
}

_selects_a_server(selector) if {
	some s in linkerd.objects("Server.policy.linkerd.io", kube.namespace)
	linkerd.selects(selector, object.get(s, ["metadata", "labels"], {}))
}

warn contains f if {
	_applies
	_is("ServerAuthorization")
	kube.inventory_known
	selector := kube.obj.spec.server.selector
	not _selects_a_server(selector)
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s selects no Server in namespace %s, so it authorizes nothing", [_ref, kube.namespace]),
		["spec", "server", "selector"],
	)
}
