package meshguard.linkerd.inj_001_test

import data.meshguard.linkerd.inj_001

_ns(name, annotations, labels) := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "annotations": annotations, "labels": labels}}

_deploy(annotations) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": "emojivoto"},
	"spec": {"template": {"metadata": {"annotations": annotations}, "spec": {"containers": [{"name": "web"}]}}},
}

_pod(annotations) := {
	"apiVersion": "v1",
	"kind": "Pod",
	"metadata": {"name": "web", "namespace": "emojivoto", "annotations": annotations},
	"spec": {"containers": [{"name": "web"}]},
}

_inv(namespaces) := {"namespaces": {n.metadata.name: n | some n in namespaces}, "objects": {}}

_linkerd := _ns("linkerd", {}, {"linkerd.io/is-control-plane": "true"})

_meshed := _ns("emojivoto", {"linkerd.io/inject": "enabled"}, {})

_f(severity, msg, path) := {"msg": sprintf("LINKERD-INJ-001: %s", [msg]), "id": "LINKERD-INJ-001", "severity": severity, "path": path}

test_deny_opt_out_in_a_meshed_namespace if {
	authn := _f("high", "Deployment emojivoto/web opts out of Linkerd injection (linkerd.io/inject: disabled) in namespace emojivoto, which is meshed", ["spec", "template", "metadata", "annotations", "linkerd.io/inject"])
	inj_001.deny == {authn} with input as _deploy({"linkerd.io/inject": "disabled"}) with data.inventory as _inv([_meshed])
	ingress := _ns("emojivoto", {"linkerd.io/inject": "ingress"}, {})
	inj_001.deny == {authn} with input as _deploy({"linkerd.io/inject": "disabled"}) with data.inventory as _inv([ingress])
	inj_001.deny == {_f("high", "Pod emojivoto/web opts out of Linkerd injection (linkerd.io/inject: disabled) in namespace emojivoto, which is meshed", ["metadata", "annotations", "linkerd.io/inject"])} with input as _pod({"linkerd.io/inject": "disabled"}) with data.inventory as _inv([_meshed])
}

test_allow_opt_out_outside_meshed_namespaces if {
	inj_001.deny == set() with input as _deploy({"linkerd.io/inject": "disabled"}) with data.inventory as _inv([_ns("emojivoto", {}, {})])
	inj_001.deny == set() with input as _deploy({"linkerd.io/inject": "disabled"}) with data.inventory as _inv([])
	inj_001.deny == set() with input as _deploy({"linkerd.io/inject": "disabled"})
	inj_001.deny == set() with input as _deploy({}) with data.inventory as _inv([_meshed])
	inj_001.deny == set() with input as _deploy({"linkerd.io/inject": "enabled"}) with data.inventory as _inv([_meshed])
}

test_warn_unmeshed_namespace_in_a_linkerd_cluster if {
	inj_001.warn == {_f("medium", "Namespace shop is not meshed by Linkerd (no linkerd.io/inject: enabled) though the cluster runs Linkerd; its pods get no identity and no policy", ["metadata", "annotations"])} with input as _ns("shop", {}, {}) with data.inventory as _inv([_linkerd])
	inj_001.warn == {_f("medium", "Namespace shop is not meshed by Linkerd (no linkerd.io/inject: enabled) though the cluster runs Linkerd; its pods get no identity and no policy", ["metadata", "annotations", "linkerd.io/inject"])} with input as _ns("shop", {"linkerd.io/inject": "disabled"}, {}) with data.inventory as _inv([_linkerd])
}

test_allow_meshed_control_plane_excluded_and_non_linkerd if {
	inj_001.warn == set() with input as _meshed with data.inventory as _inv([_linkerd])
	inj_001.warn == set() with input as _ns("emojivoto", {"linkerd.io/inject": "ingress"}, {}) with data.inventory as _inv([_linkerd])
	inj_001.warn == set() with input as _linkerd with data.inventory as _inv([_linkerd])
	inj_001.warn == set() with input as _ns("linkerd", {}, {}) with data.inventory as _inv([_linkerd])
	inj_001.warn == set() with input as _ns("linkerd-viz", {}, {"linkerd.io/extension": "viz"}) with data.inventory as _inv([_linkerd])
	inj_001.warn == set() with input as _ns("kube-system", {}, {}) with data.inventory as _inv([_linkerd])
	count(inj_001.warn) == 1 with input as _ns("kube-system", {}, {}) with data.inventory as _inv([_linkerd])
		with data.meshguard.engine.excludedNamespaces as []

	# Namespaces of another mesh.
	inj_001.warn == set() with input as _ns("shop", {}, {"istio-injection": "enabled"}) with data.inventory as _inv([_linkerd])
	inj_001.warn == set() with input as _ns("shop", {}, {"istio.io/rev": "1-28"}) with data.inventory as _inv([_linkerd])
	inj_001.warn == set() with input as _ns("shop", {}, {"istio.io/dataplane-mode": "ambient"}) with data.inventory as _inv([_linkerd])

	# A cluster without Linkerd (or no inventory at all): nothing to say.
	inj_001.warn == set() with input as _ns("shop", {}, {}) with data.inventory as _inv([])
	inj_001.warn == set() with input as _ns("shop", {}, {})

	# The control plane namespace is a parameter.
	count(inj_001.warn) == 1 with input as _ns("shop", {}, {}) with data.inventory as _inv([_ns("l5d", {}, {})])
		with data.meshguard.config as {"linkerd": {"namespace": "l5d"}}
}

test_warn_proxy_await_disabled if {
	inj_001.warn == {_f("low", "Deployment emojivoto/web sets config.linkerd.io/proxy-await: disabled, so the application may start before its proxy is ready and its first connections fail", ["spec", "template", "metadata", "annotations", "config.linkerd.io/proxy-await"])} with input as _deploy({"config.linkerd.io/proxy-await": "disabled"})
	inj_001.warn == {_f("low", "Namespace emojivoto sets config.linkerd.io/proxy-await: disabled, so the application may start before its proxy is ready and its first connections fail", ["metadata", "annotations", "config.linkerd.io/proxy-await"])} with input as _ns("emojivoto", {"linkerd.io/inject": "enabled", "config.linkerd.io/proxy-await": "disabled"}, {})
	inj_001.warn == set() with input as _deploy({"config.linkerd.io/proxy-await": "enabled"})
}

test_other_kinds_are_not_judged if {
	inj_001.deny == set() with input as object.union(_deploy({"linkerd.io/inject": "disabled"}), {"kind": "Service", "apiVersion": "v1"}) with data.inventory as _inv([_meshed])
}
