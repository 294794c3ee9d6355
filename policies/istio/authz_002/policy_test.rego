package meshguard.istio.authz_002_test

import data.meshguard.istio.authz_002

# --- helpers -----------------------------------------------------------------

_ap(api_version, spec) := {
	"apiVersion": api_version,
	"kind": "AuthorizationPolicy",
	"metadata": {"name": "read-only", "namespace": "foo"},
	"spec": spec,
}

_v1(spec) := _ap("security.istio.io/v1", spec)

_catalog := {"selector": {"matchLabels": {"app": "catalog"}}}

_ingress := {"selector": {"matchLabels": {"istio": "ingressgateway", "app": "istio-ingressgateway"}}}

_get := {"to": [{"operation": {"methods": ["GET"]}}]}

_when(key) := {"when": [{"key": key, "values": ["x"]}]}

_from_frontend := {"from": [{"source": {"serviceAccounts": ["foo/frontend"]}}]}

_rules(scope, rules) := object.union(scope, {"rules": rules})

_review(obj) := {
	"apiVersion": "admission.k8s.io/v1",
	"kind": "AdmissionReview",
	"request": {"operation": "CREATE", "object": obj},
}

_msg := "ISTIO-AUTHZ-002: AuthorizationPolicy foo/read-only has an ALLOW rule without `from` or a caller condition, so any source may call"

_deny(rule) := {"msg": _msg, "id": "ISTIO-AUTHZ-002", "severity": "high", "path": ["spec", "rules", rule]}

_warn(rule) := {
	"msg": concat("", [_msg, " (on a public gateway)"]),
	"id": "ISTIO-AUTHZ-002",
	"severity": "high",
	"path": ["spec", "rules", rule],
}

_passes if {
	count(authz_002.deny) == 0
	count(authz_002.warn) == 0
}

# --- deny: rule without a source ---------------------------------------------

# RULES.md violating example.
test_deny_rule_with_only_to if {
	ap := _v1(_rules(_catalog, [_get]))
	authz_002.deny == {_deny(0)} with input as ap
	count(authz_002.warn) == 0 with input as ap
}

test_deny_rule_with_only_non_caller_when if {
	ap := _ap("security.istio.io/v1beta1", _rules(_catalog, [_when("request.headers[x-env]")]))
	authz_002.deny == {_deny(0)} with input as ap
	count(authz_002.warn) == 0 with input as ap
}

test_deny_rule_with_to_and_non_caller_when if {
	ap := _v1({"action": "ALLOW", "rules": [object.union(_get, _when("destination.port"))]})
	authz_002.deny == {_deny(0)} with input as ap
}

test_deny_each_sourceless_rule if {
	ap := _v1(_rules(_catalog, [_from_frontend, _get, object.union(_get, _when("source.ip")), _when("request.headers[x]")]))
	authz_002.deny == {_deny(1), _deny(3)} with input as ap
}

test_deny_rule_targeting_a_service if {
	ap := _v1({"targetRefs": [{"kind": "Service", "group": "", "name": "catalog"}], "rules": [_get]})
	authz_002.deny == {_deny(0)} with input as ap
}

# Only the configured label set marks a public gateway.
test_deny_rule_on_other_gateway if {
	ap := _v1(_rules({"selector": {"matchLabels": {"istio": "egressgateway"}}}, [_get]))
	authz_002.deny == {_deny(0)} with input as ap
	count(authz_002.warn) == 0 with input as ap
}

# --- allow -------------------------------------------------------------------

# RULES.md compliant example.
test_allow_rule_with_from if {
	_passes with input as _v1(_rules(_catalog, [object.union(_from_frontend, _get)]))
}

test_allow_rule_with_source_when if {
	_passes with input as _v1(_rules(_catalog, [object.union(_get, _when("source.namespace"))]))
}

test_allow_rule_with_request_auth_when if {
	rule := {
		"to": [{"operation": {"paths": ["/admin"]}}],
		"when": [
			{"key": "request.headers[x-env]", "values": ["prod"]},
			{"key": "request.auth.claims[groups]", "values": ["admins"]},
		],
	}
	_passes with input as _ap("security.istio.io/v1beta1", _rules(_catalog, [rule]))
}

# An empty rule is ISTIO-AUTHZ-001's.
test_allow_empty_rule if {
	_passes with input as _v1(_rules(_catalog, [{}]))
}

test_allow_allow_nothing_policy if {
	_passes with input as _v1({})
}

test_allow_deny_action if {
	_passes with input as _v1({"action": "DENY", "rules": [_get]})
}

# --- warn: public gateway ----------------------------------------------------

test_warn_rule_on_ingress_gateway_selector if {
	ap := _v1(_rules(_ingress, [_get]))
	authz_002.warn == {_warn(0)} with input as ap
	count(authz_002.deny) == 0 with input as ap
}

test_warn_rule_on_gateway_target_refs if {
	ap := _ap("security.istio.io/v1beta1", {"targetRefs": [{"kind": "Gateway", "group": "gateway.networking.k8s.io", "name": "public"}], "rules": [_get, _from_frontend]})
	authz_002.warn == {_warn(0)} with input as ap
	count(authz_002.deny) == 0 with input as ap
}

test_warn_rule_on_gateway_target_ref if {
	ap := _v1({"targetRef": {"kind": "Gateway", "group": "gateway.networking.k8s.io", "name": "public"}, "rules": [_when("request.headers[host]")]})
	authz_002.warn == {_warn(0)} with input as ap
	count(authz_002.deny) == 0 with input as ap
}

test_allow_gateway_rule_with_caller_condition if {
	_passes with input as _v1(_rules(_ingress, [object.union(_get, _when("source.ip"))]))
}

# --- config override ---------------------------------------------------------

test_warn_config_public_gateway_selectors if {
	cfg := {"istio": {"publicGatewaySelectors": [{"app": "edge", "tier": "public"}]}}
	edge := _v1(_rules({"selector": {"matchLabels": {"app": "edge", "tier": "public", "zone": "a"}}}, [_get]))
	partial := _v1(_rules({"selector": {"matchLabels": {"app": "edge"}}}, [_get]))
	authz_002.warn == {_warn(0)} with input as edge with data.meshguard.config as cfg
	count(authz_002.deny) == 0 with input as edge with data.meshguard.config as cfg
	authz_002.deny == {_deny(0)} with input as partial with data.meshguard.config as cfg
	authz_002.deny == {_deny(0)} with input as _v1(_rules(_ingress, [_get])) with data.meshguard.config as cfg
}

# --- kind guard and front doors ----------------------------------------------

test_allow_wrong_kind if {
	_passes with input as object.union(_v1(_rules(_catalog, [_get])), {"kind": "PeerAuthentication"})
}

test_allow_wrong_group if {
	_passes with input as _ap("policy.linkerd.io/v1alpha1", _rules(_catalog, [_get]))
}

test_deny_rule_with_only_to_admission_review if {
	ap := _v1(_rules(_catalog, [_get]))
	bare := authz_002.deny with input as ap
	reviewed := authz_002.deny with input as _review(ap)
	bare == {_deny(0)}
	reviewed == bare
	count(authz_002.warn) == 0 with input as _review(ap)
}

test_warn_ingress_gateway_admission_review if {
	ap := _v1(_rules(_ingress, [_get]))
	authz_002.warn == {_warn(0)} with input as _review(ap)
}

test_deny_rule_with_only_to_engine_indexed if {
	authz_002.deny == {_deny(0)} with input as _v1(_rules(_catalog, [_get])) with data.meshguard.engine.indexed as true
}
