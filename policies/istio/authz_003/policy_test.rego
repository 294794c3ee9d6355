package meshguard.istio.authz_003_test

import data.meshguard.istio.authz_003

# --- helpers -----------------------------------------------------------------

_ap(api_version, spec) := {
	"apiVersion": api_version,
	"kind": "AuthorizationPolicy",
	"metadata": {"name": "ledger", "namespace": "foo"},
	"spec": spec,
}

# A v1 policy on the ledger workload with one rule and one source.
_source(src) := _ap("security.istio.io/v1", {
	"selector": {"matchLabels": {"app": "ledger"}},
	"rules": [{"from": [{"source": src}]}],
})

_review(obj) := {
	"apiVersion": "admission.k8s.io/v1",
	"kind": "AdmissionReview",
	"request": {"operation": "CREATE", "object": obj},
}

_src_path(i, j) := ["spec", "rules", i, "from", j, "source"]

_wide(field, value, path) := {
	"msg": sprintf("ISTIO-AUTHZ-003: AuthorizationPolicy foo/ledger allows %s %q, which matches callers across namespaces or trust domains", [field, value]),
	"id": "ISTIO-AUTHZ-003",
	"severity": "medium",
	"path": path,
}

_any_address(field, value, path) := {
	"msg": sprintf("ISTIO-AUTHZ-003: AuthorizationPolicy foo/ledger allows %s %s, which is every address", [field, value]),
	"id": "ISTIO-AUTHZ-003",
	"severity": "high",
	"path": path,
}

_negative(path) := {
	"msg": "ISTIO-AUTHZ-003: AuthorizationPolicy foo/ledger has an ALLOW source with only negative matches, which allows every other caller",
	"id": "ISTIO-AUTHZ-003",
	"severity": "medium",
	"path": path,
}

_passes if {
	count(authz_003.deny) == 0
	count(authz_003.warn) == 0
}

# --- (a) wildcard principals and namespaces (warn) ---------------------------

# RULES.md violating example.
test_warn_wildcard_namespace if {
	ap := _source({"namespaces": ["*"]})
	authz_003.warn == {_wide("namespaces", "*", ["spec", "rules", 0, "from", 0, "source", "namespaces", 0])} with input as ap
	count(authz_003.deny) == 0 with input as ap
}

test_warn_namespace_pattern if {
	ap := _ap("security.istio.io/v1beta1", {"rules": [{"from": [{"source": {"namespaces": ["billing", "*-prod"]}}]}]})
	authz_003.warn == {_wide("namespaces", "*-prod", ["spec", "rules", 0, "from", 0, "source", "namespaces", 1])} with input as ap
	count(authz_003.deny) == 0 with input as ap
}

test_warn_wildcard_principals if {
	principals := ["*", "cluster.local/*", "*/ns/foo/sa/sleep", "cluster.local/ns/*/sa/sleep", "*-prod"]
	p := array.concat(_src_path(0, 0), ["principals"])
	authz_003.warn == {
		_wide("principals", "*", array.concat(p, [0])),
		_wide("principals", "cluster.local/*", array.concat(p, [1])),
		_wide("principals", "*/ns/foo/sa/sleep", array.concat(p, [2])),
		_wide("principals", "cluster.local/ns/*/sa/sleep", array.concat(p, [3])),
		_wide("principals", "*-prod", array.concat(p, [4])),
	} with input as _source({"principals": principals})
	count(authz_003.deny) == 0 with input as _source({"principals": principals})
}

# A pattern that fixes the trust domain and the namespace stays in one namespace.
test_allow_principal_pattern_within_namespace if {
	_passes with input as _source({"principals": ["cluster.local/ns/foo/sa/*"]})
}

# RULES.md compliant example.
test_allow_exact_principal if {
	_passes with input as _source({"principals": ["cluster.local/ns/billing/sa/invoicer"]})
}

test_allow_named_namespaces if {
	_passes with input as _ap("security.istio.io/v1beta1", {"rules": [{"from": [{"source": {"namespaces": ["billing", "payments"]}}]}]})
}

# `requestPrincipals: ["*"]` is "require a valid JWT".
test_allow_any_request_principal if {
	_passes with input as _source({"requestPrincipals": ["*"]})
}

# --- (b) internet-wide address blocks (deny) ---------------------------------

test_deny_ip_blocks_any_ipv4 if {
	ap := _source({"ipBlocks": ["10.0.0.0/8", "0.0.0.0/0"]})
	authz_003.deny == {_any_address("ipBlocks", "0.0.0.0/0", array.concat(_src_path(0, 0), ["ipBlocks", 1]))} with input as ap
	count(authz_003.warn) == 0 with input as ap
}

test_deny_remote_ip_blocks_any_ipv6 if {
	ap := _ap("security.istio.io/v1beta1", {"rules": [{"from": [{"source": {"remoteIpBlocks": ["::/0"]}}]}]})
	authz_003.deny == {_any_address("remoteIpBlocks", "::/0", array.concat(_src_path(0, 0), ["remoteIpBlocks", 0]))} with input as ap
	count(authz_003.warn) == 0 with input as ap
}

