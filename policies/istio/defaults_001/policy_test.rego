package meshguard.istio.defaults_001_test

import data.meshguard.istio.defaults_001

_managed := {"app.kubernetes.io/managed-by": "meshguard"}

_pa(labels, spec) := {
	"apiVersion": "security.istio.io/v1",
	"kind": "PeerAuthentication",
	"metadata": {"name": "default", "namespace": "shop", "labels": labels},
	"spec": spec,
}

_ap(labels, spec) := {
	"apiVersion": "security.istio.io/v1",
	"kind": "AuthorizationPolicy",
	"metadata": {"name": "allow-nothing", "namespace": "shop", "labels": labels},
	"spec": spec,
}

_strict := {"mtls": {"mode": "STRICT"}}

_review(op, user, obj, old) := {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
	"operation": op,
	"userInfo": {"username": user},
	"object": obj,
	"oldObject": old,
}}

_inv(annotations) := {"namespaces": {"shop": {"metadata": {"name": "shop", "annotations": annotations}}}}

test_deny_deleting_a_managed_default if {
	deny := defaults_001.deny with input as _review("DELETE", "alice", null, _pa(_managed, _strict))
	{f.path | some f in deny} == {["metadata", "labels", "app.kubernetes.io/managed-by"]}
	some f in deny
	startswith(f.msg, "ISTIO-DEFAULTS-001: PeerAuthentication shop/default is a managed default")
}

test_deny_each_weakening if {
	weak := {
		"mode": [_pa(_managed, {"mtls": {"mode": "PERMISSIVE"}}), ["spec", "mtls", "mode"]],
		"no mode": [_pa(_managed, {}), ["spec", "mtls", "mode"]],
		"port": [_pa(_managed, object.union(_strict, {"portLevelMtls": {"80": {"mode": "DISABLE"}}})), ["spec", "portLevelMtls"]],
		"selector": [_pa(_managed, object.union(_strict, {"selector": {"matchLabels": {"a": "b"}}})), ["spec", "selector"]],
		"label": [_pa({}, _strict), ["metadata", "labels", "app.kubernetes.io/managed-by"]],
		"rules": [_ap(_managed, {"rules": [{}]}), ["spec", "rules"]],
		"action": [_ap(_managed, {"action": "AUDIT"}), ["spec", "action"]],
		"targetRefs": [_ap(_managed, {"targetRefs": [{"kind": "Gateway", "name": "g"}]}), ["spec", "targetRefs"]],
		"targetRef": [_ap(_managed, {"targetRef": {"kind": "Gateway", "name": "g"}}), ["spec", "targetRef"]],
	}
	every case in weak {
		old := object.union(case[0], {"metadata": {"labels": _managed}})
		{f.path | some f in defaults_001.deny} == {case[1]} with input as _review("UPDATE", "alice", case[0], old)
	}
}

test_allow_same_template_update if {
	count(defaults_001.deny) == 0 with input as _review("UPDATE", "meshguard", _pa(_managed, _strict), _pa(_managed, _strict))
	count(defaults_001.deny) == 0 with input as _review("UPDATE", "meshguard", _ap(_managed, {}), _ap(_managed, {}))
}

test_allow_when_namespace_opted_out_or_terminating if {
	del := _review("DELETE", "alice", null, _pa(_managed, _strict))
	count(defaults_001.deny) == 0 with input as del with data.inventory as _inv({"meshguard.io/defaults": "disabled"})
	terminating := {"namespaces": {"shop": {"metadata": {"name": "shop", "deletionTimestamp": "2026-11-22T00:00:00Z"}}}}
	count(defaults_001.deny) == 0 with input as del with data.inventory as terminating
	phase := {"namespaces": {"shop": {"metadata": {"name": "shop"}, "status": {"phase": "Terminating"}}}}
	count(defaults_001.deny) == 0 with input as del with data.inventory as phase
}

test_allow_kubernetes_controllers if {
	count(defaults_001.deny) == 0 with input as _review("DELETE", "system:serviceaccount:kube-system:namespace-controller", null, _pa(_managed, _strict))
	count(defaults_001.deny) == 0 with input as _review("DELETE", "system:serviceaccount:kube-system:generic-garbage-collector", null, _ap(_managed, {}))
}

test_allow_unmanaged_objects if {
	count(defaults_001.deny) == 0 with input as _review("DELETE", "alice", null, _pa({}, _strict))
	count(defaults_001.deny) == 0 with input as _review("UPDATE", "alice", _pa({}, {"mtls": {"mode": "PERMISSIVE"}}), _pa({}, _strict))
}

test_create_is_not_judged if {
	count(defaults_001.deny) == 0 with input as {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"operation": "CREATE", "object": _pa(_managed, {})}}
}

test_applies_outside_the_engine if {
	count(defaults_001.deny) == 1 with input as _review("DELETE", "alice", null, _pa(_managed, _strict))
		with data.meshguard.engine.indexed as true
}
