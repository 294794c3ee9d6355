package meshguard.istio.mtls_001_test

import data.meshguard.istio.mtls_001

# --- helpers -----------------------------------------------------------------

_pa(ns, name, spec) := {
	"apiVersion": "security.istio.io/v1",
	"kind": "PeerAuthentication",
	"metadata": {"name": name, "namespace": ns},
	"spec": spec,
}

_pa_beta(ns, name, spec) := object.union(_pa(ns, name, spec), {"apiVersion": "security.istio.io/v1beta1"})

_mode(m) := {"mtls": {"mode": m}}

_workload(spec) := object.union({"selector": {"matchLabels": {"app": "ledger"}}}, spec)

_review(obj) := {
	"apiVersion": "admission.k8s.io/v1",
	"kind": "AdmissionReview",
	"request": {"operation": "CREATE", "object": obj},
}

# Inventory of PeerAuthentications: {namespace: {name: object}}.
_inv(pas) := {"objects": {"PeerAuthentication.security.istio.io": pas}}

_f(msg, severity, path) := {"msg": msg, "id": "ISTIO-MTLS-001", "severity": severity, "path": path}

_permissive_payments := _f(
	"ISTIO-MTLS-001: PeerAuthentication payments/default sets mtls.mode PERMISSIVE, which accepts plaintext; use STRICT",
	"high",
	["spec", "mtls", "mode"],
)

_mesh_wide_unset := _f(
	"ISTIO-MTLS-001: mesh-wide PeerAuthentication istio-system/default sets no mtls.mode, so the mesh default is PERMISSIVE; set STRICT",
	"high",
	["spec", "mtls"],
)

_passes if {
	count(mtls_001.deny) == 0
	count(mtls_001.warn) == 0
}

# --- explicit weak modes (deny) ----------------------------------------------

# RULES.md violating example.
test_deny_permissive_mode if {
	mtls_001.deny == {_permissive_payments} with input as _pa("payments", "default", _mode("PERMISSIVE"))
	count(mtls_001.warn) == 0 with input as _pa("payments", "default", _mode("PERMISSIVE"))
}

test_deny_disable_mode_is_critical if {
	mtls_001.deny == {_f(
		"ISTIO-MTLS-001: PeerAuthentication payments/legacy sets mtls.mode DISABLE, which accepts plaintext; use STRICT",
		"critical",
		["spec", "mtls", "mode"],
	)} with input as _pa_beta("payments", "legacy", _mode("DISABLE"))
	count(mtls_001.warn) == 0 with input as _pa_beta("payments", "legacy", _mode("DISABLE"))
}

test_deny_permissive_workload_policy if {
	mtls_001.deny == {_f(
		"ISTIO-MTLS-001: PeerAuthentication payments/ledger sets mtls.mode PERMISSIVE, which accepts plaintext; use STRICT",
		"high",
		["spec", "mtls", "mode"],
	)} with input as _pa("payments", "ledger", _workload(_mode("PERMISSIVE")))
}

# An explicit weak mode is judged on its face, whatever the parents say.
test_deny_permissive_mode_despite_strict_root if {
	mtls_001.deny == {_permissive_payments} with input as _pa("payments", "default", _mode("PERMISSIVE"))
		with data.inventory as _inv({"istio-system": {"default": _pa("istio-system", "default", _mode("STRICT"))}})
}

test_deny_permissive_mesh_wide if {
	mtls_001.deny == {_f(
		"ISTIO-MTLS-001: PeerAuthentication istio-system/default sets mtls.mode PERMISSIVE, which accepts plaintext; use STRICT",
		"high",
		["spec", "mtls", "mode"],
	)} with input as _pa("istio-system", "default", _mode("PERMISSIVE"))
}

# RULES.md compliant example.
test_allow_strict_mode if {
	_passes with input as _pa("payments", "default", _mode("STRICT"))
}

test_allow_strict_mode_v1beta1 if {
	_passes with input as _pa_beta("payments", "default", _mode("STRICT"))
}

test_allow_strict_mesh_wide if {
	_passes with input as _pa("istio-system", "default", _mode("STRICT"))
}

# --- mesh-wide UNSET (deny) --------------------------------------------------

