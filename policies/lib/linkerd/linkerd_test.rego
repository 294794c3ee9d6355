package meshguard.lib.linkerd_test

import data.meshguard.lib.linkerd

_deploy(annotations, containers) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": "emojivoto"},
	"spec": {"template": {"metadata": {"annotations": annotations}, "spec": {"containers": containers}}},
}

_ns(annotations) := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "emojivoto", "annotations": annotations}}

_inv(ns) := {"namespaces": {"emojivoto": ns}, "objects": {}}

test_namespace_meshed if {
	linkerd.namespace_meshed(_ns({"linkerd.io/inject": "enabled"}))
	linkerd.namespace_meshed(_ns({"linkerd.io/inject": "ingress"}))
	not linkerd.namespace_meshed(_ns({"linkerd.io/inject": "disabled"}))
	not linkerd.namespace_meshed(_ns({}))
}

test_workload_meshed if {
	linkerd.workload_meshed with input as _deploy({"linkerd.io/inject": "enabled"}, [])
	linkerd.workload_meshed with input as _deploy({}, []) with data.inventory as _inv(_ns({"linkerd.io/inject": "enabled"}))
	linkerd.workload_meshed with input as _deploy({}, [{"name": "linkerd-proxy"}])
	pod := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "emojivoto"}, "spec": {"containers": [{"name": "app"}], "initContainers": [{"name": "linkerd-proxy"}]}}
	linkerd.workload_meshed with input as pod
	not linkerd.workload_meshed with input as _deploy({"linkerd.io/inject": "disabled"}, []) with data.inventory as _inv(_ns({"linkerd.io/inject": "enabled"}))
	not linkerd.workload_meshed with input as _deploy({}, [])
	not linkerd.workload_meshed with input as _ns({"linkerd.io/inject": "enabled"})
}

test_cluster_meshed_and_control_plane if {
	linkerd.cluster_meshed with data.inventory as {"namespaces": {"linkerd": {}}}
	not linkerd.cluster_meshed with data.inventory as {"namespaces": {"emojivoto": {}}}
	not linkerd.cluster_meshed
	linkerd.control_plane_namespace({"metadata": {"name": "linkerd"}})
	linkerd.control_plane_namespace({"metadata": {"name": "l5d-viz", "labels": {"linkerd.io/extension": "viz"}}})
	not linkerd.control_plane_namespace({"metadata": {"name": "emojivoto"}})
}

test_config_annotation_from_the_pod_then_the_namespace if {
	key := "config.linkerd.io/proxy-cpu-request"
	linkerd.config(key) == ["100m", "pod"] with input as _deploy({key: "100m"}, []) with data.inventory as _inv(_ns({key: "200m"}))
	linkerd.config(key) == ["200m", "namespace"] with input as _deploy({}, []) with data.inventory as _inv(_ns({key: "200m"}))
	not linkerd.config(key) with input as _deploy({}, [])
	not linkerd.config(key) with input as _ns({key: "200m"})

	# Offline YAML may hold numbers.
	linkerd.own_annotation("config.linkerd.io/proxy-uid") == "2103" with input as _deploy({"config.linkerd.io/proxy-uid": 2103}, [])
}

test_port_lists if {
	linkerd.ports("25, 4000-4100,redis,,") == [{"from": 25, "to": 25}, {"from": 4000, "to": 4100}, {"name": "redis"}]
	linkerd.malformed_ports("25,0,65536,9-3,1-2-3,-,a_b,123456,redis") == ["0", "65536", "9-3", "1-2-3", "-", "a_b", "123456"]
	linkerd.malformed_ports("") == []
	linkerd.covers("25,4000-4100", 4050, "")
	linkerd.covers("25,redis", 6379, "redis")
	not linkerd.covers("25,4000-4100", 4101, "")
	not linkerd.covers("25", 6379, "")
}

test_label_selectors if {
	labels := {"app": "web", "tier": "front"}
	linkerd.selects({}, labels)
	linkerd.selects({"matchLabels": {"app": "web"}}, labels)
	not linkerd.selects({"matchLabels": {"app": "api"}}, labels)
	linkerd.selects(
		{"matchExpressions": [
			{"key": "app", "operator": "In", "values": ["web", "api"]},
			{"key": "tier", "operator": "NotIn", "values": ["back"]},
			{"key": "tier", "operator": "Exists"},
			{"key": "canary", "operator": "DoesNotExist"},
		]},
		labels,
	)
	not linkerd.selects({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]}, labels)
	not linkerd.selects({"matchExpressions": [{"key": "canary", "operator": "Exists"}]}, labels)
	not linkerd.selects({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}, labels)
	not linkerd.selects({"matchExpressions": [{"key": "app", "operator": "Unknown"}]}, labels)
}

test_objects_of_the_inventory if {
	linkerd.objects("Server.policy.linkerd.io", "emojivoto") == {"web": {"kind": "Server"}} with data.inventory as {"objects": {"Server.policy.linkerd.io": {"emojivoto": {"web": {"kind": "Server"}}}}}
	linkerd.objects("Server.policy.linkerd.io", "other") == {} with data.inventory as {"objects": {"Server.policy.linkerd.io": {"emojivoto": {"web": {"kind": "Server"}}}}}
	linkerd.objects("Server.policy.linkerd.io", "emojivoto") == {}
}
