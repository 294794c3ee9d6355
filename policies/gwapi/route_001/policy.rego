# METADATA
# title: HTTPRoute request timeout set and bounded
# description: |
#   When `timeouts.request` is unset, "request timeout behavior is
#   implementation-specific", and `0s` disables it. Every rule of an HTTPRoute
#   that forwards (has `backendRefs`; redirects are skipped) is warned
#   without a request timeout (absent or `0s`), unless the route carries
#   Linkerd's `timeout.linkerd.io/request` annotation, and denied above
#   `route.maxTimeout`. The mutating webhook adds `route.defaultTimeout` as
#   `timeouts.request` of a Gateway API route's forwarding rule without one
#   (standard channel from Gateway API v1.2.0); Linkerd's own HTTPRoute kind is
#   not mutated.
# custom:
#   id: GWAPI-ROUTE-001
#   version: 1.0.0
#   severity: medium
#   action: warn
#   since: 2026.12.0
#   kinds:
#   - {group: gateway.networking.k8s.io, kind: HTTPRoute, versions: [v1, v1beta1]}
#   - {group: policy.linkerd.io, kind: HTTPRoute, versions: [v1alpha1, v1beta1, v1beta2, v1beta3]}
#   remediation: |
#     Set `timeouts.request` on every rule that forwards (for example
#     `timeouts: {request: 15s}`), at most the configured maximum (60s by
#     default). At admission the webhook adds the default to a rule that has none.
package meshguard.gwapi.route_001

import data.meshguard.lib.config
import data.meshguard.lib.duration
import data.meshguard.lib.finding
import data.meshguard.lib.gwapi
import data.meshguard.lib.kube

# The object is of a kind in this package's METADATA. The engine evaluates a
# package only for those kinds (kube.indexed); under conftest or opa eval,
# where every package sees every object, the METADATA is read. Truth tests
# are written `== true` or `!= false`: OPA allocates a variable to test a
# bare term.
_applies if kube.indexed == true

else if kube.applies(rego.metadata.chain())

_linkerd_key := "timeout.linkerd.io/request"

# Each body tests the route rule first, with local variables (a reference to
# a rule or to kube.obj costs a walk of OPA's rule tree; a local does not),
# and _applies, which the engine has always decided, last. A rule forwards
# when it has backendRefs and no RequestRedirect filter (gwapi.forwarding,
# read in place: the set of all forwarding rules costs more than the tests).
warn contains f if {
	obj := kube.obj
	object.get(obj, ["metadata", "annotations", "timeout.linkerd.io/request"], false) == false # not ...[_linkerd_key]
	some i, rule in obj.spec.rules
	count(rule.backendRefs) > 0
	not _redirects(rule)

	# duration.unset(object.get(rule, "timeouts", {}), "request"), inlined: no
	# request timeout that is set and parses to a non-zero duration.
	count([t | t := rule.timeouts.request; t; not time.parse_duration_ns(t) == 0]) == 0
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("HTTPRoute %s/%s rule %d sets no timeouts.request, so how long a request may take is up to the implementation; set one (default %s)", [kube.namespace, kube.name, i, config.params.route.defaultTimeout]),
		["spec", "rules", i],
	)
}

deny contains f if {
	some i, rule in kube.obj.spec.rules
	request := rule.timeouts.request
	limit := config.params.route.maxTimeout
	time.parse_duration_ns(request) > time.parse_duration_ns(limit)
	count(rule.backendRefs) > 0
	not _redirects(rule)
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("HTTPRoute %s/%s rule %d has timeouts.request %s, above the maximum %s", [kube.namespace, kube.name, i, request, limit]),
		["spec", "rules", i, "timeouts", "request"],
	)
}

# Mutation (RULES.md): the default request timeout on a forwarding rule of a
# Gateway API route without one, unless its backendRequest timeout is longer
# (the CRD rejects backendRequest > request). A value written, even 0s, is kept.
mutate contains {"path": ["spec", "rules", i, "timeouts", "request"], "value": config.params.route.defaultTimeout} if {
	_applies == true
	kube.group == gwapi.group
	not kube.obj.metadata.annotations[_linkerd_key]
	some [i, rule] in gwapi.forwarding(kube.obj.spec)
	object.get(rule, ["timeouts", "request"], null) == null
	not _backend_request_too_long(rule)
}

_backend_request_too_long(rule) if duration.ns(rule.timeouts.backendRequest) > duration.ns(config.params.route.defaultTimeout)

# The rule has a RequestRedirect filter.
_redirects(rule) if {
	some f in rule.filters
	f.type == "RequestRedirect"
}
