package meshguard.istio.egress_004_test

import data.meshguard.istio.egress_004

_sidecar(api_version, name, spec) := {
	"apiVersion": api_version,
	"kind": "Sidecar",
	"metadata": {"name": name, "namespace": "shop"},
	"spec": spec,
}

_scoped := {"egress": [{"hosts": ["./*", "istio-system/*"]}]}

_selected := object.union(_scoped, {"workloadSelector": {"labels": {"app": "api"}}})

_inventory(sidecars) := {"objects": {"Sidecar.networking.istio.io": {"shop": {name: s |
	some s in sidecars
	name := s.metadata.name
}}}}

_f(msg, path) := {"msg": sprintf("ISTIO-EGRESS-004: %s", [msg]), "id": "ISTIO-EGRESS-004", "severity": "low", "path": path}

_everything := "Sidecar shop/default lets its proxies reach every host of every namespace (egress hosts \"*/*\"); list the namespaces and hosts they use"

# --- */* ---------------------------------------------------------------------

# RULES.md violating example, in every served version.
test_warn_every_host_of_every_namespace if {
	every v in ["networking.istio.io/v1alpha3", "networking.istio.io/v1beta1", "networking.istio.io/v1"] {
		egress_004.warn == {_f(_everything, ["spec", "egress", 0, "hosts", 0])} with input as _sidecar(v, "default", {"egress": [{"hosts": ["*/*"]}]})
	}
	egress_004.deny == set() with input as _sidecar("networking.istio.io/v1", "default", {"egress": [{"hosts": ["*/*"]}]})
}

test_warn_each_listener if {
	spec := {"egress": [{"port": {"number": 9080, "protocol": "HTTP", "name": "http"}, "hosts": ["./*", "*/*"]}, {"hosts": ["*/*"]}]}
	egress_004.warn == {_f(_everything, ["spec", "egress", 0, "hosts", 1]), _f(_everything, ["spec", "egress", 1, "hosts", 0])} with input as _sidecar("networking.istio.io/v1", "default", spec)
}

# RULES.md compliant example: wildcards within a namespace are scoped.
test_allow_scoped_hosts if {
	spec := {"egress": [{"hosts": ["./*", "istio-system/*", "payments/api.payments.svc.cluster.local", "*/api.example.com"]}]}
	egress_004.warn == set() with input as _sidecar("networking.istio.io/v1", "default", spec)
}

# --- several namespace-wide Sidecars -----------------------------------------

test_deny_second_namespace_wide_sidecar if {
	mine := _sidecar("networking.istio.io/v1", "default", _scoped)
	other := _sidecar("networking.istio.io/v1", "legacy", {"workloadSelector": {"labels": {}}, "egress": [{"hosts": ["./*"]}]})
	egress_004.deny == {_f(
		"Sidecar shop/default has no workloadSelector and Sidecar legacy in the same namespace has none either; Istio's behaviour with several namespace-wide Sidecars is undefined, so keep one",
		["spec"],
	)} with input as mine with data.inventory as _inventory([mine, other])
	egress_004.deny == {_f(
		"Sidecar shop/legacy has no workloadSelector and Sidecar default in the same namespace has none either; Istio's behaviour with several namespace-wide Sidecars is undefined, so keep one",
		["spec", "workloadSelector"],
	)} with input as other with data.inventory as _inventory([mine, other])
}

test_deny_names_every_other_namespace_wide_sidecar if {
	mine := _sidecar("networking.istio.io/v1", "default", _scoped)
	others := [_sidecar("networking.istio.io/v1", "b", _scoped), _sidecar("networking.istio.io/v1", "a", _scoped), _sidecar("networking.istio.io/v1", "api", _selected)]
	egress_004.deny == {_f(
		"Sidecar shop/default has no workloadSelector and Sidecars a, b in the same namespace have none either; Istio's behaviour with several namespace-wide Sidecars is undefined, so keep one",
		["spec"],
	)} with input as mine with data.inventory as _inventory(array.concat([mine], others))
}

test_allow_one_namespace_wide_sidecar if {
	mine := _sidecar("networking.istio.io/v1", "default", _scoped)
	api := _sidecar("networking.istio.io/v1", "api", _selected)
	egress_004.deny == set() with input as mine with data.inventory as _inventory([mine, api])
	egress_004.deny == set() with input as api with data.inventory as _inventory([mine, api, _sidecar("networking.istio.io/v1", "other", _scoped)])
	egress_004.deny == set() with input as mine

	# another namespace's Sidecar does not count
	elsewhere := {"objects": {"Sidecar.networking.istio.io": {"payments": {"default": _sidecar("networking.istio.io/v1", "default", _scoped)}}}}
	egress_004.deny == set() with input as mine with data.inventory as elsewhere
}

# Without a known inventory (the webhook without a cluster) the rule is silent.
test_silent_without_inventory if {
	mine := _sidecar("networking.istio.io/v1", "default", _scoped)
	other := _sidecar("networking.istio.io/v1", "legacy", _scoped)
	egress_004.deny == set() with input as mine with data.inventory as _inventory([mine, other]) with data.meshguard.engine.inventory as false
}

test_other_kinds_are_not_judged if {
	other := object.union(_sidecar("networking.istio.io/v1", "default", {"egress": [{"hosts": ["*/*"]}]}), {"kind": "ServiceEntry"})
	egress_004.warn == set() with input as other
}

# The engine has already matched the kind (kube.indexed).
test_warn_when_indexed_by_the_engine if {
	egress_004.warn == {_f(_everything, ["spec", "egress", 0, "hosts", 0])} with input as _sidecar("networking.istio.io/v1", "default", {"egress": [{"hosts": ["*/*"]}]})
		with data.meshguard.engine.indexed as true
}
