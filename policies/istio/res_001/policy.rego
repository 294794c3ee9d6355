# METADATA
# title: Sidecar resource annotations complete and bounded
# description: |
#   A workload that will get an Istio sidecar must set the proxy resources with
#   `sidecar.istio.io/proxyCPU`, `proxyMemory` and `proxyMemoryLimit` (and
#   optionally `proxyCPULimit`), within the configured bounds. Setting only
#   some of them is worse than none: the injector then renders resources only
#   from the annotations and drops the chart defaults, so setting just
#   `proxyCPU` silently removes the memory limit. An already injected Pod is
#   judged on its `istio-proxy` container. The mutating webhook adds the
#   defaults (`sidecar.cpuRequest`, `memoryRequest`, `memoryLimit`, and
#   `cpuLimit` when configured) to a workload that sets none of the four and
#   has no injected proxy yet; a partial set is left to the deny. Offline,
#   `meshguard check` fails until the manifest has them.
# custom:
#   id: ISTIO-RES-001
#   version: 1.1.0
#   severity: medium
#   action: deny
#   since: 2026.11.0
#   kinds:
#   - {group: "", kind: Pod, versions: [v1]}
#   - {group: apps, kind: Deployment, versions: [v1]}
#   - {group: apps, kind: StatefulSet, versions: [v1]}
#   - {group: apps, kind: DaemonSet, versions: [v1]}
#   - {group: apps, kind: ReplicaSet, versions: [v1]}
#   - {group: batch, kind: Job, versions: [v1]}
#   - {group: batch, kind: CronJob, versions: [v1]}
#   remediation: |
#     Add to the pod template's annotations, for example:
#     `sidecar.istio.io/proxyCPU: "100m"`, `sidecar.istio.io/proxyMemory: "128Mi"`,
#     `sidecar.istio.io/proxyMemoryLimit: "1024Mi"`. The webhook adds these
#     defaults only when none of the four annotations is set.
package meshguard.istio.res_001

import data.meshguard.lib.config
import data.meshguard.lib.finding
import data.meshguard.lib.istio
import data.meshguard.lib.kube

# The object is of a kind in this package's METADATA. The engine evaluates a
# package only for those kinds (kube.indexed); under conftest or opa eval,
# where every package sees every object, the METADATA is read.
_applies if kube.indexed

else if kube.applies(rego.metadata.chain())

_keys := {
	"cpu": "sidecar.istio.io/proxyCPU",
	"cpuLimit": "sidecar.istio.io/proxyCPULimit",
	"memory": "sidecar.istio.io/proxyMemory",
	"memoryLimit": "sidecar.istio.io/proxyMemoryLimit",
}

_required := ["cpu", "memory", "memoryLimit"]

_annotated contains k if {
	some k, key in _keys
	kube.pod_annotations[key]
}

_proxy := c if {
	some c in array.concat(object.get(kube.pod_spec, "containers", []), object.get(kube.pod_spec, "initContainers", []))
	c.name == "istio-proxy"
}

_proxy_index := [p, i] if {
	some p in ["containers", "initContainers"]
	some i, c in kube.pod_spec[p]
	c.name == "istio-proxy"
}

# Where the values come from: the annotations, or an injected proxy container
# when no annotation is set.
_from_container if {
	_proxy
	count(_annotated) == 0
}

_container_fields := {
	"cpu": ["requests", "cpu"],
	"cpuLimit": ["limits", "cpu"],
	"memory": ["requests", "memory"],
	"memoryLimit": ["limits", "memory"],
}

# value name -> [value, path]. One object rule (not one rule per key), so
# that _values[k] looks the value up instead of evaluating the rule for k.
_values := {k: [v, kube.pod_meta_path(["annotations", key])] |
	some k, key in _keys
	v := kube.pod_annotations[key]
} if {
	not _from_container
} else := {k: [v, array.concat(kube.pod_prefix, ["spec", p, i, "resources", f[0], f[1]])] |
	[p, i] := _proxy_index
	some k, f in _container_fields
	v := _proxy.resources[f[0]][f[1]]
}

_ref := sprintf("%s %s/%s", [kube.kind, kube.namespace, kube.name])

# Every deny is about a workload that gets a sidecar: that is tested once,
# and the cases are _denials.
deny contains f if {
	istio.gets_sidecar
	_applies
	some f in _denials
}

_denials contains f if {
	count(_values) == 0
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s will get an Istio sidecar but sets no proxy resources; add the sidecar.istio.io/proxyCPU, proxyMemory and proxyMemoryLimit annotations", [_ref]),
		kube.pod_meta_path(["annotations"]),
	)
}

_denials contains f if {
	count(_values) > 0
	some k in _required
	not _values[k]
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s sets some proxy resources but not %s; the injector then drops every default, so set all of proxyCPU, proxyMemory and proxyMemoryLimit", [_ref, _keys[k]]),
		kube.pod_meta_path(["annotations"]),
	)
}

# Quantities may be YAML numbers offline (`cpu: 1`); the API server turns them
# into strings.
_parse(k) := units.parse(sprintf("%v", [_values[k][0]]))

_denials contains f if {
	some k, [v, p] in _values
	not _parse(k)
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
	some k, [v, p] in _values
	min_key := _bounds[k][0]
	min_key != ""
	min := config.params.sidecar[min_key]
	_parse(k) < units.parse(min)
	f := finding.new(rego.metadata.chain(), sprintf("%s: %s %s is below the minimum %s", [_ref, _keys[k], v, min]), p)
}

_denials contains f if {
	some k, [v, p] in _values
	max := config.params.sidecar[_bounds[k][1]]
	_parse(k) > units.parse(max)
	f := finding.new(rego.metadata.chain(), sprintf("%s: %s %s is above the maximum %s", [_ref, _keys[k], v, max]), p)
}

_pairs := [["cpu", "cpuLimit"], ["memory", "memoryLimit"]]

_denials contains f if {
	some [req, lim] in _pairs
	_parse(lim) < _parse(req)
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s: %s %s is below the request %s", [_ref, _keys[lim], _values[lim][0], _values[req][0]]),
		_values[lim][1],
	)
}

# Mutation: the default proxy resources, only when none of the four
# annotations is set (a partial set stays denied: completing it could hide a
# mistake) and no proxy container was injected yet. proxyCPULimit only when
# the cpuLimit parameter is configured.
_default_params := {
	"cpu": "cpuRequest",
	"memory": "memoryRequest",
	"memoryLimit": "memoryLimit",
	"cpuLimit": "cpuLimit",
}

# Annotation values are strings; a parameter written as a YAML number
# (`cpuRequest: 1`) is rendered as one.
mutate contains {"path": kube.pod_meta_path(["annotations", _keys[k]]), "value": sprintf("%v", [v])} if {
	istio.gets_sidecar
	_applies
	count(_annotated) == 0
	not _proxy
	some k, param in _default_params
	v := config.params.sidecar[param]
	not v in {"", null}
}
