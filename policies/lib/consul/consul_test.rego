package meshguard.lib.consul_test

import data.meshguard.lib.consul

_pod(ns, annotations) := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": ns, "annotations": annotations}}

test_injected_on_request if {
	every v in ["true", "1", "t", "True", "TRUE"] {
		consul.injected with input as _pod("shop", {"consul.hashicorp.com/connect-inject": v})
	}
	not consul.injected with input as _pod("shop", {"consul.hashicorp.com/connect-inject": "false"})
	not consul.injected with input as _pod("shop", {})
	not consul.injected with input as {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "annotations": {"consul.hashicorp.com/connect-inject": "true"}}}
}

test_injected_in_mesh_namespaces_unless_opted_out if {
	consul.injected with input as _pod("shop", {}) with data.meshguard.config as {"consul": {"meshNamespaces": ["shop"]}}
	not consul.injected with input as _pod("shop", {"consul.hashicorp.com/connect-inject": "false"}) with data.meshguard.config as {"consul": {"meshNamespaces": ["shop"]}}
	not consul.injected with input as _pod("tools", {}) with data.meshguard.config as {"consul": {"meshNamespaces": ["shop"]}}
}

test_bools if {
	every v in ["0", "f", "F", "false", "False", "FALSE"] {
		consul.is_false(v)
		not consul.is_true(v)
	}
	every v in ["1", "t", "T", "true", "True", "TRUE"] {
		consul.is_true(v)
		not consul.is_false(v)
	}
	not consul.is_false("no")
	not consul.is_true("yes")
}
