package meshguard.lib.istio_test

import data.meshguard.lib.istio

# --- helpers -----------------------------------------------------------------

_ns(labels) := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": labels}}

_inv(labels) := {"namespaces": {"shop": _ns(labels)}}

_deployment(labels, annotations, containers) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "api", "namespace": "shop"},
	"spec": {"template": {
		"metadata": {"labels": labels, "annotations": annotations},
		"spec": {"containers": containers},
	}},
}

_app := [{"name": "api"}]

_service_entry(location, hosts) := {
	"apiVersion": "networking.istio.io/v1",
	"kind": "ServiceEntry",
	"metadata": {"name": "se", "namespace": "data"},
	"spec": {"hosts": hosts, "location": location},
}

_entries(se) := {"objects": {"ServiceEntry.networking.istio.io": {"data": {"se": se}}}}

_ap(spec) := {
	"apiVersion": "security.istio.io/v1",
	"kind": "AuthorizationPolicy",
	"metadata": {"name": "p", "namespace": "foo"},
	"spec": spec,
}

# --- root namespace ----------------------------------------------------------

test_root_namespace_default_and_override if {
	istio.root_namespace == "istio-system"
	istio.root_namespace == "mesh-root" with data.meshguard.config as {"istio": {"rootNamespace": "mesh-root"}}
}

# --- in-mesh hosts (RULES.md §0.7) -------------------------------------------

test_in_mesh_host_forms if {
	every host in [
		"reviews",
		"reviews.bookinfo",
		"reviews.bookinfo.svc",
		"reviews.bookinfo.svc.cluster.local",
		"*.bookinfo.svc.cluster.local",
		"reviews.cluster.local",
		"*.cluster.local",
		"*.local",
	] {
		istio.in_mesh_host(host)
	}
}

test_not_in_mesh_host if {
	every host in ["api.example.com", "*.example.com", "reviews.bookinfo.svc.corp.example", "*.svc.example.com"] {
		not istio.in_mesh_host(host)
	}
}

# §0.7 counts every two-label name as <name>.<namespace>, so a bare registrable
# domain is taken for an in-mesh host.
test_in_mesh_host_two_labels_is_name_and_namespace if {
	istio.in_mesh_host("example.com")
}

test_in_mesh_host_mesh_domain_override if {
	cfg := {"istio": {"meshDomain": "corp.example"}}
	istio.in_mesh_host("reviews.bookinfo.svc.corp.example") with data.meshguard.config as cfg
	istio.in_mesh_host("*.corp.example") with data.meshguard.config as cfg
	istio.in_mesh_host("db.corp.example") with data.meshguard.config as cfg
	not istio.in_mesh_host("reviews.bookinfo.svc.cluster.local") with data.meshguard.config as cfg
	not istio.in_mesh_host("*.cluster.local") with data.meshguard.config as cfg
}

test_in_mesh_host_mesh_internal_service_entry if {
	inv := _entries(_service_entry("MESH_INTERNAL", ["db.internal.example", "*.cache.internal.example"]))
	istio.in_mesh_host("db.internal.example") with data.inventory as inv
	istio.in_mesh_host("redis.cache.internal.example") with data.inventory as inv
	not istio.in_mesh_host("a.b.cache.internal.example") with data.inventory as inv
	not istio.in_mesh_host("api.internal.example") with data.inventory as inv
}

test_not_in_mesh_host_mesh_external_service_entry if {
	inv := _entries(_service_entry("MESH_EXTERNAL", ["db.internal.example"]))
	not istio.in_mesh_host("db.internal.example") with data.inventory as inv
	not istio.in_mesh_host("db.internal.example")
}

# --- namespace enrolment -----------------------------------------------------

test_namespace_injected if {
	istio.namespace_injected(_ns({"istio-injection": "enabled"}))
	istio.namespace_injected(_ns({"istio.io/rev": "1-28"}))
	istio.namespace_injected(_ns({"istio.io/rev": "canary", "istio-injection": "enabled"}))
}

test_namespace_not_injected if {
	not istio.namespace_injected(_ns({"istio-injection": "disabled"}))
	not istio.namespace_injected(_ns({"istio.io/rev": "1-28", "istio-injection": "disabled"}))
	not istio.namespace_injected(_ns({"team": "shop"}))
	not istio.namespace_injected({"metadata": {"name": "shop"}})
}

test_namespace_enrolled_from_inventory if {
	obj := _deployment({}, {}, _app)
	istio.namespace_enrolled with input as obj with data.inventory as _inv({"istio-injection": "enabled"})
	not istio.namespace_enrolled with input as obj with data.inventory as _inv({"istio-injection": "disabled"})
	not istio.namespace_enrolled with input as obj
}

# --- opt-out -----------------------------------------------------------------

test_opted_out_by_label if {
	obj := _deployment({"sidecar.istio.io/inject": "false"}, {}, _app)
	istio.opted_out with input as obj
	istio.opt_out_paths == {["spec", "template", "metadata", "labels", "sidecar.istio.io/inject"]} with input as obj
}

