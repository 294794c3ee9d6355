package meshguard.istio.traffic_003_test

import data.meshguard.istio.traffic_003

_dr(host, spec) := {
	"apiVersion": "networking.istio.io/v1",
	"kind": "DestinationRule",
	"metadata": {"name": "inventory", "namespace": "prod"},
	"spec": object.union({"host": host}, spec),
}

_host := "inventory.prod.svc.cluster.local"

_pool := {"tcp": {"maxConnections": 512, "connectTimeout": "5s"}, "http": {"http1MaxPendingRequests": 256, "http2MaxRequests": 512, "maxRetries": 3}}

_od := {"consecutive5xxErrors": 5, "interval": "10s", "baseEjectionTime": "30s", "maxEjectionPercent": 10}

_f(msg, path) := {"id": "ISTIO-TRAFFIC-003", "severity": "medium", "msg": msg, "path": path}

_no_pool(path) := _f(sprintf("ISTIO-TRAFFIC-003: DestinationRule prod/inventory sets no trafficPolicy.connectionPool for %s, so no connection, request or retry limits apply", [_host]), path)

_no_od(path) := _f(sprintf("ISTIO-TRAFFIC-003: DestinationRule prod/inventory sets no trafficPolicy.outlierDetection for %s, so failing endpoints are never ejected", [_host]), path)

# RULES.md violating example: neither block.
test_warn_neither_block if {
	traffic_003.warn == {_no_pool(["spec"]), _no_od(["spec"])} with input as _dr(_host, {})
}

test_warn_one_block_missing if {
	traffic_003.warn == {_no_od(["spec", "trafficPolicy"])} with input as _dr(_host, {"trafficPolicy": {"connectionPool": _pool}})
	traffic_003.warn == {_no_pool(["spec", "trafficPolicy"])} with input as _dr(_host, {"trafficPolicy": {"outlierDetection": _od}})
}

# Subsets do not fill the top level; port-level settings do when all set it.
test_warn_subset_or_some_ports_only if {
	subset := {"subsets": [{"name": "v1", "trafficPolicy": {"connectionPool": _pool, "outlierDetection": _od}}]}
	traffic_003.warn == {_no_pool(["spec"]), _no_od(["spec"])} with input as _dr(_host, subset)
	ports := {"trafficPolicy": {"outlierDetection": _od, "portLevelSettings": [
		{"port": {"number": 80}, "connectionPool": _pool},
		{"port": {"number": 81}},
	]}}
	traffic_003.warn == {_no_pool(["spec", "trafficPolicy"])} with input as _dr(_host, ports)
}

test_warn_deprecated_consecutive_errors if {
	od := json.remove(object.union(_od, {"consecutiveErrors": 5}), ["consecutive5xxErrors"])
	traffic_003.warn == {_f(
		"ISTIO-TRAFFIC-003: DestinationRule prod/inventory uses the deprecated outlierDetection.consecutiveErrors; use consecutive5xxErrors or consecutiveGatewayErrors",
		["spec", "trafficPolicy", "outlierDetection", "consecutiveErrors"],
	)} with input as _dr(_host, {"trafficPolicy": {"connectionPool": _pool, "outlierDetection": od}})
}

test_warn_max_ejection_100 if {
	spec := {"trafficPolicy": {"connectionPool": _pool, "outlierDetection": _od, "portLevelSettings": [{"port": {"number": 80}, "outlierDetection": object.union(_od, {"maxEjectionPercent": 100})}]}}
	traffic_003.warn == {_f(
		sprintf("ISTIO-TRAFFIC-003: DestinationRule prod/inventory sets outlierDetection.maxEjectionPercent 100, so every endpoint of %s may be ejected at once; keep it below 100", [_host]),
		["spec", "trafficPolicy", "portLevelSettings", 0, "outlierDetection", "maxEjectionPercent"],
	)} with input as _dr(_host, spec)
}

# RULES.md compliant example.
test_pass_both_blocks if {
	count(traffic_003.warn) == 0 with input as _dr(_host, {"trafficPolicy": {"connectionPool": _pool, "outlierDetection": _od}})
}

test_pass_every_port_sets_both if {
	spec := {"trafficPolicy": {"portLevelSettings": [
		{"port": {"number": 80}, "connectionPool": _pool, "outlierDetection": _od},
		{"port": {"number": 81}, "connectionPool": _pool, "outlierDetection": _od},
	]}}
	count(traffic_003.warn) == 0 with input as _dr(_host, spec)
}

# External hosts are out of scope: circuit breaking is about mesh services.
test_pass_external_host if {
	count(traffic_003.warn) == 0 with input as _dr("api.example.com", {})
}

test_pass_other_kinds if {
	count(traffic_003.warn) == 0 with input as object.union(_dr(_host, {}), {"kind": "ServiceEntry"})
}

# The engine has already matched the kind (data.meshguard.engine.indexed).
test_warn_engine_indexed if {
	traffic_003.warn == {_no_pool(["spec"]), _no_od(["spec"])} with input as _dr(_host, {}) with data.meshguard.engine.indexed as true
}

# Outlier detections are checked in every place: the subsets' policies and
# their port-level settings too.
test_warn_outlier_detection_in_subsets if {
	old := json.remove(object.union(_od, {"consecutiveErrors": 5}), ["consecutive5xxErrors"])
	all := object.union(_od, {"maxEjectionPercent": 100})
	spec := {
		"trafficPolicy": {"connectionPool": _pool, "outlierDetection": _od},
		"subsets": [
			{"name": "v1", "trafficPolicy": {"outlierDetection": old}},
			{"name": "v2", "trafficPolicy": {"portLevelSettings": [{"port": {"number": 80}}, {"port": {"number": 81}, "outlierDetection": all}]}},
		],
	}
	traffic_003.warn == {
		_f(
			"ISTIO-TRAFFIC-003: DestinationRule prod/inventory uses the deprecated outlierDetection.consecutiveErrors; use consecutive5xxErrors or consecutiveGatewayErrors",
			["spec", "subsets", 0, "trafficPolicy", "outlierDetection", "consecutiveErrors"],
		),
		_f(
			sprintf("ISTIO-TRAFFIC-003: DestinationRule prod/inventory sets outlierDetection.maxEjectionPercent 100, so every endpoint of %s may be ejected at once; keep it below 100", [_host]),
			["spec", "subsets", 1, "trafficPolicy", "portLevelSettings", 1, "outlierDetection", "maxEjectionPercent"],
		),
	} with input as _dr(_host, spec)
}
