# METADATA
# title: Linkerd proxy resource annotations set and bounded
# description: |
#   Linkerd's chart ships with empty proxy requests and limits, so proxies are
#   BestEffort unless configured. A workload that will get a Linkerd proxy must
#   get `config.linkerd.io/proxy-cpu-request`, `proxy-memory-request` and
#   `proxy-memory-limit` from its pod metadata or its Namespace (read from the
#   inventory), or, for an injected Pod, have them on its `linkerd-proxy`
#   container: a warning otherwise (install-wide values are not read). Every
#   proxy resource annotation a meshed workload or a Namespace sets must parse,
#   stay within the `sidecar` bounds, and a limit must not be below its
#   request; `proxy-cpu-ratio-limit` must be a number in (0, 1]: denied
#   otherwise. The mutating webhook adds `linkerd.proxyCPURequest`,
#   `proxyMemoryRequest` and `proxyMemoryLimit` to the pod metadata of a
#   meshed workload when neither it nor its (known) Namespace sets any proxy
#   resource annotation and no proxy was injected yet.
# custom:
#   id: LINKERD-RES-001
#   version: 1.0.0
#   severity: medium
#   action: deny
#   since: 2026.12.0
#   kinds:
#   - {group: "", kind: Namespace, versions: [v1]}
#   - {group: "", kind: Pod, versions: [v1]}
#   - {group: apps, kind: Deployment, versions: [v1]}
#   - {group: apps, kind: StatefulSet, versions: [v1]}
#   - {group: apps, kind: DaemonSet, versions: [v1]}
#   - {group: apps, kind: ReplicaSet, versions: [v1]}
#   - {group: batch, kind: Job, versions: [v1]}
#   - {group: batch, kind: CronJob, versions: [v1]}
#   remediation: |
#     Annotate the Namespace (or the pod template), for example:
#     `config.linkerd.io/proxy-cpu-request: "100m"`,
#     `config.linkerd.io/proxy-memory-request: "64Mi"`,
#     `config.linkerd.io/proxy-memory-limit: "256Mi"`.
package meshguard.linkerd.res_001

import data.meshguard.lib.config
import data.meshguard.lib.finding
import data.meshguard.lib.kube
import data.meshguard.lib.linkerd

# The object is of a kind in this package's METADATA. The engine evaluates a
# package only for those kinds (kube.indexed); under conftest or opa eval,
# where every package sees every object, the METADATA is read.
_applies if kube.indexed

else if kube.applies(rego.metadata.chain())

_keys := {
	"cpu": "config.linkerd.io/proxy-cpu-request",
	"cpuLimit": "config.linkerd.io/proxy-cpu-limit",
	"memory": "config.linkerd.io/proxy-memory-request",
	"memoryLimit": "config.linkerd.io/proxy-memory-limit",
	"storage": "config.linkerd.io/proxy-ephemeral-storage-request",
	"storageLimit": "config.linkerd.io/proxy-ephemeral-storage-limit",
}

_ratio_key := "config.linkerd.io/proxy-cpu-ratio-limit"

_required := ["cpu", "memory", "memoryLimit"]

_is_namespace if {
	kube.kind == "Namespace"
	kube.group == ""
}

# (A workload is no Namespace: one rule with an else branch.)
_ref := sprintf("%s %s/%s", [kube.kind, kube.namespace, kube.name]) if {
	kube.is_workload
} else := sprintf("Namespace %s", [kube.name]) if _is_namespace

# The object's own annotations are judged on a Namespace and on a workload
# that will get a proxy.
_judged if _is_namespace

_judged if linkerd.workload_meshed

# --- missing ---------------------------------------------------------------------

_container_fields := {
	"cpu": ["requests", "cpu"],
	"memory": ["requests", "memory"],
	"memoryLimit": ["limits", "memory"],
}

# The values an injected linkerd-proxy container has (one set per object,
# where a function would be evaluated again for every key it does not have).
_from_container contains k if {
	"linkerd-proxy" in kube.container_names
	some c in array.concat(object.get(kube.pod_spec, "containers", []), object.get(kube.pod_spec, "initContainers", []))
	c.name == "linkerd-proxy"
	some k, f in _container_fields
	c.resources[f[0]][f[1]]
}

# The keys neither the pod nor its Namespace sets: not linkerd.config(key),
# spelled out (the warn asks only about workloads) so that no function is
# called per key; namespace_object is undefined when the Namespace is unknown.
_missing := [key |
	some k in _required
	key := _keys[k]
	not linkerd.own_annotations[key]
	not kube.namespace_object.metadata.annotations[key]
	not k in _from_container
]

