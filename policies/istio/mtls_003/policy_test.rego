package meshguard.istio.mtls_003_test

import data.meshguard.istio.mtls_003

_ns(name, labels) := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}

_injected := {"istio-injection": "enabled"}

_pa(ns, name, spec) := {
	"apiVersion": "security.istio.io/v1",
	"kind": "PeerAuthentication",
	"metadata": {"name": name, "namespace": ns},
	"spec": spec,
}

_mode(m) := {"mtls": {"mode": m}}

# Inventory of PeerAuthentications: {namespace: {name: object}}.
_inv(pas) := {"objects": {"PeerAuthentication.security.istio.io": pas}}

_f(msg) := {"id": "ISTIO-MTLS-003", "severity": "critical", "path": ["metadata", "labels"], "msg": msg}

_root_permissive := _inv({"istio-system": {"default": _pa("istio-system", "default", _mode("PERMISSIVE"))}})

_root_strict := _inv({"istio-system": {"default": _pa("istio-system", "default", _mode("STRICT"))}})

# RULES.md violating example: enrolled, root PERMISSIVE, no namespace policy.
test_warn_root_permissive_without_namespace_policy if {
	mtls_003.warn == {_f("ISTIO-MTLS-003: Namespace payments is in the mesh but its workloads get mTLS mode PERMISSIVE from PeerAuthentication istio-system/default; add a namespace-wide STRICT PeerAuthentication or make the mesh-wide one STRICT")} with input as _ns("payments", _injected)
		with data.inventory as _root_permissive
}

test_warn_no_policy_anywhere if {
	mtls_003.warn == {_f("ISTIO-MTLS-003: Namespace payments is in the mesh but its workloads get mTLS mode PERMISSIVE from Istio's default (no mesh-wide PeerAuthentication); add a namespace-wide STRICT PeerAuthentication or make the mesh-wide one STRICT")} with input as _ns("payments", {"istio.io/rev": "1-28"})
}

test_warn_ambient_namespace if {
	count(mtls_003.warn) == 1 with input as _ns("payments", {"istio.io/dataplane-mode": "ambient"})
}

# The namespace's own policy overrides a STRICT root.
test_warn_namespace_policy_overrides_strict_root if {
	inv := _inv({
		"istio-system": {"default": _pa("istio-system", "default", _mode("STRICT"))},
		"payments": {"default": _pa("payments", "default", _mode("DISABLE"))},
	})
	mtls_003.warn == {_f("ISTIO-MTLS-003: Namespace payments is in the mesh but its workloads get mTLS mode DISABLE from PeerAuthentication payments/default; add a namespace-wide STRICT PeerAuthentication or make the mesh-wide one STRICT")} with input as _ns("payments", _injected)
		with data.inventory as inv
}

# A workload policy does not make the namespace STRICT.
test_warn_workload_policy_is_not_a_baseline if {
	inv := _inv({"payments": {"api": _pa("payments", "api", object.union({"selector": {"matchLabels": {"app": "api"}}}, _mode("STRICT")))}})
	count(mtls_003.warn) == 1 with input as _ns("payments", _injected) with data.inventory as inv
}

# RULES.md compliant example: a STRICT mesh-wide policy.
test_pass_root_strict if {
	count(mtls_003.warn) == 0 with input as _ns("payments", _injected) with data.inventory as _root_strict
}

test_pass_namespace_strict if {
	inv := _inv({
		"istio-system": {"default": _pa("istio-system", "default", _mode("PERMISSIVE"))},
		"payments": {"default": _pa("payments", "default", _mode("STRICT"))},
	})
	count(mtls_003.warn) == 0 with input as _ns("payments", _injected) with data.inventory as inv
}

# A namespace-wide policy without a mode inherits the STRICT root.
test_pass_unset_namespace_policy_under_strict_root if {
	inv := _inv({
		"istio-system": {"default": _pa("istio-system", "default", _mode("STRICT"))},
		"payments": {"default": _pa("payments", "default", {})},
	})
	count(mtls_003.warn) == 0 with input as _ns("payments", _injected) with data.inventory as inv
}

test_pass_namespace_not_in_mesh if {
	count(mtls_003.warn) == 0 with input as _ns("tools", {})
	count(mtls_003.warn) == 0 with input as _ns("tools", {"istio-injection": "disabled"})
	count(mtls_003.warn) == 0 with input as _ns("tools", {"istio.io/rev": "1-28", "istio-injection": "disabled"})
}

# The webhook without a cluster does not know the other objects: silent.
test_pass_inventory_unknown if {
	count(mtls_003.warn) == 0 with input as _ns("payments", _injected) with data.meshguard.engine.inventory as false
}

test_pass_other_kinds if {
	count(mtls_003.warn) == 0 with input as _pa("payments", "default", _mode("PERMISSIVE"))
}

# The engine has already matched the kind (data.meshguard.engine.indexed).
test_warn_engine_indexed if {
	count(mtls_003.warn) == 1 with input as _ns("payments", _injected) with data.meshguard.engine.indexed as true
}
