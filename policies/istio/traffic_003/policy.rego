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
# where every package sees every object, the METADATA is read. Truth tests
# are written `== true` or `!= false`: OPA allocates a variable to test a
# bare term.
_applies if kube.indexed == true

else if kube.applies(rego.metadata.chain())

# Costs: every reference to a rule or to kube.obj walks OPA's rule tree and
# copies the reference, a local variable does not; so each body reads the
# spec once, tests it before anything else, and asks whether the host is in
# the mesh last (in_mesh_host is cached by its argument, for every package).

# A block (connectionPool, outlierDetection) is set at the top level, or by
# every port-level setting.
warn contains f if {
	_applies == true
	spec := kube.obj.spec
	some block, why in {
		"connectionPool": "no connection, request or retry limits apply",
		"outlierDetection": "failing endpoints are never ejected",
	}
	not spec.trafficPolicy[block]
	not _every_port_sets(spec, block)
	istio.in_mesh_host(spec.host)
	f := finding.new(
		rego.metadata.chain(),
		sprintf("DestinationRule %s/%s sets no trafficPolicy.%s for %s, so %s", [kube.namespace, kube.name, block, spec.host, why]),
		_path,
	)
}

_every_port_sets(spec, block) if {
	count(spec.trafficPolicy.portLevelSettings) > 0
	every setting in spec.trafficPolicy.portLevelSettings {
		setting[block] != false
	}
}

_path := ["spec", "trafficPolicy"] if kube.obj.spec.trafficPolicy

else := ["spec"]

warn contains f if {
	_applies == true
	some [p, od] in _outlier
	od.consecutiveErrors != false
	istio.in_mesh_host(kube.obj.spec.host)
	f := finding.new(
		rego.metadata.chain(),
		sprintf("DestinationRule %s/%s uses the deprecated outlierDetection.consecutiveErrors; use consecutive5xxErrors or consecutiveGatewayErrors", [kube.namespace, kube.name]),
		array.concat(p, ["consecutiveErrors"]),
	)
}

warn contains f if {
	_applies == true
	some [p, od] in _outlier
	od.maxEjectionPercent >= 100
	istio.in_mesh_host(kube.obj.spec.host)
	f := finding.new(
		rego.metadata.chain(),
		sprintf("DestinationRule %s/%s sets outlierDetection.maxEjectionPercent %v, so every endpoint of %s may be ejected at once; keep it below 100", [kube.namespace, kube.name, od.maxEjectionPercent, kube.obj.spec.host]),
		array.concat(p, ["maxEjectionPercent"]),
	)
}

# Every outlier detection with its path: of the top-level traffic policy and
# its port-level settings, and the same two places in every subset.
_outlier contains [["spec", "trafficPolicy", "outlierDetection"], od] if {
	od := kube.obj.spec.trafficPolicy.outlierDetection
	od != false
}

_outlier contains [["spec", "trafficPolicy", "portLevelSettings", i, "outlierDetection"], setting.outlierDetection] if {
	some i, setting in kube.obj.spec.trafficPolicy.portLevelSettings
	setting.outlierDetection != false
}

_outlier contains [["spec", "subsets", j, "trafficPolicy", "outlierDetection"], subset.trafficPolicy.outlierDetection] if {
	some j, subset in kube.obj.spec.subsets
	subset.trafficPolicy.outlierDetection != false
}

_outlier contains [["spec", "subsets", j, "trafficPolicy", "portLevelSettings", i, "outlierDetection"], setting.outlierDetection] if {
	some j, subset in kube.obj.spec.subsets
	some i, setting in subset.trafficPolicy.portLevelSettings
	setting.outlierDetection != false
}