# Regression (fixed; the test keeps it fixed): only the literal strings "0.0.0.0/0" and "::/0" are caught. Any prefix of
# length 0 is every address (istiod validates with netip.ParsePrefix, which
# accepts unmasked "10.0.0.0/0", and "::0/0" is ::/0 spelled differently; Envoy
# matches all addresses for prefix_len 0), so these admit the whole internet
# and pass today.
test_deny_any_zero_length_prefix if {
	ap := _source({"ipBlocks": ["10.0.0.0/0"], "remoteIpBlocks": ["::0/0"]})
	authz_003.deny == {
		_any_address("ipBlocks", "10.0.0.0/0", array.concat(_src_path(0, 0), ["ipBlocks", 0])),
		_any_address("remoteIpBlocks", "::0/0", array.concat(_src_path(0, 0), ["remoteIpBlocks", 0])),
	} with input as ap
}

test_allow_concrete_ip_blocks if {
	_passes with input as _source({"ipBlocks": ["10.0.0.0/8"], "remoteIpBlocks": ["203.0.113.0/24", "2001:db8::/32"]})
}

# --- (c) negative-only sources (warn) ----------------------------------------

test_warn_negative_only_source if {
	ap := _source({"notPrincipals": ["cluster.local/ns/foo/sa/untrusted"]})
	authz_003.warn == {_negative(_src_path(0, 0))} with input as ap
	count(authz_003.deny) == 0 with input as ap
}

test_warn_several_negative_fields_once if {
	ap := _source({"notNamespaces": ["sandbox"], "notIpBlocks": ["192.0.2.0/24"], "notRequestPrincipals": ["*"]})
	authz_003.warn == {_negative(_src_path(0, 0))} with input as ap
}

test_allow_negative_with_positive_match if {
	_passes with input as _source({"namespaces": ["billing"], "notPrincipals": ["cluster.local/ns/billing/sa/batch"]})
}

test_allow_empty_source if {
	_passes with input as _source({})
}

# --- combinations, indices, actions ------------------------------------------

test_deny_and_warn_in_every_rule_and_source if {
	ap := _ap("security.istio.io/v1", {"rules": [
		{"to": [{"operation": {"methods": ["GET"]}}]},
		{"from": [
			{"source": {"principals": ["cluster.local/ns/foo/sa/a"]}},
			{"source": {"namespaces": ["*"], "ipBlocks": ["0.0.0.0/0"]}},
		]},
		{"from": [{"source": {"notNamespaces": ["sandbox"]}}]},
	]})
	authz_003.warn == {
		_wide("namespaces", "*", array.concat(_src_path(1, 1), ["namespaces", 0])),
		_negative(_src_path(2, 0)),
	} with input as ap
	authz_003.deny == {_any_address("ipBlocks", "0.0.0.0/0", array.concat(_src_path(1, 1), ["ipBlocks", 0]))} with input as ap
}

test_warn_explicit_allow_action if {
	ap := _ap("security.istio.io/v1", {"action": "ALLOW", "rules": [{"from": [{"source": {"namespaces": ["*"]}}]}]})
	authz_003.warn == {_wide("namespaces", "*", array.concat(_src_path(0, 0), ["namespaces", 0]))} with input as ap
	count(authz_003.deny) == 0 with input as ap
}

# Wildcards in DENY (or AUDIT) policies narrow nothing down: they are fine.
test_allow_wildcards_in_deny_policy if {
	src := {"namespaces": ["*"], "ipBlocks": ["0.0.0.0/0"], "notPrincipals": ["x"]}
	_passes with input as _ap("security.istio.io/v1", {"action": "DENY", "rules": [{"from": [{"source": src}]}]})
	_passes with input as _ap("security.istio.io/v1", {"action": "AUDIT", "rules": [{"from": [{"source": src}]}]})
}

test_allow_allow_nothing_policy if {
	_passes with input as _ap("security.istio.io/v1", {})
}

# --- kind guard and front doors ----------------------------------------------

test_allow_wrong_kind if {
	_passes with input as object.union(_source({"namespaces": ["*"], "ipBlocks": ["0.0.0.0/0"]}), {"kind": "Sidecar"})
}

test_allow_wrong_group if {
	_passes with input as object.union(_source({"namespaces": ["*"]}), {"apiVersion": "policy.linkerd.io/v1alpha1"})
}

test_deny_and_warn_admission_review if {
	ap := _source({"namespaces": ["*"], "ipBlocks": ["0.0.0.0/0"]})
	bare_deny := authz_003.deny with input as ap
	bare_warn := authz_003.warn with input as ap
	bare_deny == {_any_address("ipBlocks", "0.0.0.0/0", array.concat(_src_path(0, 0), ["ipBlocks", 0]))}
	bare_warn == {_wide("namespaces", "*", array.concat(_src_path(0, 0), ["namespaces", 0]))}
	authz_003.deny == bare_deny with input as _review(ap)
	authz_003.warn == bare_warn with input as _review(ap)
}

test_warn_wildcard_namespace_engine_indexed if {
	authz_003.warn == {_wide("namespaces", "*", array.concat(_src_path(0, 0), ["namespaces", 0]))} with input as _source({"namespaces": ["*"]})
		with data.meshguard.engine.indexed as true
}
