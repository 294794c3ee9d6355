# METADATA
# title: Gateway API helpers
# description: |
#   Route and Gateway facts shared by the Gateway API rules: which rules
#   forward, how a parentRef names its parent, which listeners of a Gateway a
#   route attaches to, and which Gateways are internet-facing.
package meshguard.lib.gwapi

import data.meshguard.lib.config

group := "gateway.networking.k8s.io"

# The route rules that forward to backends, with their indices: they have
# backendRefs and no RequestRedirect filter.
forwarding(spec) := {[i, rule] |
	some i, rule in spec.rules
	count(object.get(rule, "backendRefs", [])) > 0
	not _redirects(rule)
}

_redirects(rule) if {
	some f in rule.filters
	f.type == "RequestRedirect"
}

# Every rule of the route redirects to https.
redirects_to_https(route) if {
	count(object.get(route, ["spec", "rules"], [])) > 0
	every rule in route.spec.rules {
		some f in rule.filters
		f.type == "RequestRedirect"
		f.requestRedirect.scheme == "https"
	}
}

# The parent a parentRef names: [group, kind, namespace, name], with the
# defaults (group gateway.networking.k8s.io, kind Gateway, the route's
# namespace). The core group may be written "" or "core".
parent(ref, route_ns) := [_ref_group(ref), object.get(ref, "kind", "Gateway"), object.get(ref, "namespace", route_ns), ref.name]

_ref_group(ref) := "" if object.get(ref, "group", group) in {"", "core"}

else := object.get(ref, "group", group)

# The HTTPRoute parentRefs in the inventory that name each Gateway, keyed
# "<namespace>/<name>" of the Gateway: a set of {"namespace", "name" (of the
# route), "parentRef", "https_redirect" (every rule of the route redirects to
# https)}. The engine computes it once per inventory (see
# pkg/policy/index.go); elsewhere routes_by_gateway computes it when read.

# METADATA
# description: HTTPRoute parentRefs by the Gateway they name, once per inventory.
# custom:
#   index: true
computed_routes_by_gateway[key] contains entry if {
	some ns, by_name in object.get(data.inventory.objects, "HTTPRoute.gateway.networking.k8s.io", {})
	some name, route in by_name
	some ref in route.spec.parentRefs
	[g, k, gw_ns, gw_name] := parent(ref, ns)
	k == "Gateway"
	g == group
	key := concat("/", [gw_ns, gw_name])
	entry := {"namespace": ns, "name": name, "parentRef": ref, "https_redirect": _redirect_flag(route)}
}

_redirect_flag(route) if redirects_to_https(route)

else := false

routes_by_gateway := v if {
	v := data.meshguard.index.lib.gwapi.computed_routes_by_gateway
} else := computed_routes_by_gateway

is_service(ref, route_ns) if {
	[g, k, _, _] := parent(ref, route_ns)
	g == ""
	k == "Service"
}

# The Gateway a parentRef names, from the inventory.
gateway(ref, route_ns) := gw if {
	[g, k, ns, name] := parent(ref, route_ns)
	g == group
	k == "Gateway"
	gw := data.inventory.objects["Gateway.gateway.networking.k8s.io"][ns][name]
}

# A Gateway of a class that is not in gwapi.internalGatewayClasses.
public(gw) if not gw.spec.gatewayClassName in {c | some c in config.params.gwapi.internalGatewayClasses}

# A parentRef of a route in route_ns attaches to the listener of the
# Gateway gw: its sectionName and port, when set, name the listener, and the
# listener admits routes from route_ns (allowedRoutes.namespaces: Same by
# default, All, or a Selector, judged by the labels of the Namespace when it
# is in the inventory and otherwise assumed to admit).
attaches(ref, route_ns, gw, listener) if {
	object.get(ref, "sectionName", listener.name) == listener.name
	object.get(ref, "port", listener.port) == listener.port
	_admits(listener, route_ns, gw.metadata.namespace)
}

_admits(listener, route_ns, gw_ns) if {
	object.get(listener, ["allowedRoutes", "namespaces", "from"], "Same") == "Same"
	route_ns == gw_ns
}

_admits(listener, _, _) if listener.allowedRoutes.namespaces.from == "All"

_admits(listener, route_ns, _) if {
	listener.allowedRoutes.namespaces.from == "Selector"
	not data.inventory.namespaces[route_ns]
}

_admits(listener, route_ns, _) if {
	listener.allowedRoutes.namespaces.from == "Selector"
	labels := object.get(data.inventory.namespaces[route_ns], ["metadata", "labels"], {})
	every k, v in object.get(listener, ["allowedRoutes", "namespaces", "selector", "matchLabels"], {}) {
		labels[k] == v
	}
}