test_deny_mesh_wide_missing_mode if {
	mtls_001.deny == {_mesh_wide_unset} with input as _pa("istio-system", "default", {})
	count(mtls_001.warn) == 0 with input as _pa("istio-system", "default", {})
}

test_deny_mesh_wide_explicit_unset_mode if {
	mtls_001.deny == {_mesh_wide_unset} with input as _pa_beta("istio-system", "default", _mode("UNSET"))
	count(mtls_001.warn) == 0 with input as _pa_beta("istio-system", "default", _mode("UNSET"))
}

test_deny_mesh_wide_empty_mtls if {
	mtls_001.deny == {_mesh_wide_unset} with input as _pa("istio-system", "default", {"mtls": {}})
}

test_deny_mesh_wide_without_spec if {
	obj := json.remove(_pa("istio-system", "default", {}), ["spec"])
	mtls_001.deny == {_mesh_wide_unset} with input as obj
}

# A mesh-wide policy has no parent: a STRICT object elsewhere does not help.
test_deny_mesh_wide_unset_ignores_inventory if {
	mtls_001.deny == {_mesh_wide_unset} with input as _pa("istio-system", "default", {})
		with data.inventory as _inv({"istio-system": {"other": _pa("istio-system", "other", _mode("STRICT"))}})
}

# --- inherited UNSET (warn) --------------------------------------------------

# Without a cluster (webhook --standalone) the parents are unknown: no guess.
test_allow_unset_mode_when_inventory_unknown if {
	count(mtls_001.warn) == 0 with input as _pa("payments", "default", {})
		with data.meshguard.engine.inventory as false
}

test_warn_unset_mode_inherits_istio_default if {
	mtls_001.warn == {_f(
		"ISTIO-MTLS-001: PeerAuthentication payments/default sets no mtls.mode and inherits PERMISSIVE from Istio's default (no mesh-wide PeerAuthentication); set STRICT",
		"high",
		["spec", "mtls"],
	)} with input as _pa("payments", "default", {})
	count(mtls_001.deny) == 0 with input as _pa("payments", "default", {})
}

test_warn_unset_mode_inherits_permissive_root if {
	mtls_001.warn == {_f(
		"ISTIO-MTLS-001: PeerAuthentication payments/default sets no mtls.mode and inherits PERMISSIVE from PeerAuthentication istio-system/default; set STRICT",
		"high",
		["spec", "mtls"],
	)} with input as _pa("payments", "default", _mode("UNSET"))
		with data.inventory as _inv({"istio-system": {"default": _pa("istio-system", "default", _mode("PERMISSIVE"))}})
	count(mtls_001.deny) == 0 with input as _pa("payments", "default", _mode("UNSET"))
		with data.inventory as _inv({"istio-system": {"default": _pa("istio-system", "default", _mode("PERMISSIVE"))}})
}

test_allow_unset_mode_inherits_strict_root if {
	_passes with input as _pa("payments", "default", {})
		with data.inventory as _inv({"istio-system": {"default": _pa("istio-system", "default", _mode("STRICT"))}})
}

# Only selector-less root policies that set a mode count as mesh-wide parents.
test_warn_unset_mode_ignores_root_workload_and_unset_policies if {
	inv := _inv({"istio-system": {
		"gateway": _pa("istio-system", "gateway", _workload(_mode("STRICT"))),
		"default": _pa("istio-system", "default", _mode("UNSET")),
	}})
	mtls_001.warn == {_f(
		"ISTIO-MTLS-001: PeerAuthentication payments/default sets no mtls.mode and inherits PERMISSIVE from Istio's default (no mesh-wide PeerAuthentication); set STRICT",
		"high",
		["spec", "mtls"],
	)} with input as _pa("payments", "default", {}) with data.inventory as inv
}

# A namespace-wide policy inherits from the mesh, not from its own namespace.
test_allow_namespace_policy_unset_ignores_own_namespace if {
	inv := _inv({
		"istio-system": {"default": _pa("istio-system", "default", _mode("STRICT"))},
		"payments": {"legacy": _pa("payments", "legacy", _mode("DISABLE"))},
	})
	_passes with input as _pa("payments", "default", {}) with data.inventory as inv
}

