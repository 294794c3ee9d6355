package meshguard.istio.inj_003_test

import data.meshguard.istio.inj_003

_pod(annotations, spec) := {
	"apiVersion": "v1",
	"kind": "Pod",
	"metadata": {"name": "api", "namespace": "shop", "annotations": annotations},
	"spec": object.union({"containers": [{"name": "api", "image": "registry.example.com/api:1.0"}]}, spec),
}

_deploy(annotations, spec) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "api", "namespace": "shop"},
	"spec": {"template": {
		"metadata": {"annotations": annotations},
		"spec": object.union({"containers": [{"name": "api", "image": "registry.example.com/api:1.0"}]}, spec),
	}},
}

_f(ref, msg, path) := {"msg": sprintf("ISTIO-INJ-003: %s %s", [ref, msg]), "id": "ISTIO-INJ-003", "severity": "high", "path": path}

_skip := ", so that traffic skips mTLS and authorization"

_replaced := ", so the enforcement point is no longer the proxy Istio ships"

_at(key) := ["spec", "template", "metadata", "annotations", key]

_uid(name) := sprintf("container %s runs as UID 1337, the proxy's UID, whose traffic the sidecar never captures; use another UID", [name])

_sets(field) := sprintf("declares an istio-proxy container that sets %s, which the injector merges into the sidecar; set only its resources", [field])

_at_proxy(rest) := array.concat(["spec", "template", "spec", "containers", 1], rest)

_pod_uid := "runs its containers as UID 1337 by default, the proxy's UID, whose traffic the sidecar never captures; use another UID"

# RULES.md violating example: an excluded inbound port and the pod running
# as the proxy's UID.
test_deny_excluded_port_and_proxy_uid if {
	pod := _pod({"traffic.sidecar.istio.io/excludeInboundPorts": "8080"}, {"securityContext": {"runAsUser": 1337}})
	inj_003.deny == {
		_f("Pod shop/api", concat("", ["excludes inbound ports from the sidecar (traffic.sidecar.istio.io/excludeInboundPorts \"8080\")", _skip]), ["metadata", "annotations", "traffic.sidecar.istio.io/excludeInboundPorts"]),
		_f("Pod shop/api", _pod_uid, ["spec", "securityContext", "runAsUser"]),
	} with input as pod
	not inj_003.warn with input as pod
}

test_deny_every_bypass_annotation_on_a_template if {
	annotations := {
		"traffic.sidecar.istio.io/excludeOutboundPorts": 5432,
		"traffic.sidecar.istio.io/excludeOutboundIPRanges": "10.0.0.0/8",
		"traffic.sidecar.istio.io/excludeInterfaces": "eth1",
		"traffic.sidecar.istio.io/includeInboundPorts": "",
		"traffic.sidecar.istio.io/includeOutboundIPRanges": "10.96.0.0/12",
		"sidecar.istio.io/interceptionMode": "none",
		"sidecar.istio.io/proxyImage": "registry.example.com/proxy:dev",
		"sidecar.istio.io/bootstrapOverride": "custom-bootstrap",
		"sidecar.istio.io/userVolume": "[{\"name\": \"x\"}]",
		"sidecar.istio.io/userVolumeMount": "[{\"name\": \"x\", \"mountPath\": \"/x\"}]",
	}
	ref := "Deployment shop/api"
	inj_003.deny == {
		_f(ref, concat("", ["excludes outbound ports from the sidecar (traffic.sidecar.istio.io/excludeOutboundPorts \"5432\")", _skip]), _at("traffic.sidecar.istio.io/excludeOutboundPorts")),
		_f(ref, concat("", ["excludes outbound IP ranges from the sidecar (traffic.sidecar.istio.io/excludeOutboundIPRanges \"10.0.0.0/8\")", _skip]), _at("traffic.sidecar.istio.io/excludeOutboundIPRanges")),
		_f(ref, concat("", ["excludes network interfaces from the sidecar (traffic.sidecar.istio.io/excludeInterfaces \"eth1\")", _skip]), _at("traffic.sidecar.istio.io/excludeInterfaces")),
		_f(ref, concat("", ["captures only the listed inbound ports (traffic.sidecar.istio.io/includeInboundPorts \"\")", _skip]), _at("traffic.sidecar.istio.io/includeInboundPorts")),
		_f(ref, concat("", ["captures only the listed outbound IP ranges (traffic.sidecar.istio.io/includeOutboundIPRanges \"10.96.0.0/12\")", _skip]), _at("traffic.sidecar.istio.io/includeOutboundIPRanges")),
		_f(ref, concat("", ["turns traffic capture off (sidecar.istio.io/interceptionMode NONE)", _skip]), _at("sidecar.istio.io/interceptionMode")),
		_f(ref, concat("", ["replaces the proxy image (sidecar.istio.io/proxyImage)", _replaced]), _at("sidecar.istio.io/proxyImage")),
		_f(ref, concat("", ["replaces the proxy bootstrap config (sidecar.istio.io/bootstrapOverride)", _replaced]), _at("sidecar.istio.io/bootstrapOverride")),
		_f(ref, concat("", ["mounts user volumes into the proxy (sidecar.istio.io/userVolume)", _replaced]), _at("sidecar.istio.io/userVolume")),
		_f(ref, concat("", ["mounts user volumes into the proxy (sidecar.istio.io/userVolumeMount)", _replaced]), _at("sidecar.istio.io/userVolumeMount")),
	} with input as _deploy(annotations, {})
}

