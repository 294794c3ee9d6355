package meshguard.istio.authz_001_test

import data.meshguard.istio.authz_001

# --- helpers -----------------------------------------------------------------

_ap(api_version, ns, name, spec) := {
	"apiVersion": api_version,
	"kind": "AuthorizationPolicy",
	"metadata": {"name": name, "namespace": ns},
	"spec": spec,
}

_v1(ns, name, spec) := _ap("security.istio.io/v1", ns, name, spec)

_selector := {"selector": {"matchLabels": {"app": "httpbin"}}}

_from_sleep := {"from": [{"source": {"principals": ["cluster.local/ns/foo/sa/sleep"]}}]}

_review(obj) := {
	"apiVersion": "admission.k8s.io/v1",
	"kind": "AdmissionReview",
	"request": {"operation": "CREATE", "object": obj},
}

_f(ns, name, rule, severity) := {
	"msg": sprintf("ISTIO-AUTHZ-001: AuthorizationPolicy %s/%s has an empty ALLOW rule, which allows every request", [ns, name]),
	"id": "ISTIO-AUTHZ-001",
	"severity": severity,
	"path": ["spec", "rules", rule],
}

# The package has no warn rule: no warnings means the document is undefined.
_passes if {
	count(authz_001.deny) == 0
	not authz_001.warn
}

# --- deny: empty ALLOW rule --------------------------------------------------

# RULES.md violating example: namespace-wide, so critical.
test_deny_empty_rule_namespace_wide if {
	ap := _v1("foo", "allow-all", {"rules": [{}]})
	authz_001.deny == {_f("foo", "allow-all", 0, "critical")} with input as ap
	not authz_001.warn with input as ap
}

test_deny_empty_rule_explicit_allow_v1beta1 if {
	ap := _ap("security.istio.io/v1beta1", "foo", "allow-all", {"action": "ALLOW", "rules": [{}]})
	authz_001.deny == {_f("foo", "allow-all", 0, "critical")} with input as ap
}

test_deny_empty_rule_mesh_wide_is_critical if {
	ap := _v1("istio-system", "allow-all", {"rules": [{}]})
	authz_001.deny == {_f("istio-system", "allow-all", 0, "critical")} with input as ap
}

test_deny_empty_rule_workload_selector_is_high if {
	ap := _v1("foo", "httpbin", object.union(_selector, {"rules": [{}]}))
	authz_001.deny == {_f("foo", "httpbin", 0, "high")} with input as ap
}

test_deny_empty_rule_target_refs_is_high if {
	ap := _v1("foo", "httpbin", {"targetRefs": [{"kind": "Service", "group": "", "name": "httpbin"}], "rules": [{}]})
	authz_001.deny == {_f("foo", "httpbin", 0, "high")} with input as ap
}

test_deny_empty_rule_target_ref_is_high if {
	ap := _ap("security.istio.io/v1beta1", "foo", "httpbin", {"targetRef": {"kind": "Service", "group": "", "name": "httpbin"}, "rules": [{}]})
	authz_001.deny == {_f("foo", "httpbin", 0, "high")} with input as ap
}

# A workload policy in the root namespace applies mesh-wide: still critical.
test_deny_empty_rule_root_namespace_selector_is_critical if {
	ap := _v1("istio-system", "ingress", object.union(_selector, {"rules": [{}]}))
	authz_001.deny == {_f("istio-system", "ingress", 0, "critical")} with input as ap
}

test_deny_each_empty_rule if {
	ap := _v1("foo", "mixed", {"rules": [_from_sleep, {}, {"to": [{"operation": {"methods": ["GET"]}}]}, {}]})
	authz_001.deny == {_f("foo", "mixed", 1, "critical"), _f("foo", "mixed", 3, "critical")} with input as ap
}

# An unknown field in a rule does not constrain anything.
test_deny_rule_with_only_unknown_fields if {
	ap := _v1("foo", "allow-all", {"rules": [{"comment": "allow everything"}]})
	authz_001.deny == {_f("foo", "allow-all", 0, "critical")} with input as ap
}

