package meshguard.generate.istio_test

import data.meshguard.generate.istio

_ns(labels) := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": labels}}

_pa := {
	"apiVersion": "security.istio.io/v1",
	"kind": "PeerAuthentication",
	"metadata": {"name": "default"},
	"spec": {"mtls": {"mode": "STRICT"}},
}

_ap := {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy", "metadata": {"name": "allow-nothing"}, "spec": {}}

_inv(pas, aps) := {"objects": {
	"PeerAuthentication.security.istio.io": {"shop": pas},
	"AuthorizationPolicy.security.istio.io": {"shop": aps},
}}

_managed := {"app.kubernetes.io/managed-by": "meshguard"}

test_enrolled_namespace_gets_both if {
	istio.generate == {_pa, _ap} with input as _ns({"istio-injection": "enabled"})
	istio.generate == {_pa, _ap} with input as _ns({"istio.io/rev": "canary"})
}

# PeerAuthentication and AuthorizationPolicy apply to ambient workloads too.
test_ambient_namespace_gets_both if {
	istio.generate == {_pa, _ap} with input as _ns({"istio.io/dataplane-mode": "ambient"})
	istio.generate == set() with input as _ns({"istio.io/dataplane-mode": "none"})
}

test_unenrolled_namespace_gets_nothing if {
	istio.generate == set() with input as _ns({})
	istio.generate == set() with input as _ns({"istio-injection": "disabled"})
	istio.generate == set() with input as _ns({"istio.io/rev": "canary", "istio-injection": "disabled"})
}

test_user_strict_policy_counts if {
	own := {"metadata": {"name": "mine"}, "spec": {"mtls": {"mode": "STRICT"}}}
	istio.generate == {_ap} with input as _ns({"istio-injection": "enabled"}) with data.inventory as _inv({"mine": own}, {})
}

test_user_workload_or_permissive_policy_does_not_count if {
	workload := {"metadata": {"name": "w"}, "spec": {"selector": {"matchLabels": {"app": "a"}}, "mtls": {"mode": "STRICT"}}}
	permissive := {"metadata": {"name": "p"}, "spec": {"mtls": {"mode": "PERMISSIVE"}}}
	istio.generate == {_pa, _ap} with input as _ns({"istio-injection": "enabled"})
		with data.inventory as _inv({"w": workload, "p": permissive}, {})
}

test_user_object_with_the_same_name_is_never_replaced if {
	own := {"metadata": {"name": "default"}, "spec": {"mtls": {"mode": "PERMISSIVE"}}}
	own_ap := {"metadata": {"name": "allow-nothing"}, "spec": {"rules": [{}]}}
	istio.generate == set() with input as _ns({"istio-injection": "enabled"})
		with data.inventory as _inv({"default": own}, {"allow-nothing": own_ap})
}

test_user_allow_nothing_counts if {
	own := {"metadata": {"name": "deny-all"}, "spec": {"action": "ALLOW"}}
	istio.generate == {_pa} with input as _ns({"istio-injection": "enabled"}) with data.inventory as _inv({}, {"deny-all": own})
}

test_user_policy_with_rules_does_not_count if {
	rules := {"metadata": {"name": "some"}, "spec": {"rules": [{"from": [{"source": {"principals": ["a"]}}]}]}}
	targeted := {"metadata": {"name": "gw"}, "spec": {"targetRefs": [{"kind": "Gateway", "name": "g"}]}}
	istio.generate == {_pa, _ap} with input as _ns({"istio-injection": "enabled"})
		with data.inventory as _inv({}, {"some": rules, "gw": targeted})
}

test_managed_copies_are_still_desired if {
	managed_pa := {"metadata": {"name": "default", "labels": _managed}, "spec": {"mtls": {"mode": "STRICT"}}}
	managed_ap := {"metadata": {"name": "allow-nothing", "labels": _managed}, "spec": {}}
	istio.generate == {_pa, _ap} with input as _ns({"istio-injection": "enabled"})
		with data.inventory as _inv({"default": managed_pa}, {"allow-nothing": managed_ap})
}