warn contains f if {
	kube.is_workload
	linkerd.workload_meshed
	_applies
	count(_missing) > 0
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s gets a Linkerd proxy but neither it nor its Namespace sets %s, so the proxy runs without them; annotate the Namespace or the pod template", [_ref, concat(", ", _missing)]),
		kube.pod_meta_path(["annotations"]),
	)
}

# --- values ----------------------------------------------------------------------

# value name -> [value, path] of the object's own annotations. One object
# rule (not one rule per key), so that _own[k] looks the value up instead of
# evaluating the rule for k.
_own := {k: [v, linkerd.annotation_path(key)] |
	_judged
	some k, key in _keys
	v := linkerd.own_values[key]
}

# The effective value: the object's own, else (a workload) its Namespace's.
_effective(k) := linkerd.config(_keys[k])[0] if kube.is_workload

_effective(k) := _own[k][0] if _is_namespace

# Every deny is about a proxy resource annotation the judged object sets
# itself (all of them, the ratio too, start with this prefix): the object's
# annotations are looked at once, and most set none.
deny contains f if {
	_proxy_annotated
	_judged
	_applies
	some f in _denials
}

_proxy_annotated if {
	some key, _ in linkerd.own_annotations
	startswith(key, "config.linkerd.io/proxy-")
}

_denials contains f if {
	some k, [v, p] in _own
	not units.parse(v)
	f := finding.new(rego.metadata.chain(), sprintf("%s: %s value %q is not a Kubernetes quantity", [_ref, _keys[k], v]), p)
}

# value name -> [config key of the lower bound, config key of the upper bound]
_bounds := {
	"cpu": ["cpuRequestMin", "cpuRequestMax"],
	"memory": ["memoryRequestMin", "memoryRequestMax"],
	"memoryLimit": ["", "memoryLimitMax"],
	"cpuLimit": ["", "cpuLimitMax"],
}

_denials contains f if {
	some k, [v, p] in _own
	min_key := _bounds[k][0]
	min_key != ""
	min := config.params.sidecar[min_key]
	units.parse(v) < units.parse(min)
	f := finding.new(rego.metadata.chain(), sprintf("%s: %s %s is below the minimum %s", [_ref, _keys[k], v, min]), p)
}

_denials contains f if {
	some k, [v, p] in _own
	max := config.params.sidecar[_bounds[k][1]]
	units.parse(v) > units.parse(max)
	f := finding.new(rego.metadata.chain(), sprintf("%s: %s %s is above the maximum %s", [_ref, _keys[k], v, max]), p)
}

_pairs := [["cpu", "cpuLimit"], ["memory", "memoryLimit"], ["storage", "storageLimit"]]

# A limit below its request; reported where one of the two is the object's own.
_denials contains f if {
	some k, _ in _own
	some [req, lim] in _pairs
	k in [req, lim]
	units.parse(_effective(lim)) < units.parse(_effective(req))
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s: %s %s is below the request %s", [_ref, _keys[lim], _effective(lim), _effective(req)]),
		_limit_path(req, lim),
	)
}

# The path of the pair's limit when it is the object's own, else of its request.
_limit_path(_, lim) := _own[lim][1]

_limit_path(req, lim) := _own[req][1] if not _own[lim]

_denials contains f if {
	v := linkerd.own_values[_ratio_key]
	not _ratio(v)
	f := finding.new(rego.metadata.chain(), sprintf("%s: %s value %q is not a number in (0, 1]", [_ref, _ratio_key, v]), linkerd.annotation_path(_ratio_key))
}

_ratio(v) if {
	regex.match(`^[0-9]*\.?[0-9]+$`, v)
	n := to_number(v)
	n > 0
	n <= 1
}

# --- mutation ----------------------------------------------------------------------

# Mutation: the default proxy resources, only when neither the pod nor its
# Namespace sets any proxy resource annotation (a partial set stays warned or
# denied: completing it could hide a mistake, and pod values would override
# the Namespace's), the Namespace is known (without an inventory its
# annotations cannot be seen), and no proxy container was injected yet.
_default_params := {
	"cpu": "proxyCPURequest",
	"memory": "proxyMemoryRequest",
	"memoryLimit": "proxyMemoryLimit",
}

_any_set if {
	some key in _keys
	linkerd.config(key)
}

_any_set if linkerd.config(_ratio_key)

mutate contains {"path": kube.pod_meta_path(["annotations", _keys[k]]), "value": sprintf("%v", [v])} if {
	_applies
	linkerd.workload_meshed
	kube.inventory_known
	not linkerd.has_proxy_container
	not _any_set
	some k, param in _default_params
	v := config.params.linkerd[param]
	not v in {"", null}
}
