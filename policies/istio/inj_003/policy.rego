# METADATA
# title: No sidecar bypass or tampering
# description: |
#   Traffic that is not redirected to the Envoy sidecar skips mTLS and every
#   AuthorizationPolicy, and a replaced proxy is no enforcement point. Denied
#   on Pods and pod templates: the `traffic.sidecar.istio.io/*` annotations
#   that exclude ports, IP ranges or interfaces from capture (or include less
#   than `*`), `sidecar.istio.io/interceptionMode: NONE`, and the
#   annotations that replace the proxy's image, bootstrap or volumes; a pod
#   default or an application container running as UID 1337, whose traffic
#   the sidecar never captures; and, before injection, a user-declared
#   `istio-proxy` container that sets `image`, `command`, `args` or a weaker
#   `securityContext`, which Istio merges into the injected proxy (its
#   resources and probes are legitimate and judged by ISTIO-RES-001;
#   `image: auto` asks the injector for its own image). Workloads that
#   certainly get no Istio sidecar are not judged: opted out, in a known
#   Namespace that is not enrolled, or injected by Linkerd or Consul.
# custom:
#   id: ISTIO-INJ-003
#   version: 1.0.0
#   severity: high
#   action: deny
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
#     Remove the bypass annotations and run applications under a UID other
#     than 1337; let the injector own the `istio-proxy` container (set only
#     its resources). A port or CIDR that must bypass the proxy gets a
#     time-limited exemption (`meshguard.io/exempt: ISTIO-INJ-003` with a
#     reason and an expiry date).
package meshguard.istio.inj_003

import data.meshguard.lib.finding
import data.meshguard.lib.istio
import data.meshguard.lib.kube

# The object is of a kind in this package's METADATA. The engine evaluates a
# package only for those kinds (kube.indexed); under conftest or opa eval,
# where every package sees every object, the METADATA is read.
_applies if kube.indexed

else if kube.applies(rego.metadata.chain())

_ref := sprintf("%s %s/%s", [kube.kind, kube.namespace, kube.name])

# Judged unless the workload certainly runs without an Istio sidecar: it
# opts out, its Namespace is known and gives it none, or another mesh
# (Linkerd, Consul) injects it.
_judged if {
	_applies
	not _no_istio_sidecar
}

_no_istio_sidecar if {
	not istio.gets_sidecar
	istio.opted_out
}

_no_istio_sidecar if {
	not istio.gets_sidecar
	kube.namespace_object
}

_no_istio_sidecar if {
	not istio.gets_sidecar
	_other_mesh
}

_other_mesh if kube.pod_annotations["linkerd.io/inject"] in {"enabled", "ingress"}

_other_mesh if kube.pod_annotations["consul.hashicorp.com/connect-inject"] == "true"

_proxy_uid := 1337

# Annotations that take traffic away from the sidecar when set to anything.
_excluding := {
	"traffic.sidecar.istio.io/excludeInboundPorts": "excludes inbound ports from the sidecar",
	"traffic.sidecar.istio.io/excludeOutboundPorts": "excludes outbound ports from the sidecar",
	"traffic.sidecar.istio.io/excludeOutboundIPRanges": "excludes outbound IP ranges from the sidecar",
	"traffic.sidecar.istio.io/excludeInterfaces": "excludes network interfaces from the sidecar",
}

# Annotations that capture only what they list: anything but "*" leaves the
# rest uncaptured.
_including := {
	"traffic.sidecar.istio.io/includeInboundPorts": "captures only the listed inbound ports",
	"traffic.sidecar.istio.io/includeOutboundIPRanges": "captures only the listed outbound IP ranges",
}

# Annotations that replace part of the proxy.
_replacing := {
	"sidecar.istio.io/proxyImage": "replaces the proxy image",
	"sidecar.istio.io/bootstrapOverride": "replaces the proxy bootstrap config",
	"sidecar.istio.io/userVolume": "mounts user volumes into the proxy",
	"sidecar.istio.io/userVolumeMount": "mounts user volumes into the proxy",
}

# Annotation values as strings (YAML may hold numbers offline).
_string(raw) := trim_space(sprintf("%v", [raw]))

_skips := "so that traffic skips mTLS and authorization"

