# METADATA
# title: Consul sidecar proxy resources
# description: |
#   The chart's `connectInject.sidecarProxy.resources` default to null, so the
#   Envoy sidecar runs unbounded unless the workload sets its resources. A
#   workload that gets the Consul sidecar is warned when it lacks
#   `consul.hashicorp.com/sidecar-proxy-cpu-request`, `-memory-request` or
#   `-memory-limit` (`-cpu-limit` is optional); a value that is not a
#   Kubernetes quantity, outside the `sidecar` bounds, or a limit below its
#   request is denied. The mutating webhook adds `consul.sidecarProxy` (the
#   chart's recommended production values) to a workload that sets none of
#   the four and is not injected yet.
# custom:
#   id: CONSUL-RES-001
#   version: 1.0.0
#   severity: medium
#   action: warn
#   since: 2026.12.0
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
#     `consul.hashicorp.com/sidecar-proxy-cpu-request: "100m"`,
#     `consul.hashicorp.com/sidecar-proxy-memory-request: "100Mi"`,
#     `consul.hashicorp.com/sidecar-proxy-memory-limit: "100Mi"` (and
#     optionally `-cpu-limit`), within the configured bounds.
package meshguard.consul.res_001

import data.meshguard.lib.config
import data.meshguard.lib.consul
import data.meshguard.lib.finding
import data.meshguard.lib.kube

# The object is of a kind in this package's METADATA. The engine evaluates a
# package only for those kinds (kube.indexed); under conftest or opa eval,
# where every package sees every object, the METADATA is read.
_applies if kube.indexed

else if kube.applies(rego.metadata.chain())

_keys := {
	"cpuRequest": "consul.hashicorp.com/sidecar-proxy-cpu-request",
	"cpuLimit": "consul.hashicorp.com/sidecar-proxy-cpu-limit",
	"memoryRequest": "consul.hashicorp.com/sidecar-proxy-memory-request",
	"memoryLimit": "consul.hashicorp.com/sidecar-proxy-memory-limit",
}

_required := ["cpuRequest", "memoryRequest", "memoryLimit"]

# value name -> [value, path]. One object rule (not one rule per key), so
# that _values[k] looks the value up instead of evaluating the rule for k.
_values := {k: [v, kube.pod_meta_path(["annotations", key])] |
	some k, key in _keys
	v := kube.pod_annotations[key]
}

_ref := sprintf("%s %s/%s", [kube.kind, kube.namespace, kube.name])

warn contains f if {
	consul.injected
	_applies
	missing := [_keys[k] | some k in _required; not _values[k]]
	count(missing) > 0
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s gets the Consul sidecar but does not set %s, so the proxy runs without those bounds", [_ref, concat(", ", missing)]),
		kube.pod_meta_path(["annotations"]),
	)
}

# Every deny is about a value of a workload that gets the sidecar: that is
# tested once, and the cases are _denials.
deny contains f if {
	consul.injected
	count(_values) > 0
	_applies
	some f in _denials
}

# Quantities may be YAML numbers offline (`1`); the API server turns them
# into strings.
_parse(k) := units.parse(sprintf("%v", [_values[k][0]]))

_denials contains f if {
	some k, [v, p] in _values
	not _parse(k)
	f := finding.new(rego.metadata.chain(), sprintf("%s: %s value %q is not a Kubernetes quantity", [_ref, _keys[k], v]), p)
}

# value name -> [config key of the lower bound, of the upper bound] in `sidecar`
_bounds := {
	"cpuRequest": ["cpuRequestMin", "cpuRequestMax"],
	"memoryRequest": ["memoryRequestMin", "memoryRequestMax"],
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

_pairs := [["cpuRequest", "cpuLimit"], ["memoryRequest", "memoryLimit"]]

_denials contains f if {
	some [req, lim] in _pairs
	_parse(lim) < _parse(req)
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s: %s %s is below the request %s", [_ref, _keys[lim], _values[lim][0], _values[req][0]]),
		_values[lim][1],
	)
}

# Mutation (RULES.md): the defaults, only when none of the four is set (a
# partial set stays warned: completing it could put a limit below a request)
# and the Pod was not injected yet.
mutate contains {"path": kube.pod_meta_path(["annotations", key]), "value": sprintf("%v", [v])} if {
	consul.injected
	_applies
	count(_values) == 0
	not kube.pod_annotations["consul.hashicorp.com/connect-inject-status"]
	some k, key in _keys
	v := config.params.consul.sidecarProxy[k]
	not v in {"", null}
}