# Regression (fixed; the test keeps it fixed): `when: []` is an empty rule for Istio (protobuf: an empty list is unset,
# and istiod's validation rejects empty `from`/`to` but accepts an empty `when`),
# so it is the allow-all of RULES.md. The rule does not report it because
# `not rule.when` is false for []; ISTIO-AUTHZ-002 reports it instead, as high.
test_deny_empty_when_list if {
	ap := _v1("foo", "allow-all", {"rules": [{"when": []}]})
	authz_001.deny == {_f("foo", "allow-all", 0, "critical")} with input as ap
}

# --- allow -------------------------------------------------------------------

# RULES.md compliant example.
test_allow_rule_with_source if {
	_passes with input as _v1("foo", "httpbin-from-sleep", object.union(_selector, {"action": "ALLOW", "rules": [_from_sleep]}))
}

# `spec: {}` is allow-nothing, the default-deny.
test_allow_allow_nothing_policy if {
	_passes with input as _v1("foo", "allow-nothing", {})
}

test_allow_policy_without_spec if {
	_passes with input as json.remove(_v1("foo", "allow-nothing", {}), ["spec"])
}

test_allow_empty_rules_list if {
	_passes with input as _ap("security.istio.io/v1beta1", "foo", "allow-nothing", {"rules": []})
}

test_allow_rule_with_only_to if {
	_passes with input as _v1("foo", "read", {"rules": [{"to": [{"operation": {"methods": ["GET"]}}]}]})
}

test_allow_rule_with_only_when if {
	_passes with input as _v1("foo", "jwt", {"rules": [{"when": [{"key": "request.auth.claims[iss]", "values": ["https://issuer.example"]}]}]})
}

# An empty DENY rule denies everything: that is not an allow-all.
test_allow_empty_rule_in_deny_policy if {
	_passes with input as _v1("foo", "deny-all", {"action": "DENY", "rules": [{}]})
}

test_allow_empty_rule_in_audit_and_custom_policies if {
	_passes with input as _v1("foo", "audit-all", {"action": "AUDIT", "rules": [{}]})
	_passes with input as _v1("foo", "ext-authz", {"action": "CUSTOM", "provider": {"name": "opa"}, "rules": [{}]})
}

# --- config override ---------------------------------------------------------

test_deny_config_root_namespace_override if {
	cfg := {"istio": {"rootNamespace": "mesh-root"}}
	root := _v1("mesh-root", "ingress", object.union(_selector, {"rules": [{}]}))
	old_root := _v1("istio-system", "ingress", object.union(_selector, {"rules": [{}]}))
	authz_001.deny == {_f("mesh-root", "ingress", 0, "critical")} with input as root with data.meshguard.config as cfg
	authz_001.deny == {_f("istio-system", "ingress", 0, "high")} with input as old_root with data.meshguard.config as cfg
}

# --- kind guard and front doors ----------------------------------------------

test_allow_wrong_kind if {
	_passes with input as object.union(_v1("foo", "allow-all", {"rules": [{}]}), {"kind": "RequestAuthentication"})
}

test_allow_linkerd_authorization_policy if {
	_passes with input as _ap("policy.linkerd.io/v1alpha1", "foo", "allow-all", {"rules": [{}]})
}

test_deny_empty_rule_admission_review if {
	ap := _v1("foo", "allow-all", {"rules": [{}]})
	bare := authz_001.deny with input as ap
	reviewed := authz_001.deny with input as _review(ap)
	bare == {_f("foo", "allow-all", 0, "critical")}
	reviewed == bare
}

test_deny_empty_rule_engine_indexed if {
	ap := _v1("foo", "allow-all", {"rules": [{}]})
	authz_001.deny == {_f("foo", "allow-all", 0, "critical")} with input as ap with data.meshguard.engine.indexed as true
}
