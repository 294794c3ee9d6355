# METADATA
# title: Linkerd opaque-ports overrides reviewed
# description: |
#   Opaque traffic is still mTLS'd, but HTTP-level features (HTTPRoute-based
#   authorization, retries, timeouts) no longer apply to it. On a workload,
#   Service, Namespace or EgressNetwork, a `config.linkerd.io/opaque-ports`
#   value that is not a comma-separated list of ports, ranges (`a-b`) and port
#   names is denied; a range wider than 1000 ports warns. A pod annotation
#   replaces the install's list (`linkerd.defaultOpaquePorts`), so one that
#   leaves out a default server-first port a container exposes warns. A Server
#   with `proxyProtocol: opaque` whose routes carry AuthorizationPolicies (read
#   from the inventory) warns: those policies never match its traffic.
# custom:
#   id: LINKERD-INJ-003
#   version: 1.0.0
#   severity: medium
#   action: warn
#   since: 2026.12.0
#   kinds:
#   - {group: "", kind: Namespace, versions: [v1]}
#   - {group: "", kind: Service, versions: [v1]}
#   - {group: "", kind: Pod, versions: [v1]}
#   - {group: apps, kind: Deployment, versions: [v1]}
#   - {group: apps, kind: StatefulSet, versions: [v1]}
#   - {group: apps, kind: DaemonSet, versions: [v1]}
#   - {group: apps, kind: ReplicaSet, versions: [v1]}
#   - {group: batch, kind: Job, versions: [v1]}
#   - {group: batch, kind: CronJob, versions: [v1]}
#   - {group: policy.linkerd.io, kind: EgressNetwork, versions: [v1alpha1]}
#   - {group: policy.linkerd.io, kind: Server, versions: [v1alpha1, v1beta1, v1beta2, v1beta3]}
#   remediation: |
#     Mark only the ports that really carry server-first or non-HTTP traffic
#     opaque, preferably on the Server (`proxyProtocol: opaque`), and keep the
#     install's default ports in a pod's list when its containers expose them.
package meshguard.linkerd.inj_003

import data.meshguard.lib.config
import data.meshguard.lib.finding
import data.meshguard.lib.kube
import data.meshguard.lib.linkerd

# The object is of a kind in this package's METADATA. The engine evaluates a
# package only for those kinds (kube.indexed); under conftest or opa eval,
# where every package sees every object, the METADATA is read.
_applies if kube.indexed

else if kube.applies(rego.metadata.chain())

_key := "config.linkerd.io/opaque-ports"

_ref := sprintf("%s %s/%s", [kube.kind, kube.namespace, kube.name]) if {
	kube.namespace != ""
} else := sprintf("%s %s", [kube.kind, kube.name])

_is_server if {
	kube.kind == "Server"
	kube.group == "policy.linkerd.io"
}

# The annotation's value (undefined when it is absent, and on a Server). Every
# finding about the list needs it: the deny and the warn test it first, and
# the warnings about the list are _list_warnings.
_value := v if {
	v := sprintf("%v", [linkerd.own_annotations["config.linkerd.io/opaque-ports"]]) # linkerd.own_values[_key], for this key only
	not _is_server
}

_path := linkerd.annotation_path(_key)

deny contains f if {
	_value
	_applies
	bad := linkerd.malformed_ports(_value)
	count(bad) > 0
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s: %s %q has items that are not a port, a range a-b or a port name: %s", [_ref, _key, _value, concat(", ", bad)]),
		_path,
	)
}

_max_range := 1000

warn contains f if {
	_value
	_applies
	some f in _list_warnings
}

_list_warnings contains f if {
	wide := [sprintf("%d-%d", [item.from, item.to]) |
		some item in _items
		(item.to - item.from) + 1 > _max_range
	]
	count(wide) > 0
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s: %s marks %s opaque, more than %d ports, so HTTP authorization, retries and timeouts no longer apply to them; list only the opaque ports", [_ref, _key, concat(", ", wide), _max_range]),
		_path,
	)
}

# Container ports the annotation leaves out of the install's defaults (only
# asked when the annotation is set; the lists are parsed once).
_dropped contains sprintf("%d", [p.containerPort]) if {
	kube.is_workload
	some c in object.get(kube.pod_spec, "containers", [])
	some p in object.get(c, "ports", [])
	linkerd.listed(_default_items, p.containerPort, "")
	not linkerd.listed(_items, p.containerPort, object.get(p, "name", ""))
}

_items := linkerd.ports(_value)

_default_items := linkerd.ports(config.params.linkerd.defaultOpaquePorts)

_list_warnings contains f if {
	count(_dropped) > 0
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s: %s %q replaces the default opaque ports but leaves out %s, which a container exposes; protocol detection then stalls on server-first traffic there", [_ref, _key, _value, concat(", ", sort(_dropped))]),
		_path,
	)
}

# --- an opaque Server whose routes carry authorizations --------------------------------

# "<Kind> <name>" of the routes attached to this Server that an
# AuthorizationPolicy targets.
_authorized_routes contains sprintf("%s %s", [ref.kind, ref.name]) if {
	some ap in linkerd.objects("AuthorizationPolicy.policy.linkerd.io", kube.namespace)
	ref := ap.spec.targetRef
	ref.kind in {"HTTPRoute", "GRPCRoute"}
	some group in {"policy.linkerd.io", "gateway.networking.k8s.io"}
	object.get(ref, "group", group) == group
	route := linkerd.objects(sprintf("%s.%s", [ref.kind, group]), kube.namespace)[ref.name]
	some p in route.spec.parentRefs
	p.kind == "Server"
	p.name == kube.name
}

warn contains f if {
	kube.kind == "Server"
	kube.group == "policy.linkerd.io"
	_applies
	kube.inventory_known
	kube.obj.spec.proxyProtocol == "opaque"
	count(_authorized_routes) > 0
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s is opaque, so the AuthorizationPolicies of its routes (%s) never match its traffic; authorize the Server itself or detect the protocol", [_ref, concat(", ", sort(_authorized_routes))]),
		["spec", "proxyProtocol"],
	)
}
