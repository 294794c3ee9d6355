package meshguard.linkerd.inj_002_test

import data.meshguard.linkerd.inj_002

_pod(annotations, spec) := {
	"apiVersion": "v1",
	"kind": "Pod",
	"metadata": {"name": "api", "namespace": "emojivoto", "annotations": annotations},
	"spec": object.union({"containers": [{"name": "api", "image": "registry.example.com/api:1.0"}]}, spec),
}

_deploy(spec) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "api", "namespace": "emojivoto"},
	"spec": {"template": {"metadata": {}, "spec": spec}},
}

_ns(annotations) := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "emojivoto", "annotations": annotations}}

_f(msg, path) := {"msg": sprintf("LINKERD-INJ-002: %s", [msg]), "id": "LINKERD-INJ-002", "severity": "high", "path": path}

_in := "config.linkerd.io/skip-inbound-ports"

_out := "config.linkerd.io/skip-outbound-ports"

_subnets := "config.linkerd.io/skip-subnets"

test_deny_skipped_ports_and_subnets if {
	inj_002.deny == {
		_f("Pod emojivoto/api sets config.linkerd.io/skip-inbound-ports \"8080\": traffic on 8080 bypasses the Linkerd proxy (no mTLS, no policy)", ["metadata", "annotations", _in]),
		_f("Pod emojivoto/api sets config.linkerd.io/skip-subnets \"10.0.0.0/8\": traffic to those subnets bypasses the Linkerd proxy (no mTLS, no policy)", ["metadata", "annotations", _subnets]),
	} with input as _pod({_in: "8080", _subnets: "10.0.0.0/8"}, {})
	inj_002.deny == {_f("Namespace emojivoto sets config.linkerd.io/skip-outbound-ports \"3306, 5432-5440\": traffic on 3306,5432-5440 bypasses the Linkerd proxy (no mTLS, no policy)", ["metadata", "annotations", _out])} with input as _ns({_out: "3306, 5432-5440"})
}

test_allowed_skip_ports_are_a_parameter if {
	inj_002.deny == set() with input as _pod({_in: "4567,4568"}, {})
		with data.meshguard.config as {"linkerd": {"allowedSkipPorts": [4567, "4568"]}}
	inj_002.deny == {_f("Pod emojivoto/api sets config.linkerd.io/skip-inbound-ports \"4567,8080\": traffic on 8080 bypasses the Linkerd proxy (no mTLS, no policy)", ["metadata", "annotations", _in])} with input as _pod({_in: "4567,8080"}, {})
		with data.meshguard.config as {"linkerd": {"allowedSkipPorts": [4567]}}
}

test_allow_no_or_empty_skip_annotations if {
	inj_002.deny == set() with input as _pod({}, {})
	inj_002.deny == set() with input as _pod({_in: "", _subnets: " "}, {})
	inj_002.deny == set() with input as _ns({"linkerd.io/inject": "enabled"})
}

test_deny_application_container_as_proxy_uid if {
	inj_002.deny == {_f("Pod emojivoto/api: container api runs as UID 2102, the Linkerd proxy's, so its traffic is not redirected through the proxy; use another UID", ["spec", "containers", 0, "securityContext", "runAsUser"])} with input as _pod({}, {"containers": [{"name": "api", "securityContext": {"runAsUser": 2102}}]})

	# From the pod's securityContext, for a template; init containers too.
	inj_002.deny == {
		_f("Deployment emojivoto/api: container api runs as UID 2102, the Linkerd proxy's, so its traffic is not redirected through the proxy; use another UID", ["spec", "template", "spec", "securityContext", "runAsUser"]),
		_f("Deployment emojivoto/api: container migrate runs as UID 2102, the Linkerd proxy's, so its traffic is not redirected through the proxy; use another UID", ["spec", "template", "spec", "initContainers", 0, "securityContext", "runAsUser"]),
	} with input as _deploy({
		"securityContext": {"runAsUser": 2102},
		"containers": [{"name": "api"}, {"name": "sidecar", "securityContext": {"runAsUser": 1000}}],
		"initContainers": [{"name": "migrate", "securityContext": {"runAsUser": 2102}}],
	})
}

test_proxy_uid_override if {
	# The pod's proxy-uid annotation, then its Namespace's, then the parameter.
	spec := {"containers": [{"name": "api", "securityContext": {"runAsUser": 3000}}]}
	count(inj_002.deny) == 1 with input as _pod({"config.linkerd.io/proxy-uid": "3000"}, spec)
	count(inj_002.deny) == 1 with input as _pod({}, spec)
		with data.inventory as {"namespaces": {"emojivoto": _ns({"config.linkerd.io/proxy-uid": "3000"})}}
	count(inj_002.deny) == 1 with input as _pod({}, spec) with data.meshguard.config as {"linkerd": {"proxyUID": 3000}}
	inj_002.deny == set() with input as _pod({}, spec)
	inj_002.deny == set() with input as _pod({"config.linkerd.io/proxy-uid": "3001"}, {"containers": [{"name": "api", "securityContext": {"runAsUser": 2102}}]})
}

test_allow_the_proxy_containers_and_other_uids if {
	inj_002.deny == set() with input as _pod({}, {
		"securityContext": {"runAsUser": 1000},
		"containers": [{"name": "api"}, {"name": "linkerd-proxy", "securityContext": {"runAsUser": 2102}}],
		"initContainers": [{"name": "linkerd-init", "securityContext": {"runAsUser": 2102}}],
	})
	inj_002.deny == set() with input as _pod({}, {"containers": [{"name": "api", "securityContext": {"runAsNonRoot": true}}]})
}

test_other_kinds_are_not_judged if {
	inj_002.deny == set() with input as object.union(_pod({_subnets: "10.0.0.0/8"}, {}), {"kind": "Service"})
}
