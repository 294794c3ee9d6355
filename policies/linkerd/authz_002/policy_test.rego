package meshguard.linkerd.authz_002_test

import data.meshguard.linkerd.authz_002

_server(spec) := {
	"apiVersion": "policy.linkerd.io/v1beta3",
	"kind": "Server",
	"metadata": {"name": "web-http", "namespace": "emojivoto"},
	"spec": object.union({"podSelector": {"matchLabels": {"app": "web-svc"}}, "port": "http"}, spec),
}

_f(severity, msg) := {
	"msg": sprintf("LINKERD-AUTHZ-002: Server emojivoto/web-http sets accessPolicy %s; use deny and authorize clients with an AuthorizationPolicy", [msg]),
	"id": "LINKERD-AUTHZ-002",
	"severity": severity,
	"path": ["spec", "accessPolicy"],
}

test_deny_unauthenticated_access_policies if {
	authz_002.deny == {_f("high", "all-unauthenticated, which admits any client, meshed or not")} with input as _server({"accessPolicy": "all-unauthenticated"})
	authz_002.deny == {_f("high", "cluster-unauthenticated, which admits any client in the cluster networks, meshed or not")} with input as _server({"accessPolicy": "cluster-unauthenticated"})
	authz_002.warn == set() with input as _server({"accessPolicy": "all-unauthenticated"})
}

test_warn_audit_and_all_authenticated if {
	authz_002.warn == {_f("medium", "audit, which allows every request and only logs the ones it would deny")} with input as _server({"accessPolicy": "audit"})
	authz_002.warn == {_f("medium", "all-authenticated, which admits any meshed identity, from other clusters too")} with input as _server({"accessPolicy": "all-authenticated"})
	authz_002.deny == set() with input as _server({"accessPolicy": "audit"})
}

test_allow_deny_and_absent if {
	authz_002.deny == set() with input as _server({"accessPolicy": "deny"})
	authz_002.warn == set() with input as _server({"accessPolicy": "deny"})
	authz_002.deny == set() with input as _server({})
	authz_002.warn == set() with input as _server({})
	authz_002.warn == set() with input as _server({"accessPolicy": "cluster-authenticated"})
}

test_other_kinds_are_not_judged if {
	authz_002.deny == set() with input as object.union(_server({"accessPolicy": "all-unauthenticated"}), {"kind": "EgressNetwork"})
}