test_opted_out_by_annotation if {
	obj := _deployment({}, {"sidecar.istio.io/inject": "false"}, _app)
	istio.opted_out with input as obj
	istio.opt_out_paths == {["spec", "template", "metadata", "annotations", "sidecar.istio.io/inject"]} with input as obj
}

test_opt_out_paths_both if {
	pod := {"apiVersion": "v1", "kind": "Pod", "metadata": {
		"labels": {"sidecar.istio.io/inject": "false"},
		"annotations": {"sidecar.istio.io/inject": "false"},
	}}
	istio.opt_out_paths == {["metadata", "labels", "sidecar.istio.io/inject"]} with input as pod
}

test_not_opted_out if {
	obj := _deployment({"sidecar.istio.io/inject": "true"}, {"sidecar.istio.io/inject": "true"}, _app)
	not istio.opted_out with input as obj
	istio.opt_out_paths == set() with input as obj
	not istio.opted_out with input as _deployment({}, {}, _app)
}

# --- gets_sidecar ------------------------------------------------------------

test_gets_sidecar_already_injected if {
	istio.gets_sidecar with input as _deployment({}, {}, [{"name": "api"}, {"name": "istio-proxy"}])
	native := {"apiVersion": "v1", "kind": "Pod", "spec": {"initContainers": [{"name": "istio-proxy"}], "containers": _app}}
	istio.gets_sidecar with input as native
}

test_gets_sidecar_inject_label if {
	obj := _deployment({"sidecar.istio.io/inject": "true"}, {}, _app)
	istio.gets_sidecar with input as obj
	istio.gets_sidecar with input as obj with data.inventory as _inv({"team": "shop"})
	not istio.gets_sidecar with input as obj with data.inventory as _inv({"istio-injection": "disabled"})
}

test_gets_sidecar_enrolled_namespace if {
	obj := _deployment({}, {}, _app)
	istio.gets_sidecar with input as obj with data.inventory as _inv({"istio-injection": "enabled"})
	istio.gets_sidecar with input as obj with data.inventory as _inv({"istio.io/rev": "1-28"})
}

test_no_sidecar if {
	# Not enrolled, no label, no proxy.
	not istio.gets_sidecar with input as _deployment({}, {}, _app)

	# Enrolled but opted out.
	not istio.gets_sidecar with input as _deployment({"sidecar.istio.io/inject": "false"}, {}, _app)
		with data.inventory as _inv({"istio-injection": "enabled"})
	not istio.gets_sidecar with input as _deployment({}, {"sidecar.istio.io/inject": "false"}, _app)
		with data.inventory as _inv({"istio-injection": "enabled"})

	# Not a workload.
	svc := {"apiVersion": "v1", "kind": "Service", "metadata": {"namespace": "shop", "labels": {"sidecar.istio.io/inject": "true"}}}
	not istio.gets_sidecar with input as svc with data.inventory as _inv({"istio-injection": "enabled"})
}

# --- AuthorizationPolicy helpers ---------------------------------------------

test_authz_action if {
	istio.authz_action == "ALLOW" with input as _ap({})
	istio.authz_action == "ALLOW" with input as json.remove(_ap({}), ["spec"])
	istio.authz_action == "DENY" with input as _ap({"action": "DENY"})
	istio.authz_action == "CUSTOM" with input as _ap({"action": "CUSTOM"})
}

test_targets_public_gateway if {
	istio.targets_public_gateway with input as _ap({"selector": {"matchLabels": {"istio": "ingressgateway", "app": "gw"}}})
	istio.targets_public_gateway with input as _ap({"targetRefs": [{"kind": "Service", "name": "a"}, {"kind": "Gateway", "name": "public"}]})
	istio.targets_public_gateway with input as _ap({"targetRef": {"kind": "Gateway", "name": "public"}})
}

test_not_targets_public_gateway if {
	not istio.targets_public_gateway with input as _ap({})
	not istio.targets_public_gateway with input as _ap({"selector": {"matchLabels": {"istio": "egressgateway"}}})
	not istio.targets_public_gateway with input as _ap({"targetRefs": [{"kind": "Service", "name": "a"}]})
	not istio.targets_public_gateway with input as _ap({"targetRef": {"kind": "Service", "name": "a"}})
}

test_targets_public_gateway_selectors_override if {
	cfg := {"istio": {"publicGatewaySelectors": [{"app": "edge", "tier": "public"}, {"istio": "public-gw"}]}}
	istio.targets_public_gateway with input as _ap({"selector": {"matchLabels": {"app": "edge", "tier": "public"}}})
		with data.meshguard.config as cfg
	istio.targets_public_gateway with input as _ap({"selector": {"matchLabels": {"istio": "public-gw"}}})
		with data.meshguard.config as cfg
	not istio.targets_public_gateway with input as _ap({"selector": {"matchLabels": {"app": "edge"}}})
		with data.meshguard.config as cfg
	not istio.targets_public_gateway with input as _ap({"selector": {"matchLabels": {"istio": "ingressgateway"}}})
		with data.meshguard.config as cfg
}

