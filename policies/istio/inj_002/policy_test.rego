package meshguard.istio.inj_002_test

import data.meshguard.istio.inj_002

_ns(name, labels) := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}

_policy(kind, group, name, spec) := {"apiVersion": sprintf("%s/v1", [group]), "kind": kind, "metadata": {"name": name, "namespace": "shop"}, "spec": spec}

_pa := _policy("PeerAuthentication", "security.istio.io", "default", {"mtls": {"mode": "STRICT"}})

_ap := _policy("AuthorizationPolicy", "security.istio.io", "allow-nothing", {})

_sidecar := _policy("Sidecar", "networking.istio.io", "default", {"egress": [{"hosts": ["./*"]}]})

_inventory(objs) := {"objects": {key: {"shop": {o.metadata.name: o | some o in objs; sprintf("%s.%s", [o.kind, split(o.apiVersion, "/")[0]]) == key}} |
	some o2 in objs
	key := sprintf("%s.%s", [o2.kind, split(o2.apiVersion, "/")[0]])
}}

_f(msg, path) := {"msg": sprintf("ISTIO-INJ-002: %s", [msg]), "id": "ISTIO-INJ-002", "severity": "medium", "path": path}

_fix := "label it istio-injection=enabled (or istio.io/rev)"

# RULES.md violating example, with a policy written for the namespace.
test_warn_disabled_namespace_with_istio_policies if {
	ns := _ns("shop", {"istio-injection": "disabled"})
	inj_002.warn == {_f(
		sprintf("Namespace shop sets istio-injection=disabled, so its pods get no sidecar and PeerAuthentication shop/default protects nothing; %s", [_fix]),
		["metadata", "labels", "istio-injection"],
	)} with input as ns with data.inventory as _inventory([_pa])
	not inj_002.deny with input as ns with data.inventory as _inventory([_pa])
}

test_warn_unlabelled_namespace_names_its_policies if {
	gateway_policy := _policy("AuthorizationPolicy", "security.istio.io", "ingress", {"selector": {"matchLabels": {"istio": "ingressgateway"}}})
	inv := _inventory([_pa, _ap, _sidecar, gateway_policy])
	msg := sprintf("Namespace shop is not enrolled in the mesh, so its pods get no sidecar and AuthorizationPolicy shop/allow-nothing and 2 more protect nothing; %s", [_fix])
	inj_002.warn == {_f(msg, ["metadata", "labels"])} with input as _ns("shop", {"team": "shop"}) with data.inventory as inv
	inj_002.warn == {_f(msg, ["metadata"])} with input as {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}} with data.inventory as inv
	inj_002.warn == {_f(msg, ["metadata", "labels"])} with input as _ns("shop", {"istio.io/dataplane-mode": "none"}) with data.inventory as inv
}

# RULES.md compliant example and the other ways to enroll.
test_allow_enrolled_namespaces if {
	inv := _inventory([_pa, _ap])
	inj_002.warn == set() with input as _ns("shop", {"istio-injection": "enabled"}) with data.inventory as inv
	inj_002.warn == set() with input as _ns("shop", {"istio.io/rev": "1-28"}) with data.inventory as inv
	inj_002.warn == set() with input as _ns("shop", {"istio.io/dataplane-mode": "ambient"}) with data.inventory as inv
}

# Not judged: namespaces without Istio workload policies (a gateway's own
# policies and routing objects do not count), the root namespace, and an
# unknown inventory.
test_allow_namespaces_not_meant_for_the_mesh if {
	inj_002.warn == set() with input as _ns("shop", {})
	vs := _policy("VirtualService", "networking.istio.io", "shop", {"hosts": ["shop"]})
	gw := _policy("AuthorizationPolicy", "security.istio.io", "gw", {"targetRefs": [{"kind": "Gateway", "group": "gateway.networking.k8s.io", "name": "public"}]})
	gw_single := _policy("RequestAuthentication", "security.istio.io", "jwt", {"targetRef": {"kind": "Gateway", "group": "gateway.networking.k8s.io", "name": "public"}})
	inj_002.warn == set() with input as _ns("shop", {}) with data.inventory as _inventory([vs, gw, gw_single])
	inj_002.warn == set() with input as _ns("other", {}) with data.inventory as _inventory([_pa])
	root_pa := object.union(_pa, {"metadata": {"namespace": "istio-system"}})
	inj_002.warn == set() with input as _ns("istio-system", {}) with data.inventory as {"objects": {"PeerAuthentication.security.istio.io": {"istio-system": {"default": root_pa}}}}
	inj_002.warn == set() with input as _ns("shop", {}) with data.inventory as _inventory([_pa]) with data.meshguard.engine.inventory as false
}

test_warn_conflicting_injection_labels if {
	ns := _ns("shop", {"istio-injection": "enabled", "istio.io/rev": "1-28"})
	inj_002.warn == {_f(
		"Namespace shop sets both istio-injection=enabled and istio.io/rev (1-28), which select different injectors; keep one",
		["metadata", "labels", "istio.io/rev"],
	)} with input as ns

	# disabled wins over the revision: neither injector injects, no conflict.
	inj_002.warn == set() with input as _ns("shop", {"istio-injection": "disabled", "istio.io/rev": "1-28"})
	inj_002.warn == set() with input as _ns("istio-system", {"istio-injection": "enabled", "istio.io/rev": "1-28"})
}

test_other_kinds_are_not_judged if {
	inj_002.warn == set() with input as object.union(_ns("shop", {"istio-injection": "enabled", "istio.io/rev": "x"}), {"kind": "Project"})
}

# The engine has already matched the kind (kube.indexed).
test_warn_when_indexed_by_the_engine if {
	ns := _ns("shop", {"istio-injection": "enabled", "istio.io/rev": "1-28"})
	inj_002.warn == {_f(
		"Namespace shop sets both istio-injection=enabled and istio.io/rev (1-28), which select different injectors; keep one",
		["metadata", "labels", "istio.io/rev"],
	)} with input as ns with data.meshguard.engine.indexed as true
}
