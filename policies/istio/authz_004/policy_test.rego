package meshguard.istio.authz_004_test

import data.meshguard.istio.authz_004

_ns(name, labels) := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}

_injected := {"istio-injection": "enabled"}

_ap(ns, name, spec) := {
	"apiVersion": "security.istio.io/v1",
	"kind": "AuthorizationPolicy",
	"metadata": {"name": name, "namespace": ns},
	"spec": spec,
}

# Inventory of AuthorizationPolicies: {namespace: {name: object}}.
_inv(aps) := {"objects": {"AuthorizationPolicy.security.istio.io": aps}}

_f(ns) := {
	"id": "ISTIO-AUTHZ-004",
	"severity": "high",
	"path": ["metadata", "labels"],
	"msg": sprintf("ISTIO-AUTHZ-004: Namespace %s is in the mesh but has no allow-nothing AuthorizationPolicy (no selector, no rules) in it or in istio-system, so a workload no ALLOW policy selects accepts every request; add one with spec: {}", [ns]),
}

# RULES.md violating example: an enrolled namespace and no policy.
test_warn_enrolled_namespace_without_policy if {
	authz_004.warn == {_f("orders")} with input as _ns("orders", _injected)
	authz_004.warn == {_f("orders")} with input as _ns("orders", {"istio.io/rev": "1-28"})
	authz_004.warn == {_f("orders")} with input as _ns("orders", {"istio.io/dataplane-mode": "ambient"})
}

# Policies that are not allow-nothing do not count.
test_warn_policies_that_are_not_allow_nothing if {
	inv := _inv({"orders": {
		"allow-all": _ap("orders", "allow-all", {"rules": [{}]}),
		"api": _ap("orders", "api", {"selector": {"matchLabels": {"app": "api"}}}),
		"gw": _ap("orders", "gw", {"targetRefs": [{"kind": "Gateway", "group": "gateway.networking.k8s.io", "name": "gw"}]}),
		"deny": _ap("orders", "deny", {"action": "DENY"}),
	}})
	authz_004.warn == {_f("orders")} with input as _ns("orders", _injected) with data.inventory as inv
}

# An allow-nothing policy in another (non-root) namespace does not count.
test_warn_allow_nothing_elsewhere if {
	inv := _inv({"shop": {"allow-nothing": _ap("shop", "allow-nothing", {})}})
	authz_004.warn == {_f("orders")} with input as _ns("orders", _injected) with data.inventory as inv
}

# RULES.md compliant example.
test_pass_allow_nothing_in_namespace if {
	inv := _inv({"orders": {"allow-nothing": _ap("orders", "allow-nothing", {})}})
	count(authz_004.warn) == 0 with input as _ns("orders", _injected) with data.inventory as inv
}

test_pass_explicit_allow_and_empty_rules if {
	inv := _inv({"orders": {"deny-all": _ap("orders", "deny-all", {"action": "ALLOW", "rules": [], "selector": {"matchLabels": {}}})}})
	count(authz_004.warn) == 0 with input as _ns("orders", _injected) with data.inventory as inv
}

test_pass_allow_nothing_in_root_namespace if {
	inv := _inv({"istio-system": {"allow-nothing": _ap("istio-system", "allow-nothing", {})}})
	count(authz_004.warn) == 0 with input as _ns("orders", _injected) with data.inventory as inv
	count(authz_004.warn) == 1 with input as _ns("orders", _injected) with data.inventory as inv
		with data.meshguard.config as {"istio": {"rootNamespace": "mesh-root"}}
}

test_pass_namespace_not_in_mesh if {
	count(authz_004.warn) == 0 with input as _ns("tools", {})
	count(authz_004.warn) == 0 with input as _ns("tools", {"istio-injection": "disabled"})
}

test_pass_inventory_unknown if {
	count(authz_004.warn) == 0 with input as _ns("orders", _injected) with data.meshguard.engine.inventory as false
}

test_pass_other_kinds if {
	count(authz_004.warn) == 0 with input as _ap("orders", "x", {})
}

# The engine has already matched the kind (data.meshguard.engine.indexed).
test_warn_engine_indexed if {
	authz_004.warn == {_f("orders")} with input as _ns("orders", _injected) with data.meshguard.engine.indexed as true
}
