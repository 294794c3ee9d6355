package meshguard.istio.egress_003_test

import data.meshguard.istio.egress_003

_sidecar(api_version, spec) := {
	"apiVersion": api_version,
	"kind": "Sidecar",
	"metadata": {"name": "default", "namespace": "shop"},
	"spec": spec,
}

_cm(name, namespace, values) := {
	"apiVersion": "v1",
	"kind": "ConfigMap",
	"metadata": {"name": name, "namespace": namespace},
	"data": values,
}

_operator(spec) := {
	"apiVersion": "install.istio.io/v1alpha1",
	"kind": "IstioOperator",
	"metadata": {"name": "control-plane", "namespace": "istio-system"},
	"spec": spec,
}

_f(msg, path) := {"msg": sprintf("ISTIO-EGRESS-003: %s", [msg]), "id": "ISTIO-EGRESS-003", "severity": "medium", "path": path}

_unset(ref) := sprintf("%s sets no outboundTrafficPolicy.mode, so the mesh default ALLOW_ANY forwards traffic to undeclared destinations; set REGISTRY_ONLY", [ref])

_allow_any(ref, mode) := sprintf("%s sets outboundTrafficPolicy.mode %s, which forwards traffic to undeclared destinations; set REGISTRY_ONLY", [ref, mode])

# --- Sidecar -----------------------------------------------------------------

# RULES.md violating example, in every served version.
test_deny_sidecar_allow_any if {
	every v in ["networking.istio.io/v1alpha3", "networking.istio.io/v1beta1", "networking.istio.io/v1"] {
		egress_003.deny == {_f(
			"Sidecar shop/default sets outboundTrafficPolicy.mode ALLOW_ANY, which forwards traffic to undeclared destinations; use REGISTRY_ONLY",
			["spec", "outboundTrafficPolicy", "mode"],
		)} with input as _sidecar(v, {"outboundTrafficPolicy": {"mode": "ALLOW_ANY"}})
	}
	egress_003.warn == set() with input as _sidecar("networking.istio.io/v1", {"outboundTrafficPolicy": {"mode": "ALLOW_ANY"}})
}

# RULES.md compliant example; a Sidecar without the field follows the mesh
# config, which is judged on its own.
test_allow_sidecar_registry_only_or_unset if {
	egress_003.deny == set() with input as _sidecar("networking.istio.io/v1", {"outboundTrafficPolicy": {"mode": "REGISTRY_ONLY"}, "egress": [{"hosts": ["./*"]}]})
	egress_003.deny == set() with input as _sidecar("networking.istio.io/v1", {"egress": [{"hosts": ["./*"]}]})
	egress_003.warn == set() with input as _sidecar("networking.istio.io/v1", {"egress": [{"hosts": ["./*"]}]})
}

# --- mesh config ConfigMap ---------------------------------------------------

test_warn_configmap_without_mode if {
	egress_003.warn == {_f(_unset("ConfigMap istio-system/istio data.mesh"), ["data", "mesh"])} with input as _cm("istio", "istio-system", {"mesh": "defaultConfig:\n  discoveryAddress: istiod.istio-system.svc:15012\n"})
	egress_003.warn == {_f(_unset("ConfigMap istio-system/istio-1-28 data.mesh"), ["data", "mesh"])} with input as _cm("istio-1-28", "istio-system", {"mesh": ""})
	egress_003.warn == {_f(_unset("ConfigMap istio-system/istio data.mesh"), ["data", "mesh"])} with input as _cm("istio", "istio-system", {"mesh": "outboundTrafficPolicy: {}\n"})
	egress_003.deny == set() with input as _cm("istio", "istio-system", {"mesh": ""})
}

test_warn_configmap_allow_any_modes if {
	every mode in ["ALLOW_ANY", "ALLOW_ANY_DYNAMIC_DNS"] {
		egress_003.warn == {_f(_allow_any("ConfigMap istio-system/istio data.mesh", mode), ["data", "mesh"])} with input as _cm("istio", "istio-system", {"mesh": sprintf("outboundTrafficPolicy:\n  mode: %s\n", [mode])})
	}
}

