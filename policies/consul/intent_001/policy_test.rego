package meshguard.consul.intent_001_test

import data.meshguard.consul.intent_001

_intentions(destination, sources) := {
	"apiVersion": "consul.hashicorp.com/v1alpha1",
	"kind": "ServiceIntentions",
	"metadata": {"name": "allow-all", "namespace": "consul"},
	"spec": {"destination": {"name": destination}, "sources": sources},
}

_ids(fs) := {[f.id, f.severity, f.path] | some f in fs}

test_deny_wildcard_to_wildcard_allow if {
	_ids(intent_001.deny) == {["CONSUL-INTENT-001", "critical", ["spec", "sources", 0, "action"]]} with input as _intentions("*", [{"name": "*", "action": "allow"}])
	some f in intent_001.deny with input as _intentions("*", [{"name": "*", "action": "allow"}])
	f.msg == "CONSUL-INTENT-001: ServiceIntentions consul/allow-all allows every source to every service (* -> *), a mesh-wide allow-all; deny * -> * and allow sources per destination"
}

test_deny_wildcard_to_wildcard_unmatched_permission if {
	srcs := [{"name": "*", "permissions": [{"action": "deny", "http": {"pathPrefix": "/admin"}}, {"action": "allow"}]}]
	_ids(intent_001.deny) == {["CONSUL-INTENT-001", "critical", ["spec", "sources", 0, "permissions", 1]]} with input as _intentions("*", srcs)
}

test_deny_wildcard_source_with_matched_permission_is_high if {
	srcs := [{"name": "*", "permissions": [{"action": "allow", "http": {"pathPrefix": "/health"}}]}]
	_ids(intent_001.deny) == {["CONSUL-INTENT-001", "high", ["spec", "sources", 0, "permissions", 0]]} with input as _intentions("*", srcs)
}

test_deny_named_source_on_wildcard_destination if {
	srcs := [{"name": "*", "action": "deny"}, {"name": "web", "action": "allow"}]
	_ids(intent_001.deny) == {["CONSUL-INTENT-001", "high", ["spec", "sources", 1, "action"]]} with input as _intentions("*", srcs)
	some f in intent_001.deny with input as _intentions("*", srcs)
	f.msg == "CONSUL-INTENT-001: ServiceIntentions consul/allow-all allows source web on the destination *, so it can reach every service without intentions of its own; allow it on the services it needs"
}

test_allow_deny_all if {
	intent_001.deny == set() with input as _intentions("*", [{"name": "*", "action": "deny"}])
}

test_allow_concrete_destination if {
	intent_001.deny == set() with input as _intentions("db", [{"name": "*", "action": "allow"}, {"name": "web", "action": "allow"}])
}

test_other_kinds_are_not_judged if {
	intent_001.deny == set() with input as {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "spec": {"destination": {"name": "*"}, "sources": [{"name": "*", "action": "allow"}]}}
}

# The engine has matched the kind already (kube.indexed).
test_deny_when_engine_indexed if {
	_ids(intent_001.deny) == {["CONSUL-INTENT-001", "critical", ["spec", "sources", 0, "action"]]} with input as _intentions("*", [{"name": "*", "action": "allow"}])
		with data.meshguard.engine.indexed as true
}
