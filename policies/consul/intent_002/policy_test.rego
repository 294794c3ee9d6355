package meshguard.consul.intent_002_test

import data.meshguard.consul.intent_002

_intentions(destination, sources) := {
	"apiVersion": "consul.hashicorp.com/v1alpha1",
	"kind": "ServiceIntentions",
	"metadata": {"name": "db", "namespace": "default"},
	"spec": {"destination": {"name": destination}, "sources": sources},
}

_ids(fs) := {[f.id, f.severity, f.path] | some f in fs}

test_deny_wildcard_source_allow if {
	obj := _intentions("db", [{"name": "web", "action": "allow"}, {"name": "*", "action": "allow"}])
	_ids(intent_002.deny) == {["CONSUL-INTENT-002", "high", ["spec", "sources", 1, "name"]]} with input as obj
	{f.msg | some f in intent_002.deny} == {"CONSUL-INTENT-002: ServiceIntentions default/db allows every service (source *) to reach db; name the sources that need it"} with input as obj
	intent_002.warn == set() with input as obj
}

test_allow_wildcard_source_deny if {
	intent_002.deny == set() with input as _intentions("db", [{"name": "*", "action": "deny"}])
}

test_wildcard_destination_is_left_to_intent_001 if {
	intent_002.deny == set() with input as _intentions("*", [{"name": "*", "action": "allow"}])
	intent_002.warn == set() with input as _intentions("*", [{"name": "web", "namespace": "*", "action": "allow"}])
}

test_warn_wildcard_namespace if {
	obj := _intentions("db", [{"name": "web", "namespace": "*", "action": "allow"}])
	_ids(intent_002.warn) == {["CONSUL-INTENT-002", "high", ["spec", "sources", 0, "namespace"]]} with input as obj
	{f.msg | some f in intent_002.warn} == {"CONSUL-INTENT-002: ServiceIntentions default/db allows source web from every namespace (namespace *) to reach db; name the namespace"} with input as obj
	intent_002.warn == set() with input as _intentions("db", [{"name": "web", "namespace": "*", "action": "deny"}])
	intent_002.warn == set() with input as _intentions("db", [{"name": "web", "namespace": "shop", "action": "allow"}])
}

test_warn_wildcard_namespace_with_l7_allow if {
	obj := _intentions("db", [{"name": "web", "namespace": "*", "permissions": [{"action": "allow", "http": {"pathExact": "/x"}}]}])
	_ids(intent_002.warn) == {["CONSUL-INTENT-002", "high", ["spec", "sources", 0, "namespace"]]} with input as obj
}

test_warn_unconstrained_permission if {
	every p in [{"action": "allow"}, {"action": "allow", "http": {}}, {"action": "allow", "http": {"pathPrefix": "/"}}, {"action": "allow", "http": {"pathPrefix": "/", "methods": []}}, {"action": "allow", "http": {"header": []}}] {
		_ids(intent_002.warn) == {["CONSUL-INTENT-002", "high", ["spec", "sources", 0, "permissions", 1]]} with input as _intentions("api", [{"name": "web", "permissions": [{"action": "deny", "http": {"pathPrefix": "/admin"}}, p]}])
	}
	{f.msg | some f in intent_002.warn} == {"CONSUL-INTENT-002: ServiceIntentions default/db: permission 0 of source web allows every request to api (no path, method, header or JWT constraint); add an http match or a jwt requirement"} with input as _intentions("api", [{"name": "web", "permissions": [{"action": "allow"}]}])
}

test_allow_constrained_permissions if {
	every p in [
		{"action": "allow", "http": {"pathPrefix": "/v1/orders", "methods": ["GET", "POST"]}},
		{"action": "allow", "http": {"pathPrefix": "/v1"}},
		{"action": "allow", "http": {"pathPrefix": "/", "methods": ["GET"]}},
		{"action": "allow", "http": {"pathExact": "/health"}},
		{"action": "allow", "http": {"pathRegex": "/api/.*"}},
		{"action": "allow", "http": {"header": [{"name": "x-team", "exact": "a"}]}},
		{"action": "allow", "jwt": {"providers": [{"name": "okta"}]}},
		{"action": "deny"},
	] {
		intent_002.warn == set() with input as _intentions("api", [{"name": "web", "permissions": [p]}])
		intent_002.deny == set() with input as _intentions("api", [{"name": "web", "permissions": [p]}])
	}
}

test_other_kinds_are_not_judged if {
	intent_002.deny == set() with input as {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "spec": {"destination": {"name": "db"}, "sources": [{"name": "*", "action": "allow"}]}}
}

# The engine has matched the kind already (kube.indexed).
test_deny_when_engine_indexed if {
	_ids(intent_002.deny) == {["CONSUL-INTENT-002", "high", ["spec", "sources", 0, "name"]]} with input as _intentions("db", [{"name": "*", "action": "allow"}])
		with data.meshguard.engine.indexed as true
}
