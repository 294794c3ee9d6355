# METADATA
# title: Hold the application until the proxy is ready
# description: |
#   Without `holdApplicationUntilProxyStarts` the application container can
#   start, and send traffic that iptables already captures, before Envoy has
#   its config, which shows up as startup failures. A workload that will get
#   an Istio sidecar is warned when neither its `proxy.istio.io/config`
#   annotation nor the mesh config (`istio.holdApplicationUntilProxyStarts`)
#   holds it, unless it asks for a native sidecar
#   (`sidecar.istio.io/nativeSidecar: "true"`, which starts first anyway) or
#   is a gateway (the proxy alone, or the `gateway` injection template). A
#   `proxy.istio.io/config` that is not YAML or JSON is warned too. The
#   mutating webhook adds `proxy.istio.io/config:
#   '{"holdApplicationUntilProxyStarts":true}'` when the annotation is absent.
# custom:
#   id: ISTIO-INJ-004
#   version: 1.0.0
#   severity: low
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
#     Add `proxy.istio.io/config: '{"holdApplicationUntilProxyStarts": true}'`
#     to the pod template's annotations (or set `holdApplicationUntilProxyStarts`
#     in the mesh config's `defaultConfig` and `istio.holdApplicationUntilProxyStarts:
#     true` in meshguard's config), or use native sidecars.
package meshguard.istio.inj_004

import data.meshguard.lib.config
import data.meshguard.lib.finding
import data.meshguard.lib.istio
import data.meshguard.lib.kube

# The object is of a kind in this package's METADATA. The engine evaluates a
# package only for those kinds (kube.indexed); under conftest or opa eval,
# where every package sees every object, the METADATA is read.
_applies if kube.indexed

else if kube.applies(rego.metadata.chain())

_key := "proxy.istio.io/config"

_ref := sprintf("%s %s/%s", [kube.kind, kube.namespace, kube.name])

_config_raw := kube.pod_annotations[_key]

_config_readable if {
	is_string(_config_raw)
	yaml.is_valid(_config_raw)
	doc := yaml.unmarshal(_config_raw)
	_object_or_null(doc)
}

_object_or_null(doc) if is_object(doc)

_object_or_null(null)

_held if config.params.istio.holdApplicationUntilProxyStarts == true

_held if {
	_config_readable
	yaml.unmarshal(_config_raw).holdApplicationUntilProxyStarts == true
}

_native if lower(sprintf("%v", [kube.pod_annotations["sidecar.istio.io/nativeSidecar"]])) == "true"

_concerned if {
	istio.gets_sidecar
	not _native
	not _gateway
}

# A gateway is the proxy alone: there is no application to hold.
_gateway if {
	count(object.get(kube.pod_spec, "containers", [])) > 0
	every c in kube.pod_spec.containers {
		c.name == "istio-proxy"
	}
}

_gateway if "gateway" in split(kube.pod_annotations["inject.istio.io/templates"], ",")

# Every warning is about a workload that gets a sidecar: that is tested
# once, and the cases are _warnings.
warn contains f if {
	istio.gets_sidecar
	_applies
	some f in _warnings
}

_warnings contains f if {
	_concerned
	not _held
	not _config_raw
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s will get an Istio sidecar but does not hold the application until the proxy is ready; add %s '{\"holdApplicationUntilProxyStarts\": true}'", [_ref, _key]),
		kube.pod_meta_path(["annotations"]),
	)
}

_warnings contains f if {
	_concerned
	not _held
	_config_readable
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s will get an Istio sidecar but its %s does not set holdApplicationUntilProxyStarts: true, so the application may start before the proxy is ready", [_ref, _key]),
		kube.pod_meta_path(["annotations", _key]),
	)
}

_warnings contains f if {
	_config_raw
	not _config_readable
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s: %s is not a YAML or JSON ProxyConfig object", [_ref, _key]),
		kube.pod_meta_path(["annotations", _key]),
	)
}

_has_proxy_container if "istio-proxy" in kube.container_names

# Mutation (RULES.md): the annotation, when it is absent and nothing else
# holds the application; not on an already injected Pod.
mutate contains {"path": kube.pod_meta_path(["annotations", _key]), "value": "{\"holdApplicationUntilProxyStarts\":true}"} if {
	_concerned
	_applies
	not _held
	not _config_raw
	not _has_proxy_container
}
