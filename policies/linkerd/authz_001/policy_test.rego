package meshguard.linkerd.authz_001_test

import data.meshguard.linkerd.authz_001

_key := "config.linkerd.io/default-inbound-policy"

_ns(annotations) := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "emojivoto", "annotations": annotations}}

_deploy(annotations) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": "emojivoto"},
	"spec": {"template": {"metadata": {"annotations": annotations}, "spec": {"containers": [{"name": "web"}]}}},
}

_ids(fs) := {[f.id, f.severity, f.path] | some f in fs}

test_deny_unauthenticated_namespace_policies if {
	every v in ["all-unauthenticated", "cluster-unauthenticated", "audit"] {
		_ids(authz_001.deny) == {["LINKERD-AUTHZ-001", "critical", ["metadata", "annotations", _key]]} with input as _ns({_key: v})
	}
}

test_deny_unauthenticated_workload_policy if {
	_ids(authz_001.deny) == {["LINKERD-AUTHZ-001", "high", ["spec", "template", "metadata", "annotations", _key]]} with input as _deploy({_key: "all-unauthenticated"})
}

test_warn_all_authenticated if {
	_ids(authz_001.warn) == {["LINKERD-AUTHZ-001", "medium", ["metadata", "annotations", _key]]} with input as _ns({_key: "all-authenticated"})
	authz_001.deny == set() with input as _ns({_key: "all-authenticated"})
}

test_warn_value_outside_the_allowed_list if {
	_ids(authz_001.warn) == {["LINKERD-AUTHZ-001", "medium", ["metadata", "annotations", _key]]} with input as _ns({_key: "cluster-authenticated"})
	authz_001.warn == set() with input as _ns({_key: "cluster-authenticated"})
		with data.meshguard.config as {"linkerd": {"allowedDefaultInboundPolicies": ["deny", "cluster-authenticated"]}}
}

test_warn_meshed_namespace_without_annotation if {
	_ids(authz_001.warn) == {["LINKERD-AUTHZ-001", "high", ["metadata", "annotations"]]} with input as _ns({"linkerd.io/inject": "enabled"})
	authz_001.warn == set() with input as _ns({})
}

test_allow_deny if {
	authz_001.deny == set() with input as _ns({"linkerd.io/inject": "enabled", _key: "deny"})
	authz_001.warn == set() with input as _ns({"linkerd.io/inject": "enabled", _key: "deny"})
	authz_001.deny == set() with input as _deploy({_key: "deny"})
}

test_mutate_adds_deny_to_meshed_namespaces_only if {
	authz_001.mutate == {{"path": ["metadata", "annotations", _key], "value": "deny"}} with input as _ns({"linkerd.io/inject": "enabled"})
	authz_001.mutate == {{"path": ["metadata", "annotations", _key], "value": "deny"}} with input as _ns({"linkerd.io/inject": "ingress"})
	authz_001.mutate == set() with input as _ns({})
	authz_001.mutate == set() with input as _ns({"linkerd.io/inject": "enabled", _key: "all-authenticated"})
	authz_001.mutate == set() with input as _deploy({})
}

test_other_kinds_are_not_judged if {
	authz_001.deny == set() with input as {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "annotations": {_key: "audit"}}}
}