# The bypasses are found by walking the pod's annotations (most pods have
# none or a few) rather than by looking up each key of the tables.
_bypass contains [key, sprintf("%s (%s %q), %s", [what, key, v, _skips])] if {
	some key, raw in kube.pod_annotations
	what := _excluding[key]
	v := _string(raw)
	v != ""
}

_bypass contains [key, sprintf("%s (%s %q), %s", [what, key, v, _skips])] if {
	some key, raw in kube.pod_annotations
	what := _including[key]
	v := _string(raw)
	v != "*"
}

_bypass contains [key, sprintf("%s (%s), so the enforcement point is no longer the proxy Istio ships", [what, key])] if {
	some key, raw in kube.pod_annotations
	what := _replacing[key]
	raw != false
}

_bypass contains [key, sprintf("turns traffic capture off (%s NONE), %s", [key, _skips])] if {
	key := "sidecar.istio.io/interceptionMode"
	upper(_string(kube.pod_annotations[key])) == "NONE"
}

# Each deny tests what it is about before _judged, which asks whether the
# workload gets a sidecar. Every bypass annotation is a sidecar.istio.io/ or
# traffic.sidecar.istio.io/ one: _bypass is evaluated only for a pod that has
# one (the same findings for each such annotation: the set keeps one).
deny contains f if {
	some k, _ in kube.pod_annotations
	contains(k, "sidecar.istio.io/")
	some [key, what] in _bypass
	_judged
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s %s", [_ref, what]),
		kube.pod_meta_path(["annotations", key]),
	)
}

_spec_path(rest) := array.concat(array.concat(kube.pod_prefix, ["spec"]), rest)

# Containers Istio injects run as the proxy UID themselves.
_istio_containers := {"istio-proxy", "istio-validation"}

deny contains f if {
	kube.pod_spec.securityContext.runAsUser == 1337 # _proxy_uid
	_judged
	some [_, _, c] in _app_containers
	not c.securityContext.runAsUser
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s runs its containers as UID 1337 by default, the proxy's UID, whose traffic the sidecar never captures; use another UID", [_ref]),
		_spec_path(["securityContext", "runAsUser"]),
	)
}

# [list, index, container] of the containers that are not Istio's.
_app_containers contains [list, i, c] if {
	some list in ["initContainers", "containers"]
	some i, c in kube.pod_spec[list]
	not c.name in _istio_containers
}

deny contains f if {
	some list in ["initContainers", "containers"]
	some i, c in kube.pod_spec[list]
	c.securityContext.runAsUser == 1337 # _proxy_uid
	not c.name in _istio_containers
	_judged
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s container %s runs as UID 1337, the proxy's UID, whose traffic the sidecar never captures; use another UID", [_ref, c.name]),
		_spec_path([list, i, "securityContext", "runAsUser"]),
	)
}

# Before injection (no sidecar.istio.io/status yet), an istio-proxy container
# in the spec is an overlay the injector merges into the real proxy.
_injected if kube.pod_annotations["sidecar.istio.io/status"]

_overrides contains [list, i, field] if {
	"istio-proxy" in kube.container_names
	not _injected
	some list in ["initContainers", "containers"]
	some i, c in kube.pod_spec[list]
	c.name == "istio-proxy"
	some field in ["image", "command", "args"]
	not c[field] in {null, "auto"} # "auto": the injector fills in its own image (gateways)
}

_overrides contains [list, i, ["securityContext", field]] if {
	"istio-proxy" in kube.container_names
	not _injected
	some list in ["initContainers", "containers"]
	some i, c in kube.pod_spec[list]
	c.name == "istio-proxy"
	some field, weak in c.securityContext
	_weaker(field, weak)
}

_weaker("privileged", true)

_weaker("allowPrivilegeEscalation", true)

_weaker("readOnlyRootFilesystem", false)

_weaker("runAsNonRoot", false)

_weaker("runAsUser", uid) if uid != _proxy_uid

_weaker("runAsGroup", gid) if gid != _proxy_uid

_weaker("capabilities", caps) if count(object.get(caps, "add", [])) > 0

deny contains f if {
	"istio-proxy" in kube.container_names
	some [list, i, field] in _overrides
	_judged
	path := array.concat([list, i], _as_array(field))
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s declares an istio-proxy container that sets %s, which the injector merges into the sidecar; set only its resources", [_ref, concat(".", _as_array(field))]),
		_spec_path(path),
	)
}

_as_array(field) := field if is_array(field)

else := [field]
