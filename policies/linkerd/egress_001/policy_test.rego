package meshguard.linkerd.egress_001_test

import data.meshguard.linkerd.egress_001

_en(ns, spec) := {
	"apiVersion": "policy.linkerd.io/v1alpha1",
	"kind": "EgressNetwork",
	"metadata": {"name": "all-egress", "namespace": ns},
	"spec": spec,
}

_f(msg, path) := {"msg": sprintf("LINKERD-EGRESS-001: %s", [msg]), "id": "LINKERD-EGRESS-001", "severity": "medium", "path": path}

test_deny_allow_without_networks_in_the_global_namespace if {
	egress_001.deny == {_f(
		"EgressNetwork linkerd-egress/all-egress in the global egress namespace allows all networks outside the cluster (no spec.networks) to every meshed namespace; use trafficPolicy Deny and allow destinations with routes",
		["spec", "trafficPolicy"],
	)} with input as _en("linkerd-egress", {"trafficPolicy": "Allow"})
	egress_001.warn == set() with input as _en("linkerd-egress", {"trafficPolicy": "Allow"})
}

test_deny_allow_everywhere_cidrs_in_the_global_namespace if {
	egress_001.deny == {
		_f("EgressNetwork linkerd-egress/all-egress in the global egress namespace allows 0.0.0.0/0 to every meshed namespace; use trafficPolicy Deny and allow destinations with routes", ["spec", "networks", 1, "cidr"]),
		_f("EgressNetwork linkerd-egress/all-egress in the global egress namespace allows ::/0 to every meshed namespace; use trafficPolicy Deny and allow destinations with routes", ["spec", "networks", 2, "cidr"]),
	} with input as _en("linkerd-egress", {"trafficPolicy": "Allow", "networks": [{"cidr": "203.0.113.0/24"}, {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}, {"cidr": "::/0"}]})
}

test_warn_allow_without_networks_elsewhere if {
	egress_001.warn == {_f(
		"EgressNetwork shop/all-egress allows all networks outside the cluster (no spec.networks); use trafficPolicy Deny and allow destinations with routes",
		["spec", "trafficPolicy"],
	)} with input as _en("shop", {"trafficPolicy": "Allow"})
	egress_001.deny == set() with input as _en("shop", {"trafficPolicy": "Allow"})
}

test_global_namespace_is_a_parameter if {
	egress_001.deny == set() with input as _en("linkerd-egress", {"trafficPolicy": "Allow"})
		with data.meshguard.config as {"linkerd": {"egressNamespace": "egress"}}
	count(egress_001.deny) == 1 with input as _en("egress", {"trafficPolicy": "Allow"})
		with data.meshguard.config as {"linkerd": {"egressNamespace": "egress"}}
}

test_allow_deny_and_bounded_networks if {
	egress_001.deny == set() with input as _en("linkerd-egress", {"trafficPolicy": "Deny"})
	egress_001.warn == set() with input as _en("shop", {"trafficPolicy": "Deny"})
	egress_001.deny == set() with input as _en("linkerd-egress", {"trafficPolicy": "Allow", "networks": [{"cidr": "203.0.113.0/24"}]})
	egress_001.warn == set() with input as _en("shop", {"trafficPolicy": "Allow", "networks": [{"cidr": "203.0.113.0/24"}]})
}

test_other_kinds_are_not_judged if {
	egress_001.deny == set() with input as object.union(_en("linkerd-egress", {"trafficPolicy": "Allow"}), {"kind": "Server"})
}
