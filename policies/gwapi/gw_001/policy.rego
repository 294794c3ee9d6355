# METADATA
# title: "Gateway: no public plaintext HTTP listener"
# description: |
#   On an internet-facing Gateway (a class outside
#   `gwapi.internalGatewayClasses`), an `HTTP` listener is warned when no
#   `HTTPS` listener serves its hostname (every hostname, when it has none),
#   and for each HTTPRoute attached to it (from the inventory) that does not
#   redirect every request to https with a `RequestRedirect` filter; the
#   HTTPRoute is warned too, so that a route created after its Gateway is
#   caught at admission. A `TLS` listener in `Passthrough` mode is noted
#   (severity info): the gateway cannot see or authorize what it forwards.
#   Attachment follows the parentRef (sectionName, port) and the listener's
#   `allowedRoutes.namespaces` (Same, All, or a Selector's matchLabels).
# custom:
#   id: GWAPI-GW-001
#   version: 1.0.0
#   severity: high
#   action: warn
#   since: 2026.12.0
#   kinds:
#   - {group: gateway.networking.k8s.io, kind: Gateway, versions: [v1, v1beta1]}
#   - {group: gateway.networking.k8s.io, kind: HTTPRoute, versions: [v1, v1beta1]}
#   remediation: |
#     Serve the hostname on an `HTTPS` listener (`tls.mode: Terminate` with a
#     certificate) and attach to the `HTTP` listener (by `sectionName`) only a
#     route whose rules redirect with `RequestRedirect` `scheme: https`.
package meshguard.gwapi.gw_001

import data.meshguard.lib.finding
import data.meshguard.lib.gwapi
import data.meshguard.lib.kube

# The object is of a kind in this package's METADATA. The engine evaluates a
# package only for those kinds (kube.indexed); under conftest or opa eval,
# where every package sees every object, the METADATA is read.
_applies if kube.indexed

else if kube.applies(rego.metadata.chain())

_is(kind) if {
	kube.group == gwapi.group
	kube.kind == kind
}

_http_listeners contains [i, listener] if {
	_is("Gateway")
	gwapi.public(kube.obj)
	some i, listener in kube.obj.spec.listeners
	listener.protocol == "HTTP"
}

_ref := sprintf("Gateway %s/%s", [kube.namespace, kube.name])

_hostname(listener) := object.get(listener, "hostname", "")

_host_text(listener) := "every hostname" if _hostname(listener) == ""

else := _hostname(listener)

# An HTTPS listener serves the hostname: it has none (every hostname), the
# same one, or a wildcard that matches it.
_https_covers(_) if {
	some m in kube.obj.spec.listeners
	m.protocol == "HTTPS"
	_hostname(m) == ""
}

_https_covers(h) if {
	h != ""
	some m in kube.obj.spec.listeners
	m.protocol == "HTTPS"
	_hostname(m) != ""
	glob.match(_hostname(m), ["."], h)
}

warn contains f if {
	_applies
	some [i, listener] in _http_listeners
	not _https_covers(_hostname(listener))
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s listener %s serves plaintext HTTP for %s, and no HTTPS listener serves it; add one and redirect HTTP to https", [_ref, listener.name, _host_text(listener)]),
		["spec", "listeners", i],
	)
}

# The parentRefs of inventory routes that name this Gateway, from the index
# of routes by Gateway (computed once per inventory, not once per Gateway),
# without the routes whose every rule redirects to https.
_attached contains r if {
	_http_listeners[_]
	some r in gwapi.routes_by_gateway[concat("/", [kube.namespace, kube.name])]
	r.https_redirect == false
}

_plaintext_routes[i] := routes if {
	some [i, listener] in _http_listeners
	routes := sort([sprintf("%s/%s", [r.namespace, r.name]) |
		some r in _attached
		gwapi.attaches(r.parentRef, r.namespace, kube.obj, listener)
	])
	count(routes) > 0
}

_names(routes) := concat(", ", routes) if count(routes) <= 5

else := sprintf("%s and %d more", [concat(", ", array.slice(routes, 0, 5)), count(routes) - 5])

warn contains f if {
	_applies
	kube.inventory_known
	some i, routes in _plaintext_routes
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s listener %s serves %d HTTPRoute(s) over plaintext HTTP (%s); attach only routes that redirect to https there", [_ref, kube.obj.spec.listeners[i].name, count(routes), _names(routes)]),
		["spec", "listeners", i],
	)
}

warn contains f if {
	_applies
	_is("HTTPRoute")
	some j, ref in kube.obj.spec.parentRefs
	gw := gwapi.gateway(ref, kube.namespace)
	gwapi.public(gw)
	some listener in gw.spec.listeners
	listener.protocol == "HTTP"
	gwapi.attaches(ref, kube.namespace, gw, listener)
	not gwapi.redirects_to_https(kube.obj)
	f := finding.new(
		rego.metadata.chain(),
		sprintf("HTTPRoute %s/%s attaches to the plaintext HTTP listener %s of the internet-facing Gateway %s/%s without redirecting to https; attach it to an HTTPS listener (sectionName) or redirect", [kube.namespace, kube.name, listener.name, gw.metadata.namespace, gw.metadata.name]),
		["spec", "parentRefs", j],
	)
}

warn contains f if {
	_applies
	_is("Gateway")
	gwapi.public(kube.obj)
	some i, listener in kube.obj.spec.listeners
	listener.protocol == "TLS"
	listener.tls.mode == "Passthrough"
	f := finding.with_severity(
		rego.metadata.chain(),
		sprintf("%s listener %s passes TLS through, so the gateway cannot see or authorize what it forwards to %s", [_ref, listener.name, _host_text(listener)]),
		["spec", "listeners", i, "tls", "mode"],
		"info",
	)
}