# RULES.md compliant example, and annotation values that bypass nothing.
test_allow_capture_everything if {
	inj_003.deny == set() with input as _pod({}, {"securityContext": {"runAsUser": 10001, "runAsNonRoot": true}})
	annotations := {
		"traffic.sidecar.istio.io/excludeInboundPorts": "",
		"traffic.sidecar.istio.io/excludeOutboundIPRanges": " ",
		"traffic.sidecar.istio.io/includeInboundPorts": "*",
		"traffic.sidecar.istio.io/includeOutboundIPRanges": "*",
		"sidecar.istio.io/interceptionMode": "TPROXY",
		"sidecar.istio.io/proxyCPU": "100m",
	}
	inj_003.deny == set() with input as _deploy(annotations, {})
}

test_deny_app_containers_as_proxy_uid if {
	spec := {
		"initContainers": [{"name": "setup", "image": "x", "securityContext": {"runAsUser": 1337}}],
		"containers": [
			{"name": "api", "image": "x"},
			{"name": "worker", "image": "x", "securityContext": {"runAsUser": 1337}},
		],
	}
	inj_003.deny == {
		_f("Deployment shop/api", _uid("setup"), ["spec", "template", "spec", "initContainers", 0, "securityContext", "runAsUser"]),
		_f("Deployment shop/api", _uid("worker"), ["spec", "template", "spec", "containers", 1, "securityContext", "runAsUser"]),
	} with input as _deploy({}, spec)
}

# The pod default counts only for containers that do not set their own UID;
# Istio's own containers run as 1337 by design.
test_pod_default_uid_only_for_containers_that_inherit_it if {
	own := {"securityContext": {"runAsUser": 1337}, "containers": [{"name": "api", "image": "x", "securityContext": {"runAsUser": 10001}}]}
	inj_003.deny == set() with input as _pod({}, own)
	injected := {
		"initContainers": [{"name": "istio-validation", "image": "proxyv2", "securityContext": {"runAsUser": 1337}}],
		"containers": [
			{"name": "api", "image": "x"},
			{"name": "istio-proxy", "image": "proxyv2", "securityContext": {"runAsUser": 1337}},
		],
	}
	inj_003.deny == set() with input as _pod({"sidecar.istio.io/status": "{}"}, injected)
}

test_deny_proxy_overlay_before_injection if {
	spec := {"containers": [
		{"name": "api", "image": "x"},
		{
			"name": "istio-proxy",
			"image": "registry.example.com/proxy:evil",
			"command": ["/bin/sh"],
			"args": ["-c", "sleep inf"],
			"resources": {"limits": {"memory": "1Gi"}},
			"securityContext": {
				"privileged": true,
				"allowPrivilegeEscalation": true,
				"readOnlyRootFilesystem": false,
				"runAsNonRoot": false,
				"runAsUser": 0,
				"runAsGroup": 0,
				"capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]},
			},
		},
	]}
	ref := "Deployment shop/api"
	inj_003.deny == {
		_f(ref, _sets("image"), _at_proxy(["image"])),
		_f(ref, _sets("command"), _at_proxy(["command"])),
		_f(ref, _sets("args"), _at_proxy(["args"])),
		_f(ref, _sets("securityContext.privileged"), _at_proxy(["securityContext", "privileged"])),
		_f(ref, _sets("securityContext.allowPrivilegeEscalation"), _at_proxy(["securityContext", "allowPrivilegeEscalation"])),
		_f(ref, _sets("securityContext.readOnlyRootFilesystem"), _at_proxy(["securityContext", "readOnlyRootFilesystem"])),
		_f(ref, _sets("securityContext.runAsNonRoot"), _at_proxy(["securityContext", "runAsNonRoot"])),
		_f(ref, _sets("securityContext.runAsUser"), _at_proxy(["securityContext", "runAsUser"])),
		_f(ref, _sets("securityContext.runAsGroup"), _at_proxy(["securityContext", "runAsGroup"])),
		_f(ref, _sets("securityContext.capabilities"), _at_proxy(["securityContext", "capabilities"])),
	} with input as _deploy({}, spec)
}

