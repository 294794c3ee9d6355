# METADATA
# title: VirtualService HTTP routes set a bounded timeout
# description: |
#   "Timeout for HTTP requests, default is disabled": without one, a stuck
#   upstream pins client connections and worker capacity indefinitely. Every
#   HTTP route that forwards (has `route`; redirects, direct responses and
#   delegates are skipped) must set a `timeout` no larger than
#   `route.maxTimeout`. A `timeout` that is absent, null or `0s` is reported.
#   The mutating webhook adds `route.defaultTimeout` to every forwarding route
#   without one (a value written, even `0s`, is kept); offline, `meshguard
#   check` fails until the manifest has one.
# custom:
#   id: ISTIO-TRAFFIC-001
#   version: 1.1.0
#   severity: medium
#   action: deny
#   since: 2026.11.0
#   kinds:
#   - group: networking.istio.io
#     kind: VirtualService
#     versions: [v1alpha3, v1beta1, v1]
#   remediation: |
#     Set `timeout` on every HTTP route (for example `timeout: 15s`), at most the
#     configured maximum (60s by default). At admission the webhook adds the
#     default timeout to a route that has none.
package meshguard.istio.traffic_001

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

# The HTTP routes that forward: `route` present, no delegate (the mutation's
# set; the deny bodies test the routes in place, which costs less than
# reading a shared set: a reference to a rule walks OPA's rule tree).
_forwarding contains [i, route] if {
	some i, route in kube.obj.spec.http
	route.route != false
	not route.delegate
}

# No timeout: absent or null (what the mutation fills in), or 0s (disabled).
# One else chain (it stops at the first branch that holds) ending in false.
_no_timeout(route) if {
	object.get(route, "timeout", null) == null
} else if {
	not route.timeout
} else if {
	time.parse_duration_ns(route.timeout) == 0
} else := false

# Each body reads the forwarding routes, tests them, and tests _applies,
# which the engine has always decided, last.
deny contains f if {
	some i, route in kube.obj.spec.http
	route.route != false
	object.get(route, "delegate", false) == false # not route.delegate (route is an object here)
	_no_timeout(route)
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("VirtualService %s/%s: HTTP route %d has no timeout, so a stuck upstream holds requests forever; set one (default %s)", [kube.namespace, kube.name, i, config.params.route.defaultTimeout]),
		["spec", "http", i],
	)
}

deny contains f if {
	some i, route in kube.obj.spec.http
	timeout := route.timeout
	route.route != false
	object.get(route, "delegate", false) == false # not route.delegate
	limit := config.params.route.maxTimeout
	time.parse_duration_ns(timeout) > time.parse_duration_ns(limit)
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("VirtualService %s/%s: HTTP route %d has timeout %s, above the maximum %s", [kube.namespace, kube.name, i, timeout, limit]),
		["spec", "http", i, "timeout"],
	)
}

# Mutation: the default timeout on every forwarding route that has none. A
# value the user wrote (even 0s, which the deny rule reports) is kept.
mutate contains {"path": ["spec", "http", i, "timeout"], "value": config.params.route.defaultTimeout} if {
	_applies == true
	some [i, route] in _forwarding
	object.get(route, "timeout", null) == null
}
