package meshguard.istio.ext_002_test

import data.meshguard.istio.ext_002

_digest := "4f2c0f1e8b4c5e9d7a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f"

_wasm(spec) := {
	"apiVersion": "extensions.istio.io/v1alpha1",
	"kind": "WasmPlugin",
	"metadata": {"name": "authz-plugin", "namespace": "shop"},
	"spec": object.union({"selector": {"matchLabels": {"app": "shop"}}}, spec),
}

_f(msg, path) := {"msg": sprintf("ISTIO-EXT-002: WasmPlugin shop/authz-plugin %s", [msg]), "id": "ISTIO-EXT-002", "severity": "high", "path": path}

_plain_http(url) := _f(sprintf("fetches its module over plain http (%s), so anyone on the path can replace the code; use oci:// or https://", [url]), ["spec", "url"])

_unpinned(path) := _f("does not pin its module: set sha256 or use a url with @sha256:, so the proxies run only the code you reviewed", path)

_fail_open(phase) := _f(sprintf("runs in phase %s with failStrategy FAIL_OPEN, so requests pass unchecked when the plugin fails; use FAIL_CLOSE", [phase]), ["spec", "failStrategy"])

# RULES.md violating example: all three at once.
test_deny_http_unpinned_fail_open_authz if {
	spec := {"url": "http://plugins.internal/authz.wasm", "phase": "AUTHZ", "failStrategy": "FAIL_OPEN"}
	ext_002.deny == {_plain_http("http://plugins.internal/authz.wasm"), _unpinned(["spec", "url"]), _fail_open("AUTHZ")} with input as _wasm(spec)
	not ext_002.warn with input as _wasm(spec)
}

test_deny_plain_http_even_when_pinned if {
	ext_002.deny == {_plain_http("HTTP://plugins.internal/x.wasm")} with input as _wasm({"url": "HTTP://plugins.internal/x.wasm", "sha256": _digest})
}

test_deny_unpinned if {
	ext_002.deny == {_unpinned(["spec", "url"])} with input as _wasm({"url": "oci://registry.example.com/wasm/authz:1.0"})
	ext_002.deny == {_unpinned(["spec", "url"])} with input as _wasm({"url": "file:///opt/filters/authz.wasm"})
	ext_002.deny == {_unpinned(["spec"])} with input as _wasm({})
}

test_deny_malformed_sha256 if {
	ext_002.deny == {_f("has sha256 abc123, which is not a SHA-256 digest (64 hex digits)", ["spec", "sha256"])} with input as _wasm({"url": "https://plugins.example.com/a.wasm", "sha256": "abc123"})
}

test_deny_fail_open_authn if {
	ext_002.deny == {_fail_open("AUTHN")} with input as _wasm({"url": "https://plugins.example.com/a.wasm", "sha256": _digest, "phase": "AUTHN", "failStrategy": "FAIL_OPEN"})
}

# RULES.md compliant example, a sha256 pin, and FAIL_OPEN where it is allowed.
test_allow_pinned_fail_closed if {
	ext_002.deny == set() with input as _wasm({"url": sprintf("oci://registry.example.com/wasm/authz@sha256:%s", [_digest]), "phase": "AUTHZ", "failStrategy": "FAIL_CLOSE"})
	ext_002.deny == set() with input as _wasm({"url": "https://plugins.example.com/a.wasm", "sha256": upper(_digest), "phase": "AUTHZ"})
	ext_002.deny == set() with input as _wasm({"url": "oci://registry.example.com/wasm/stats:1.0", "sha256": _digest, "phase": "STATS", "failStrategy": "FAIL_OPEN"})
}

test_other_kinds_are_not_judged if {
	ext_002.deny == set() with input as object.union(_wasm({"url": "http://x/y.wasm"}), {"kind": "EnvoyFilter"})
}

# The engine has already matched the kind (kube.indexed).
test_deny_when_indexed_by_the_engine if {
	ext_002.deny == {_unpinned(["spec"])} with input as _wasm({}) with data.meshguard.engine.indexed as true
}