test_warn_workload_unset_inherits_namespace_disable if {
	inv := _inv({
		"istio-system": {"default": _pa("istio-system", "default", _mode("STRICT"))},
		"payments": {"default": _pa("payments", "default", _mode("DISABLE"))},
	})
	mtls_001.warn == {_f(
		"ISTIO-MTLS-001: PeerAuthentication payments/ledger sets no mtls.mode and inherits DISABLE from PeerAuthentication payments/default; set STRICT",
		"high",
		["spec", "mtls"],
	)} with input as _pa("payments", "ledger", _workload({})) with data.inventory as inv
	count(mtls_001.deny) == 0 with input as _pa("payments", "ledger", _workload({})) with data.inventory as inv
}

test_allow_workload_unset_inherits_namespace_strict if {
	inv := _inv({
		"istio-system": {"default": _pa("istio-system", "default", _mode("PERMISSIVE"))},
		"payments": {"default": _pa("payments", "default", _mode("STRICT"))},
	})
	_passes with input as _pa("payments", "ledger", _workload({})) with data.inventory as inv
}

# Without a namespace-wide mode the workload falls back to the mesh-wide one.
test_warn_workload_unset_falls_back_to_root if {
	inv := _inv({
		"istio-system": {"default": _pa("istio-system", "default", _mode("PERMISSIVE"))},
		"payments": {
			"default": _pa("payments", "default", {}),
			"other": _pa("payments", "other", _workload(_mode("STRICT"))),
		},
	})
	mtls_001.warn == {_f(
		"ISTIO-MTLS-001: PeerAuthentication payments/ledger sets no mtls.mode and inherits PERMISSIVE from PeerAuthentication istio-system/default; set STRICT",
		"high",
		["spec", "mtls"],
	)} with input as _pa("payments", "ledger", _workload({})) with data.inventory as inv
}

test_allow_workload_unset_falls_back_to_strict_root if {
	inv := _inv({"istio-system": {"default": _pa("istio-system", "default", _mode("STRICT"))}})
	_passes with input as _pa_beta("payments", "ledger", _workload({})) with data.inventory as inv
}

test_warn_workload_unset_without_inventory if {
	mtls_001.warn == {_f(
		"ISTIO-MTLS-001: PeerAuthentication payments/ledger sets no mtls.mode and inherits PERMISSIVE from Istio's default (no mesh-wide PeerAuthentication); set STRICT",
		"high",
		["spec", "mtls"],
	)} with input as _pa("payments", "ledger", _workload({}))
}

# Several namespace-wide policies: the first by name decides.
test_warn_namespace_mode_first_by_name if {
	inv := _inv({"payments": {
		"b-strict": _pa("payments", "b-strict", _mode("STRICT")),
		"a-permissive": _pa("payments", "a-permissive", _mode("PERMISSIVE")),
	}})
	mtls_001.warn == {_f(
		"ISTIO-MTLS-001: PeerAuthentication payments/ledger sets no mtls.mode and inherits PERMISSIVE from PeerAuthentication payments/a-permissive; set STRICT",
		"high",
		["spec", "mtls"],
	)} with input as _pa("payments", "ledger", _workload({})) with data.inventory as inv
}

# A workload policy in the root namespace is not mesh-wide: it inherits.
test_warn_root_namespace_workload_policy_unset if {
	mtls_001.warn == {_f(
		"ISTIO-MTLS-001: PeerAuthentication istio-system/ingress sets no mtls.mode and inherits PERMISSIVE from Istio's default (no mesh-wide PeerAuthentication); set STRICT",
		"high",
		["spec", "mtls"],
	)} with input as _pa("istio-system", "ingress", _workload({}))
	count(mtls_001.deny) == 0 with input as _pa("istio-system", "ingress", _workload({}))
}

test_allow_root_namespace_workload_policy_inherits_strict if {
	_passes with input as _pa("istio-system", "ingress", _workload({}))
		with data.inventory as _inv({"istio-system": {"default": _pa("istio-system", "default", _mode("STRICT"))}})
}

# --- config override ---------------------------------------------------------

test_deny_config_root_namespace_mesh_wide if {
	mtls_001.deny == {_f(
		"ISTIO-MTLS-001: mesh-wide PeerAuthentication mesh-root/default sets no mtls.mode, so the mesh default is PERMISSIVE; set STRICT",
		"high",
		["spec", "mtls"],
	)} with input as _pa("mesh-root", "default", {})
		with data.meshguard.config as {"istio": {"rootNamespace": "mesh-root"}}
}

