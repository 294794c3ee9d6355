package meshguard.istio.tls_002_test

import data.meshguard.istio.tls_002

_dr(host, spec) := {
	"apiVersion": "networking.istio.io/v1",
	"kind": "DestinationRule",
	"metadata": {"name": "api", "namespace": "shop"},
	"spec": object.union({"host": host}, spec),
}

_f(msg, path) := {"id": "ISTIO-TLS-002", "severity": "high", "msg": msg, "path": path}

_skip(host, path) := _f(
	sprintf("ISTIO-TLS-002: DestinationRule shop/api sets tls.insecureSkipVerify for host %s, so the server certificate is not verified; remove it and set subjectAltNames", [host]),
	path,
)

_non_istio(mode, host, path) := _f(
	sprintf("ISTIO-TLS-002: DestinationRule shop/api uses tls.mode %s to in-mesh host %s, which replaces Istio mTLS: the server sees no workload identity; use ISTIO_MUTUAL or drop the tls block", [mode, host]),
	path,
)

# RULES.md violating example (external host: only the skip is flagged).
test_deny_insecure_skip_verify if {
	tls_002.deny == {_skip("api.payments.example.com", ["spec", "trafficPolicy", "tls", "insecureSkipVerify"])} with input as _dr("api.payments.example.com", {"trafficPolicy": {"tls": {"mode": "SIMPLE", "insecureSkipVerify": true}}})
}

test_deny_insecure_skip_verify_in_subset_port if {
	spec := {"subsets": [{"name": "v1", "trafficPolicy": {"portLevelSettings": [{"port": {"number": 443}, "tls": {"mode": "SIMPLE", "insecureSkipVerify": true}}]}}]}
	tls_002.deny == {_skip("api.example.com", ["spec", "subsets", 0, "trafficPolicy", "portLevelSettings", 0, "tls", "insecureSkipVerify"])} with input as _dr("api.example.com", spec)
}

test_deny_simple_and_mutual_to_in_mesh_hosts if {
	tls_002.deny == {_non_istio("SIMPLE", "reviews.bookinfo.svc.cluster.local", ["spec", "trafficPolicy", "tls", "mode"])} with input as _dr("reviews.bookinfo.svc.cluster.local", {"trafficPolicy": {"tls": {"mode": "SIMPLE"}}})
	spec := {"trafficPolicy": {"portLevelSettings": [{"port": {"number": 9080}, "tls": {"mode": "MUTUAL", "credentialName": "c"}}]}}
	tls_002.deny == {_non_istio("MUTUAL", "reviews", ["spec", "trafficPolicy", "portLevelSettings", 0, "tls", "mode"])} with input as _dr("reviews", spec)
}

test_deny_both_conditions if {
	tls_002.deny == {
		_non_istio("SIMPLE", "reviews.bookinfo", ["spec", "trafficPolicy", "tls", "mode"]),
		_skip("reviews.bookinfo", ["spec", "trafficPolicy", "tls", "insecureSkipVerify"]),
	} with input as _dr("reviews.bookinfo", {"trafficPolicy": {"tls": {"mode": "SIMPLE", "insecureSkipVerify": true}}})
}

# RULES.md compliant example, and Istio mTLS to in-mesh hosts.
test_pass_verified_tls_and_istio_mutual if {
	count(tls_002.deny) == 0 with input as _dr("api.payments.example.com", {"trafficPolicy": {"tls": {"mode": "SIMPLE", "sni": "api.payments.example.com", "subjectAltNames": ["api.payments.example.com"]}}})
	count(tls_002.deny) == 0 with input as _dr("api.payments.example.com", {"trafficPolicy": {"tls": {"mode": "MUTUAL", "insecureSkipVerify": false}}})
	count(tls_002.deny) == 0 with input as _dr("reviews.bookinfo.svc.cluster.local", {"trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}}})
	count(tls_002.deny) == 0 with input as _dr("reviews.bookinfo.svc.cluster.local", {})
}

# A host of a MESH_INTERNAL ServiceEntry is in the mesh, though it names no namespace.
test_deny_mutual_to_mesh_internal_service_entry_host if {
	inv := {"objects": {"ServiceEntry.networking.istio.io": {"data": {"ledger": {"spec": {"hosts": ["ledger.data.internal"], "location": "MESH_INTERNAL"}}}}}}
	tls_002.deny == {_non_istio("MUTUAL", "ledger.data.internal", ["spec", "trafficPolicy", "tls", "mode"])} with input as _dr("ledger.data.internal", {"trafficPolicy": {"tls": {"mode": "MUTUAL"}}})
		with data.inventory as inv
	count(tls_002.deny) == 0 with input as _dr("ledger.data.internal", {"trafficPolicy": {"tls": {"mode": "MUTUAL"}}})
}

# istiod and the gateways in the root namespace terminate TLS themselves.
test_pass_simple_to_the_control_plane if {
	spec := {"trafficPolicy": {"portLevelSettings": [{"port": {"number": 15012}, "tls": {"mode": "SIMPLE"}}]}}
	count(tls_002.deny) == 0 with input as _dr("istiod.istio-system.svc.cluster.local", spec)
	count(tls_002.deny) == 1 with input as _dr("istiod.istio-system.svc.cluster.local", spec) with data.meshguard.config as {"istio": {"rootNamespace": "mesh-root"}}
	count(tls_002.deny) == 1 with input as _dr("istiod.istio-system.svc.cluster.local", {"trafficPolicy": {"tls": {"mode": "SIMPLE", "insecureSkipVerify": true}}})
}

test_pass_other_kinds if {
	count(tls_002.deny) == 0 with input as object.union(_dr("reviews", {"trafficPolicy": {"tls": {"mode": "SIMPLE"}}}), {"kind": "VirtualService"})
}

# The engine has already matched the kind (data.meshguard.engine.indexed).
test_deny_engine_indexed if {
	count(tls_002.deny) == 1 with input as _dr("reviews", {"trafficPolicy": {"tls": {"mode": "SIMPLE"}}}) with data.meshguard.engine.indexed as true
}

# Every place a tls block can be: the subset's own traffic policy too.
test_deny_in_subset_policy if {
	spec := {"subsets": [
		{"name": "v1"},
		{"name": "v2", "trafficPolicy": {"tls": {"mode": "MUTUAL", "insecureSkipVerify": true}}},
	]}
	tls_002.deny == {
		_non_istio("MUTUAL", "reviews", ["spec", "subsets", 1, "trafficPolicy", "tls", "mode"]),
		_skip("reviews", ["spec", "subsets", 1, "trafficPolicy", "tls", "insecureSkipVerify"]),
	} with input as _dr("reviews", spec)
}
