package meshguard.istio.mtls_002_test

import data.meshguard.istio.mtls_002

# --- helpers -----------------------------------------------------------------

_pa(api_version, ports) := {
	"apiVersion": api_version,
	"kind": "PeerAuthentication",
	"metadata": {"name": "finance", "namespace": "foo"},
	"spec": object.union(
		{
			"selector": {"matchLabels": {"app": "finance"}},
			"mtls": {"mode": "STRICT"},
		},
		_port_level(ports),
	),
}

_port_level(ports) := {} if count(ports) == 0

_port_level(ports) := {"portLevelMtls": ports} if count(ports) > 0

_review(obj) := {
	"apiVersion": "admission.k8s.io/v1",
	"kind": "AdmissionReview",
	"request": {"operation": "CREATE", "object": obj},
}

_f(port, mode) := {
	"msg": sprintf("ISTIO-MTLS-002: PeerAuthentication foo/finance sets port %s to mtls mode %s, which accepts plaintext on that port", [port, mode]),
	"id": "ISTIO-MTLS-002",
	"severity": "high",
	"path": ["spec", "portLevelMtls", port, "mode"],
}

# The package has no warn rule: no warnings means the document is undefined.
_passes if {
	count(mtls_002.deny) == 0
	not mtls_002.warn
}

# --- tests -------------------------------------------------------------------

# RULES.md violating example.
test_deny_port_level_disable if {
	mtls_002.deny == {_f("8080", "DISABLE")} with input as _pa("security.istio.io/v1", {"8080": {"mode": "DISABLE"}})
	not mtls_002.warn with input as _pa("security.istio.io/v1", {"8080": {"mode": "DISABLE"}})
}

test_deny_port_level_permissive if {
	mtls_002.deny == {_f("9090", "PERMISSIVE")} with input as _pa("security.istio.io/v1beta1", {"9090": {"mode": "PERMISSIVE"}})
}

test_deny_each_weak_port if {
	ports := {
		"8080": {"mode": "DISABLE"},
		"9090": {"mode": "PERMISSIVE"},
		"9443": {"mode": "STRICT"},
		"15090": {"mode": "UNSET"},
	}
	mtls_002.deny == {_f("8080", "DISABLE"), _f("9090", "PERMISSIVE")} with input as _pa("security.istio.io/v1", ports)
}

# The workload-wide mode is ISTIO-MTLS-001's business; only ports count here.
test_deny_port_level_disable_under_permissive_workload if {
	obj := json.patch(_pa("security.istio.io/v1", {"8080": {"mode": "DISABLE"}}), [{"op": "replace", "path": "/spec/mtls/mode", "value": "PERMISSIVE"}])
	mtls_002.deny == {_f("8080", "DISABLE")} with input as obj
}

# RULES.md compliant example.
test_allow_no_port_level_mtls if {
	_passes with input as _pa("security.istio.io/v1", {})
}

test_allow_port_level_strict if {
	_passes with input as _pa("security.istio.io/v1beta1", {"8080": {"mode": "STRICT"}})
}

test_allow_port_level_unset if {
	_passes with input as _pa("security.istio.io/v1", {"8080": {"mode": "UNSET"}, "8081": {}})
}

test_allow_wrong_kind if {
	dr := object.union(_pa("security.istio.io/v1", {"8080": {"mode": "DISABLE"}}), {"kind": "DestinationRule"})
	_passes with input as dr
}

test_allow_wrong_group if {
	_passes with input as _pa("networking.istio.io/v1", {"8080": {"mode": "DISABLE"}})
}

test_deny_port_level_disable_admission_review if {
	obj := _pa("security.istio.io/v1", {"8080": {"mode": "DISABLE"}})
	bare := mtls_002.deny with input as obj
	reviewed := mtls_002.deny with input as _review(obj)
	bare == {_f("8080", "DISABLE")}
	reviewed == bare
}

test_deny_port_level_disable_engine_indexed if {
	mtls_002.deny == {_f("8080", "DISABLE")} with input as _pa("security.istio.io/v1", {"8080": {"mode": "DISABLE"}})
		with data.meshguard.engine.indexed as true
}