test_warn_configmap_unreadable_mesh if {
	msg := "ConfigMap istio-system/istio: data.mesh is not a YAML mapping, so its outboundTrafficPolicy cannot be checked"
	egress_003.warn == {_f(msg, ["data", "mesh"])} with input as _cm("istio", "istio-system", {"mesh": "outboundTrafficPolicy: [unclosed"})
	egress_003.warn == {_f(msg, ["data", "mesh"])} with input as _cm("istio", "istio-system", {"mesh": "- a list\n"})
}

test_allow_configmap_registry_only if {
	egress_003.warn == set() with input as _cm("istio", "istio-system", {"mesh": "outboundTrafficPolicy:\n  mode: REGISTRY_ONLY\n"})
	egress_003.warn == set() with input as _cm("istio", "istio-system", {"mesh": "{\"outboundTrafficPolicy\": {\"mode\": \"REGISTRY_ONLY\"}}"})
}

# Only the mesh config: other namespaces, other names, no mesh key.
test_other_configmaps_are_not_judged if {
	egress_003.warn == set() with input as _cm("istio", "shop", {"mesh": ""})
	egress_003.warn == set() with input as _cm("istio-sidecar-injector", "istio-system", {"config": "policy: enabled"})
	egress_003.warn == set() with input as _cm("istiod", "istio-system", {"mesh": ""})
	egress_003.warn == set() with input as _cm("istio", "istio-system", {"meshNetworks": "networks: {}"})
	egress_003.warn == set() with input as _cm("istio", "istio-system", {"mesh": ""}) with data.meshguard.config as {"istio": {"rootNamespace": "mesh-root"}}
	egress_003.warn == {_f(_unset("ConfigMap mesh-root/istio data.mesh"), ["data", "mesh"])} with input as _cm("istio", "mesh-root", {"mesh": ""}) with data.meshguard.config as {"istio": {"rootNamespace": "mesh-root"}}
}

# --- IstioOperator -----------------------------------------------------------

test_warn_operator_without_mode_points_at_the_deepest_field if {
	ref := "IstioOperator istio-system/control-plane"
	egress_003.warn == {_f(_unset(ref), ["spec"])} with input as _operator({"profile": "default"})
	egress_003.warn == {_f(_unset(ref), ["spec", "meshConfig"])} with input as _operator({"meshConfig": {"accessLogFile": "/dev/stdout"}})
	egress_003.warn == {_f(_unset(ref), ["spec", "meshConfig", "outboundTrafficPolicy"])} with input as _operator({"meshConfig": {"outboundTrafficPolicy": {"x": 1}}})
	no_ns := json.remove(_operator({}), ["metadata/namespace"])
	egress_003.warn == {_f(_unset("IstioOperator control-plane"), ["spec"])} with input as no_ns
}

test_warn_operator_allow_any if {
	egress_003.warn == {_f(_allow_any("IstioOperator istio-system/control-plane", "ALLOW_ANY"), ["spec", "meshConfig", "outboundTrafficPolicy", "mode"])} with input as _operator({"meshConfig": {"outboundTrafficPolicy": {"mode": "ALLOW_ANY"}}})
}

test_allow_operator_registry_only if {
	egress_003.warn == set() with input as _operator({"meshConfig": {"outboundTrafficPolicy": {"mode": "REGISTRY_ONLY"}}})
	egress_003.deny == set() with input as _operator({"meshConfig": {"outboundTrafficPolicy": {"mode": "ALLOW_ANY"}}})
}

test_other_kinds_are_not_judged if {
	other := object.union(_sidecar("networking.istio.io/v1", {"outboundTrafficPolicy": {"mode": "ALLOW_ANY"}}), {"kind": "Gateway"})
	egress_003.deny == set() with input as other
	egress_003.warn == set() with input as object.union(_cm("istio", "istio-system", {"mesh": ""}), {"apiVersion": "example.com/v1"})
}

# The engine has already matched the kind (kube.indexed).
test_warn_when_indexed_by_the_engine if {
	egress_003.warn == {_f(_unset("ConfigMap istio-system/istio data.mesh"), ["data", "mesh"])} with input as _cm("istio", "istio-system", {"mesh": ""})
		with data.meshguard.engine.indexed as true
}
