package meshguard.istio.inj_004_test

import data.meshguard.istio.inj_004

_key := "proxy.istio.io/config"

_enrolled := {"namespaces": {"shop": {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"istio-injection": "enabled"}}}}}

_pod(annotations) := {
	"apiVersion": "v1",
	"kind": "Pod",
	"metadata": {"name": "api", "namespace": "shop", "annotations": annotations},
	"spec": {"containers": [{"name": "api", "image": "registry.example.com/api:1.0"}]},
}

_deploy(annotations) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "api", "namespace": "shop"},
	"spec": {"template": {"metadata": {"annotations": annotations}, "spec": {"containers": [{"name": "api", "image": "x"}]}}},
}

_f(msg, path) := {"msg": sprintf("ISTIO-INJ-004: %s", [msg]), "id": "ISTIO-INJ-004", "severity": "low", "path": path}

_no_hold(ref) := sprintf("%s will get an Istio sidecar but does not hold the application until the proxy is ready; add proxy.istio.io/config '{\"holdApplicationUntilProxyStarts\": true}'", [ref])

_not_held(ref) := sprintf("%s will get an Istio sidecar but its proxy.istio.io/config does not set holdApplicationUntilProxyStarts: true, so the application may start before the proxy is ready", [ref])

_hold := {"path": ["spec", "template", "metadata", "annotations", _key], "value": "{\"holdApplicationUntilProxyStarts\":true}"}

# RULES.md violating example: a non-native sidecar without the hold.
test_warn_no_hold if {
	pod := _pod({"sidecar.istio.io/nativeSidecar": "false"})
	inj_004.warn == {_f(_no_hold("Pod shop/api"), ["metadata", "annotations"])} with input as pod with data.inventory as _enrolled
	not inj_004.deny with input as pod with data.inventory as _enrolled
	inj_004.mutate == {{"path": ["metadata", "annotations", _key], "value": "{\"holdApplicationUntilProxyStarts\":true}"}} with input as pod with data.inventory as _enrolled
}

test_warn_and_mutate_template_without_hold if {
	inj_004.warn == {_f(_no_hold("Deployment shop/api"), ["spec", "template", "metadata", "annotations"])} with input as _deploy({}) with data.inventory as _enrolled
	inj_004.mutate == {_hold} with input as _deploy({}) with data.inventory as _enrolled
}

test_warn_config_without_hold if {
	at := ["spec", "template", "metadata", "annotations", _key]
	every config in ["{\"holdApplicationUntilProxyStarts\": false}", "concurrency: 2\n", "", "holdApplicationUntilProxyStarts: \"true\""] {
		inj_004.warn == {_f(_not_held("Deployment shop/api"), at)} with input as _deploy({_key: config}) with data.inventory as _enrolled
		inj_004.mutate == set() with input as _deploy({_key: config}) with data.inventory as _enrolled
	}
}

test_warn_unreadable_config if {
	at := ["spec", "template", "metadata", "annotations", _key]
	msg := "Deployment shop/api: proxy.istio.io/config is not a YAML or JSON ProxyConfig object"
	inj_004.warn == {_f(msg, at)} with input as _deploy({_key: "{holdApplicationUntilProxyStarts: [true"}) with data.inventory as _enrolled
	inj_004.warn == {_f(msg, at)} with input as _deploy({_key: "- true"}) with data.inventory as _enrolled
	inj_004.mutate == set() with input as _deploy({_key: "- true"}) with data.inventory as _enrolled
}

# RULES.md compliant example, YAML form, native sidecars and the mesh-wide
# setting.
test_allow_held_or_native if {
	inj_004.warn == set() with input as _pod({_key: "{\"holdApplicationUntilProxyStarts\": true}"}) with data.inventory as _enrolled
	inj_004.warn == set() with input as _deploy({_key: "holdApplicationUntilProxyStarts: true\nconcurrency: 2\n"}) with data.inventory as _enrolled
	inj_004.warn == set() with input as _deploy({"sidecar.istio.io/nativeSidecar": "True"}) with data.inventory as _enrolled
	inj_004.mutate == set() with input as _deploy({"sidecar.istio.io/nativeSidecar": "true"}) with data.inventory as _enrolled
	inj_004.warn == set() with input as _deploy({}) with data.inventory as _enrolled with data.meshguard.config as {"istio": {"holdApplicationUntilProxyStarts": true}}
	inj_004.mutate == set() with input as _deploy({}) with data.inventory as _enrolled with data.meshguard.config as {"istio": {"holdApplicationUntilProxyStarts": true}}
}

# Only workloads that get a sidecar: not in an unenrolled namespace, not
# opted out; an injected Pod is warned but not mutated.
test_only_workloads_that_get_a_sidecar if {
	inj_004.warn == set() with input as _deploy({})
	inj_004.warn == set() with input as _deploy({_key: "- true"})
	inj_004.warn == set() with input as _pod({"sidecar.istio.io/inject": "false"}) with data.inventory as _enrolled
	injected := object.union(_pod({}), {"spec": {"containers": [{"name": "api", "image": "x"}, {"name": "istio-proxy", "image": "proxyv2"}]}})
	inj_004.warn == {_f(_no_hold("Pod shop/api"), ["metadata", "annotations"])} with input as injected
	inj_004.mutate == set() with input as injected
}

# Gateways run the proxy alone: nothing to hold.
test_gateways_are_not_judged if {
	gateway := object.union(_pod({}), {"spec": {"containers": [{"name": "istio-proxy", "image": "auto"}]}})
	inj_004.warn == set() with input as gateway
	inj_004.mutate == set() with input as gateway
	templated := _deploy({"inject.istio.io/templates": "gateway", "sidecar.istio.io/inject": "true"})
	inj_004.warn == set() with input as templated with data.inventory as _enrolled
	inj_004.warn == {_f(_no_hold("Deployment shop/api"), ["spec", "template", "metadata", "annotations"])} with input as _deploy({"inject.istio.io/templates": "sidecar"}) with data.inventory as _enrolled
	no_containers := object.union(_pod({}), {"spec": {"containers": []}})
	inj_004.warn == {_f(_no_hold("Pod shop/api"), ["metadata", "annotations"])} with input as no_containers with data.inventory as _enrolled
}

test_other_kinds_are_not_judged if {
	inj_004.warn == set() with input as object.union(_pod({}), {"kind": "Service"}) with data.inventory as _enrolled
}

# The engine has already matched the kind (kube.indexed).
test_warn_when_indexed_by_the_engine if {
	inj_004.warn == {_f(_no_hold("Deployment shop/api"), ["spec", "template", "metadata", "annotations"])} with input as _deploy({}) with data.inventory as _enrolled
		with data.meshguard.engine.indexed as true
}
