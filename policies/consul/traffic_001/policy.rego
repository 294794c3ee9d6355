# METADATA
# title: Consul router and resolver timeouts and retries
# description: |
#   Bounded failure, as for Istio routes. Warned: more retries
#   (`numRetries`, on a ServiceRouter route or a RouteRetryFilter) than
#   `retry.maxAttempts`, denied above twice that; a ServiceRouter route that
#   retries without a `requestTimeout` when no ServiceResolver of the
#   destination service sets one (each retry may then wait forever); a
#   `requestTimeout` of 0s (ServiceRouter, ServiceResolver,
#   RouteTimeoutFilter), which disables it; an HTTP, HTTP/2 or gRPC
#   ServiceDefaults without `upstreamConfig.defaults.limits` or
#   `passiveHealthCheck`. The mutating webhook adds `route.defaultTimeout` as
#   the `requestTimeout` of a ServiceResolver without one.
# custom:
#   id: CONSUL-TRAFFIC-001
#   version: 1.0.0
#   severity: medium
#   action: warn
#   since: 2026.12.0
#   kinds:
#   - {group: consul.hashicorp.com, kind: ServiceRouter, versions: [v1alpha1]}
#   - {group: consul.hashicorp.com, kind: ServiceResolver, versions: [v1alpha1]}
#   - {group: consul.hashicorp.com, kind: ServiceDefaults, versions: [v1alpha1]}
#   - {group: consul.hashicorp.com, kind: RouteRetryFilter, versions: [v1alpha1]}
#   - {group: consul.hashicorp.com, kind: RouteTimeoutFilter, versions: [v1alpha1]}
#   remediation: |
#     Retry at most 3 times (`numRetries`), give every retrying route a
#     `requestTimeout` (or its ServiceResolver one, for example 15s), never 0s,
#     and give HTTP services `upstreamConfig.defaults.limits` and
#     `passiveHealthCheck` in their ServiceDefaults.
package meshguard.consul.traffic_001

import data.meshguard.lib.config
import data.meshguard.lib.finding
import data.meshguard.lib.kube

# The object is of a kind in this package's METADATA. The engine evaluates a
# package only for those kinds (kube.indexed); under conftest or opa eval,
# where every package sees every object, the METADATA is read. Truth tests
# are written `== true` or `!= false`: OPA allocates a variable to test a
# bare term.
_applies if kube.indexed == true

else if kube.applies(rego.metadata.chain())

_ref := sprintf("%s %s/%s", [kube.kind, kube.namespace, kube.name])

# Where retries are set: [route index (-1: the filter itself), path of
# numRetries, the retry settings]. What to call it is built for a finding.
_retries contains [i, ["spec", "routes", i, "destination", "numRetries"], d] if {
	kube.kind == "ServiceRouter"
	some i, route in kube.obj.spec.routes
	d := route.destination
}

_retries contains [-1, ["spec", "numRetries"], kube.obj.spec] if kube.kind == "RouteRetryFilter"

_what(-1) := _ref

_what(i) := sprintf("%s route %d", [_ref, i]) if i != -1

_max := config.params.retry.maxAttempts

# Each body tests the object first and _applies, which the engine has always
# decided, last.
deny contains f if {
	some [i, path, r] in _retries
	r.numRetries > 2 * _max
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s retries %d times, more than twice the maximum %d", [_what(i), r.numRetries, _max]),
		path,
	)
}

warn contains f if {
	some [i, path, r] in _retries
	r.numRetries > _max
	r.numRetries <= 2 * _max
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s retries %d times, above the maximum %d", [_what(i), r.numRetries, _max]),
		path,
	)
}

# A destination retries: retries counted, or retry conditions given. One
# else chain: it stops at the first branch that holds.
_retrying(d) if {
	d.numRetries > 0
} else if {
	d.retryOnConnectFailure == true
} else if {
	count(object.get(d, "retryOn", [])) > 0
} else if {
	count(object.get(d, "retryOnStatusCodes", [])) > 0
}

# A ServiceResolver of the service sets a request timeout. Consul config
# entries are named after their service; any namespace counts (without
# Consul Enterprise every Kubernetes namespace maps to one Consul namespace).
_resolver_timeout(service) if {
	some resolvers in data.inventory.objects["ServiceResolver.consul.hashicorp.com"]
	time.parse_duration_ns(resolvers[service].spec.requestTimeout) > 0 # duration.ns
}

warn contains f if {
	kube.kind == "ServiceRouter"
	kube.inventory_known == true
	some i, route in kube.obj.spec.routes
	d := route.destination
	_retrying(d)
	not d.requestTimeout
	service := object.get(d, "service", kube.name)
	not _resolver_timeout(service)
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s route %d retries without a requestTimeout, and no ServiceResolver %s sets one, so the retries are unbounded in time; set requestTimeout (for example %s)", [_ref, i, service, config.params.route.defaultTimeout]),
		["spec", "routes", i, "destination"],
	)
}

# Where a requestTimeout is: [path, value].
_request_timeouts contains [["spec", "routes", i, "destination", "requestTimeout"], t] if {
	kube.kind == "ServiceRouter"
	some i, route in kube.obj.spec.routes
	t := route.destination.requestTimeout
}

_request_timeouts contains [["spec", "requestTimeout"], kube.obj.spec.requestTimeout] if {
	kube.kind in {"ServiceResolver", "RouteTimeoutFilter"}
}

warn contains f if {
	some [path, t] in _request_timeouts
	time.parse_duration_ns(t) == 0 # duration.ns
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s sets requestTimeout %v, which disables the timeout; set a bound (for example %s)", [_ref, t, config.params.route.defaultTimeout]),
		path,
	)
}

warn contains f if {
	obj := kube.obj
	obj.spec.protocol in {"http", "http2", "grpc"}
	kube.kind == "ServiceDefaults"
	some field, what in {
		"limits": "connection or request limits",
		"passiveHealthCheck": "outlier ejection",
	}
	count(object.get(obj, ["spec", "upstreamConfig", "defaults", field], {})) == 0
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s (protocol %s) sets no upstreamConfig.defaults.%s, so its upstreams have no %s", [_ref, obj.spec.protocol, field, what]),
		["spec", "upstreamConfig", "defaults", field],
	)
}

# Mutation (RULES.md): the default request timeout on a ServiceResolver
# without one (a value written, even 0s, is kept).
mutate contains {"path": ["spec", "requestTimeout"], "value": config.params.route.defaultTimeout} if {
	_applies == true
	kube.kind == "ServiceResolver"
	object.get(kube.obj, ["spec", "requestTimeout"], null) == null
}