# Resources and a securityContext as strict as the injector's are fine; so is
# the proxy of an injected Pod.
test_allow_proxy_overlay_with_resources_only if {
	overlay := {"containers": [
		{"name": "api", "image": "x"},
		{"name": "istio-proxy", "resources": {"requests": {"cpu": "100m"}}, "securityContext": {
			"privileged": false, "allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
			"runAsNonRoot": true, "runAsUser": 1337, "runAsGroup": 1337, "capabilities": {"drop": ["ALL"]},
		}},
	]}
	inj_003.deny == set() with input as _deploy({}, overlay)
	injected := {"containers": [{"name": "api", "image": "x"}, {"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.28.0", "args": ["proxy", "sidecar"]}]}
	inj_003.deny == set() with input as _pod({"sidecar.istio.io/status": "{\"containers\":[\"istio-proxy\"]}"}, injected)
}

test_cronjob_paths if {
	cron := {
		"apiVersion": "batch/v1",
		"kind": "CronJob",
		"metadata": {"name": "nightly", "namespace": "shop"},
		"spec": {"jobTemplate": {"spec": {"template": {
			"metadata": {"annotations": {"sidecar.istio.io/proxyImage": "x"}},
			"spec": {"securityContext": {"runAsUser": 1337}, "containers": [{"name": "job", "image": "x"}]},
		}}}},
	}
	inj_003.deny == {
		_f("CronJob shop/nightly", concat("", ["replaces the proxy image (sidecar.istio.io/proxyImage)", _replaced]), ["spec", "jobTemplate", "spec", "template", "metadata", "annotations", "sidecar.istio.io/proxyImage"]),
		_f("CronJob shop/nightly", _pod_uid, ["spec", "jobTemplate", "spec", "template", "spec", "securityContext", "runAsUser"]),
	} with input as cron
}

test_other_kinds_are_not_judged if {
	svc := object.union(_pod({"sidecar.istio.io/proxyImage": "x"}, {}), {"kind": "Service"})
	inj_003.deny == set() with input as svc
}

# Workloads that certainly get no Istio sidecar are not judged; an unknown
# namespace, an enrolled one or the opt-in label keep the verdict.
test_only_workloads_that_may_get_an_istio_sidecar if {
	annotations := {"traffic.sidecar.istio.io/excludeInboundPorts": "8080"}
	finding := {_f("Pod shop/api", concat("", ["excludes inbound ports from the sidecar (traffic.sidecar.istio.io/excludeInboundPorts \"8080\")", _skip]), ["metadata", "annotations", "traffic.sidecar.istio.io/excludeInboundPorts"])}
	inj_003.deny == finding with input as _pod(annotations, {})
	inj_003.deny == finding with input as _pod(annotations, {}) with data.inventory as _ns({"istio-injection": "enabled"})
	inj_003.deny == set() with input as _pod(annotations, {}) with data.inventory as _ns({})
	inj_003.deny == set() with input as _pod(object.union(annotations, {"sidecar.istio.io/inject": "false"}), {})
	inj_003.deny == set() with input as _pod(object.union(annotations, {"linkerd.io/inject": "enabled"}), {})
	inj_003.deny == set() with input as _pod(object.union(annotations, {"consul.hashicorp.com/connect-inject": "true"}), {})
	opt_in := object.union(_pod(annotations, {}), {"metadata": {"labels": {"sidecar.istio.io/inject": "true"}}})
	inj_003.deny == finding with input as opt_in with data.inventory as _ns({})
}

# A gateway's istio-proxy container asks for the injector's image with
# "auto"; an empty field sets nothing.
test_allow_gateway_proxy_container if {
	gateway := {"containers": [{"name": "istio-proxy", "image": "auto", "args": null}]}
	inj_003.deny == set() with input as _deploy({"inject.istio.io/templates": "gateway"}, gateway)
}

_ns(labels) := {"namespaces": {"shop": {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": labels}}}}

# The engine has already matched the kind (kube.indexed).
test_deny_when_indexed_by_the_engine if {
	inj_003.deny == {_f("Pod shop/api", _pod_uid, ["spec", "securityContext", "runAsUser"])} with input as _pod({}, {"securityContext": {"runAsUser": 1337}})
		with data.meshguard.engine.indexed as true
}