# --- mesh membership, baselines, effective mTLS mode -------------------------

test_namespace_in_mesh if {
	istio.namespace_in_mesh(_ns({"istio-injection": "enabled"}))
	istio.namespace_in_mesh(_ns({"istio.io/rev": "1-28"}))
	istio.namespace_in_mesh(_ns({"istio.io/dataplane-mode": "ambient"}))
	not istio.namespace_in_mesh(_ns({}))
	not istio.namespace_in_mesh(_ns({"istio.io/dataplane-mode": "none"}))
	not istio.namespace_in_mesh(_ns({"istio-injection": "disabled", "istio.io/rev": "1-28"}))
}

_pa(ns, name, spec) := {"kind": "PeerAuthentication", "metadata": {"name": name, "namespace": ns}, "spec": spec}

_pas(pas) := {"objects": {"PeerAuthentication.security.istio.io": pas}}

test_effective_namespace_mtls if {
	# No policy anywhere: Istio's PERMISSIVE.
	istio.effective_namespace_mtls("shop") == ["Istio's default (no mesh-wide PeerAuthentication)", "PERMISSIVE"]

	root := {"istio-system": {"default": _pa("istio-system", "default", {"mtls": {"mode": "STRICT"}})}}
	istio.effective_namespace_mtls("shop") == ["PeerAuthentication istio-system/default", "STRICT"] with data.inventory as _pas(root)

	# The namespace's own policy wins; UNSET and workload policies pass to the parent.
	own := object.union(root, {"shop": {
		"a-unset": _pa("shop", "a-unset", {"mtls": {"mode": "UNSET"}}),
		"b-workload": _pa("shop", "b-workload", {"selector": {"matchLabels": {"app": "x"}}, "mtls": {"mode": "DISABLE"}}),
		"c-permissive": _pa("shop", "c-permissive", {"mtls": {"mode": "PERMISSIVE"}}),
	}})
	istio.effective_namespace_mtls("shop") == ["PeerAuthentication shop/c-permissive", "PERMISSIVE"] with data.inventory as _pas(own)
	istio.mesh_mtls == ["PeerAuthentication istio-system/default", "STRICT"] with data.inventory as _pas(own)
}

test_baselines if {
	istio.strict_baseline(_pa("shop", "default", {"mtls": {"mode": "STRICT"}}))
	istio.strict_baseline(_pa("shop", "default", {"selector": {"matchLabels": {}}, "mtls": {"mode": "STRICT"}}))
	not istio.strict_baseline(_pa("shop", "default", {"mtls": {"mode": "PERMISSIVE"}}))
	not istio.strict_baseline(_pa("shop", "default", {"selector": {"matchLabels": {"app": "x"}}, "mtls": {"mode": "STRICT"}}))
	istio.allow_nothing(_ap({}))
	istio.allow_nothing({"metadata": {"name": "p"}})
	istio.allow_nothing(_ap({"action": "ALLOW", "rules": []}))
	not istio.allow_nothing(_ap({"rules": [{}]}))
	not istio.allow_nothing(_ap({"action": "DENY"}))
	not istio.allow_nothing(_ap({"targetRefs": [{"kind": "Gateway", "name": "gw"}]}))
	not istio.allow_nothing(_ap({"targetRef": {"kind": "Gateway", "name": "gw"}}))
	not istio.allow_nothing(_ap({"selector": {"matchLabels": {"app": "x"}}}))
}

_gateway(selector) := {"apiVersion": "networking.istio.io/v1", "kind": "Gateway", "metadata": {"name": "g", "namespace": "n"}, "spec": {"selector": selector}}

test_public_gateway if {
	istio.public_gateway with input as _gateway({"istio": "ingressgateway"})
	istio.public_gateway with input as _gateway({"istio": "ingressgateway", "app": "edge"})
	not istio.public_gateway with input as _gateway({"istio": "eastwestgateway"})
	not istio.public_gateway with input as _gateway({"app": "edge"})
	istio.public_gateway with input as _gateway({"app": "edge"}) with data.meshguard.config as {"istio": {"publicGatewaySelectors": [{"app": "edge"}]}}
}

test_host_namespace if {
	istio.host_namespace("reviews.bookinfo") == "bookinfo"
	istio.host_namespace("reviews.bookinfo.svc") == "bookinfo"
	istio.host_namespace("reviews.bookinfo.svc.cluster.local") == "bookinfo"
	istio.host_namespace("*.bookinfo.svc.cluster.local") == "bookinfo"
	istio.host_namespace("reviews") == "foo" with input as _ap({})
	not istio.host_namespace("api.example.com")
	not istio.host_namespace("a.b.c.svc.cluster.local")
	not istio.host_namespace("reviews.bookinfo.svc.cluster.local") with data.meshguard.config as {"istio": {"meshDomain": "corp.local"}}
}