test_warn_config_root_namespace_inherits if {
	inv := _inv({
		"mesh-root": {"default": _pa("mesh-root", "default", _mode("DISABLE"))},
		"istio-system": {"default": _pa("istio-system", "default", _mode("STRICT"))},
	})
	mtls_001.warn == {_f(
		"ISTIO-MTLS-001: PeerAuthentication istio-system/default sets no mtls.mode and inherits DISABLE from PeerAuthentication mesh-root/default; set STRICT",
		"high",
		["spec", "mtls"],
	)} with input as _pa("istio-system", "default", {})
		with data.inventory as inv
		with data.meshguard.config as {"istio": {"rootNamespace": "mesh-root"}}
	count(mtls_001.deny) == 0 with input as _pa("istio-system", "default", {})
		with data.inventory as inv
		with data.meshguard.config as {"istio": {"rootNamespace": "mesh-root"}}
}

# --- kind guard and front doors ----------------------------------------------

test_allow_wrong_kind if {
	ra := object.union(_pa("payments", "default", _mode("PERMISSIVE")), {"kind": "RequestAuthentication"})
	_passes with input as ra
}

test_allow_wrong_group if {
	old := object.union(_pa("istio-system", "default", {}), {"apiVersion": "authentication.istio.io/v1alpha1"})
	_passes with input as old
}

test_deny_permissive_admission_review if {
	mtls_001.deny == {_permissive_payments} with input as _review(_pa("payments", "default", _mode("PERMISSIVE")))
	count(mtls_001.warn) == 0 with input as _review(_pa("payments", "default", _mode("PERMISSIVE")))
}

test_warn_unset_admission_review if {
	obj := _pa("payments", "default", {})
	bare := mtls_001.warn with input as obj
	reviewed := mtls_001.warn with input as _review(obj)
	count(bare) == 1
	reviewed == bare
}

# The engine has already matched the kind (data.meshguard.engine.indexed).
test_deny_permissive_engine_indexed if {
	mtls_001.deny == {_permissive_payments} with input as _pa("payments", "default", _mode("PERMISSIVE"))
		with data.meshguard.engine.indexed as true
}

# --- mutation ----------------------------------------------------------------

_strict_mode := {{"path": ["spec", "mtls", "mode"], "value": "STRICT"}}

test_mutate_sets_strict_on_namespace_policy_without_mode if {
	mtls_001.mutate == _strict_mode with input as _review(_pa("payments", "default", {}))
	mtls_001.mutate == _strict_mode with input as _pa("istio-system", "default", {"mtls": {}})
	mtls_001.mutate == _strict_mode with input as _pa("payments", "default", {"mtls": null})
	mtls_001.mutate == _strict_mode with input as json.remove(_pa("payments", "default", {}), ["spec"])
}

# An empty selector selects the whole namespace (RULES.md violating example
# inventory/default in the fixtures).
test_mutate_sets_strict_with_empty_selector if {
	mtls_001.mutate == _strict_mode with input as _pa("payments", "default", {"selector": {"matchLabels": {}}})
}

test_mutate_keeps_explicit_modes_and_workload_policies if {
	every mode in ["UNSET", "PERMISSIVE", "DISABLE", "STRICT"] {
		mtls_001.mutate == set() with input as _pa("payments", "default", _mode(mode))
	}
	mtls_001.mutate == set() with input as _pa("payments", "ledger", _workload({}))
	mtls_001.mutate == set() with input as _pa("payments", "ledger", _workload({"mtls": {}}))
}

test_mutate_nothing_for_other_kinds if {
	mtls_001.mutate == set() with input as object.union(_pa("payments", "default", {}), {"kind": "RequestAuthentication"})
	mtls_001.mutate == set() with input as object.union(_pa("payments", "default", {}), {"apiVersion": "networking.istio.io/v1"})
}

# With the mode the mutation adds, the mesh-wide policy passes.
test_mutate_result_passes if {
	pa := _pa("istio-system", "default", {})
	mtls_001.deny == {_mesh_wide_unset} with input as pa
	some m in mtls_001.mutate with input as pa
	_passes with input as json.patch(pa, [{"op": "add", "path": "/spec/mtls", "value": {"mode": m.value}}])
}
