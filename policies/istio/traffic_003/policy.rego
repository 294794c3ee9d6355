# METADATA
# title: DestinationRule defines connectionPool and outlierDetection
# description: |
#   Without a connection pool the documented limits are effectively unlimited
#   (connections, pending requests, requests and retries default to 2^32-1),
#   and without outlier detection no failing endpoint is ever ejected: no
#   circuit breaking. A DestinationRule for an in-mesh host is flagged when its
#   top-level traffic policy lacks `connectionPool` or `outlierDetection` (and
#   not every port-level setting sets it), when an outlier detection uses the
#   deprecated `consecutiveErrors`, and when `maxEjectionPercent` is 100 (every
#   endpoint may be ejected at once).
# custom:
#   id: ISTIO-TRAFFIC-003
#   version: 1.0.0
#   severity: medium
#   action: warn
#   since: 2026.12.0
#   kinds:
#   - group: networking.istio.io
#     kind: DestinationRule
#     versions: [v1alpha3, v1beta1, v1]
#   remediation: |
#     Set `spec.trafficPolicy.connectionPool` (e.g. `tcp.maxConnections`,
#     `http.http1MaxPendingRequests`, `http.http2MaxRequests`, `http.maxRetries`)
#     and `spec.trafficPolicy.outlierDetection` (`consecutive5xxErrors`,
#     `interval`, `baseEjectionTime`, `maxEjectionPercent` below 100).
package meshguard.istio.traffic_003

import data.meshguard.lib.finding
import data.meshguard.lib.istio
import data.meshguard.lib.kube

# The object is of a kind in this package's METADATA. The engine evaluates a
# package only for those kinds (kube.indexed); under conftest or opa eval,
# where every package sees every object, the METADATA is read.
_applies if kube.indexed

else if kube.applies(rego.metadata.chain())

_in_mesh if istio.in_mesh_host(kube.obj.spec.host)

_top := object.get(kube.obj, ["spec", "trafficPolicy"], {})

# The block is set at the top level, or by every port-level setting.
_set(block) if _top[block]

_set(block) if {
	count(_top.portLevelSettings) > 0
	every setting in _top.portLevelSettings {
		setting[block]
	}
}

_path := ["spec", "trafficPolicy"] if kube.obj.spec.trafficPolicy

else := ["spec"]

_why := {
	"connectionPool": "no connection, request or retry limits apply",
	"outlierDetection": "failing endpoints are never ejected",
}

warn contains f if {
	_applies
	_in_mesh
	some block, why in _why
	not _set(block)
	f := finding.new(
		rego.metadata.chain(),
		sprintf("DestinationRule %s/%s sets no trafficPolicy.%s for %s, so %s", [kube.namespace, kube.name, block, kube.obj.spec.host, why]),
		_path,
	)
}

# Every outlier detection with its path: of each policy and port-level setting.
_outlier contains [array.concat(p, ["outlierDetection"]), policy.outlierDetection] if {
	some [p, policy] in istio.destination_rule_policies
	policy.outlierDetection
}

_outlier contains [array.concat(p, ["portLevelSettings", i, "outlierDetection"]), setting.outlierDetection] if {
	some [p, policy] in istio.destination_rule_policies
	some i, setting in policy.portLevelSettings
	setting.outlierDetection
}

warn contains f if {
	_applies
	_in_mesh
	some [p, od] in _outlier
	od.consecutiveErrors
	f := finding.new(
		rego.metadata.chain(),
		sprintf("DestinationRule %s/%s uses the deprecated outlierDetection.consecutiveErrors; use consecutive5xxErrors or consecutiveGatewayErrors", [kube.namespace, kube.name]),
		array.concat(p, ["consecutiveErrors"]),
	)
}

warn contains f if {
	_applies
	_in_mesh
	some [p, od] in _outlier
	od.maxEjectionPercent >= 100
	f := finding.new(
		rego.metadata.chain(),
		sprintf("DestinationRule %s/%s sets outlierDetection.maxEjectionPercent %v, so every endpoint of %s may be ejected at once; keep it below 100", [kube.namespace, kube.name, od.maxEjectionPercent, kube.obj.spec.host]),
		array.concat(p, ["maxEjectionPercent"]),
	)
}
