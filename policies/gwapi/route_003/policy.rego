# METADATA
# title: GRPCRoute timeouts via the implementation's mechanism
# description: |
#   GRPCRoute has no `timeouts` or `retry` field in any Gateway API channel,
#   so gRPC calls run without deadlines unless something else sets them.
#   Warned: a route with a parent Service in a Linkerd-meshed namespace
#   (`linkerd.io/inject: enabled` on the Namespace) that sets neither
#   `timeout.linkerd.io/request` nor `timeout.linkerd.io/response` (Services
#   are not read, so a timeout set only on the Service is not seen); a route
#   managed by Istio (a parent Service in an Istio-enrolled or ambient
#   namespace, or a parent Gateway of an `istio*` class), where no per-route
#   timeout can be expressed. The Namespaces and Gateways are read from the
#   inventory. The mutating webhook adds `timeout.linkerd.io/request:
#   <route.defaultTimeout>` to a Linkerd-meshed route without either annotation.
# custom:
#   id: GWAPI-ROUTE-003
#   version: 1.0.0
#   severity: medium
#   action: warn
#   since: 2026.12.0
#   kinds:
#   - {group: gateway.networking.k8s.io, kind: GRPCRoute, versions: [v1, v1alpha2]}
#   remediation: |
#     Under Linkerd, annotate the route `timeout.linkerd.io/request: 15s` (and
#     bound retries with `retry.linkerd.io/*`). Under Istio, bound the call on
#     the server side or in the clients' deadlines, or route that host with an
#     HTTPRoute or VirtualService, which have timeouts.
package meshguard.gwapi.route_003

import data.meshguard.lib.config
import data.meshguard.lib.finding
import data.meshguard.lib.gwapi
import data.meshguard.lib.istio
import data.meshguard.lib.kube

# The object is of a kind in this package's METADATA. The engine evaluates a
# package only for those kinds (kube.indexed); under conftest or opa eval,
# where every package sees every object, the METADATA is read. Truth tests
# are written `== true` or `!= false`: OPA allocates a variable to test a
# bare term.
_applies if kube.indexed == true

else if kube.applies(rego.metadata.chain())

_prefix := sprintf("GRPCRoute %s/%s", [kube.namespace, kube.name])

_timeout_keys := ["timeout.linkerd.io/request", "timeout.linkerd.io/response"]

_has_linkerd_timeout if {
	some k in _timeout_keys
	kube.obj.metadata.annotations[k] != false
}

# Parent Services, with the index of their parentRef and their namespace.
_services contains [j, ref, ns] if {
	some j, ref in kube.obj.spec.parentRefs
	gwapi.is_service(ref, kube.namespace)
	[_, _, ns, _] := gwapi.parent(ref, kube.namespace)
}

_linkerd_meshed(ns) if data.inventory.namespaces[ns].metadata.annotations["linkerd.io/inject"] in {"enabled", "ingress"}

_istio_namespace(ns) if {
	istio.namespace_injected(data.inventory.namespaces[ns])
} else if {
	data.inventory.namespaces[ns].metadata.labels["istio.io/dataplane-mode"] == "ambient"
}

_linkerd_parents contains [j, ref, ns] if {
	some [j, ref, ns] in _services
	_linkerd_meshed(ns)
}

# Each body reads the parents first and tests _applies, which the engine has
# always decided, last.
warn contains f if {
	some [_, ref, ns] in _linkerd_parents
	not _has_linkerd_timeout
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s routes gRPC for Service %s/%s, meshed by Linkerd, without timeout.linkerd.io/request or /response; GRPCRoute has no timeouts field, so set the annotation (default %s)", [_prefix, ns, ref.name, config.params.route.defaultTimeout]),
		["metadata", "annotations"],
	)
}

# Istio-managed parents: [index, what].
_istio_parents contains [j, sprintf("Service %s/%s", [ns, ref.name])] if {
	some [j, ref, ns] in _services
	_istio_namespace(ns)
	not _linkerd_meshed(ns)
}

_istio_parents contains [j, sprintf("Gateway %s/%s (class %s)", [gw.metadata.namespace, gw.metadata.name, gw.spec.gatewayClassName])] if {
	some j, ref in kube.obj.spec.parentRefs
	gw := gwapi.gateway(ref, kube.namespace)
	startswith(gw.spec.gatewayClassName, "istio")
}

warn contains f if {
	some [j, what] in _istio_parents
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s attaches to %s, managed by Istio, which has no per-route timeout for GRPCRoute; bound the calls on the server or in client deadlines, or use an HTTPRoute or VirtualService with a timeout", [_prefix, what]),
		["spec", "parentRefs", j],
	)
}

# Mutation (RULES.md, Linkerd only): the default request timeout annotation.
mutate contains {"path": ["metadata", "annotations", "timeout.linkerd.io/request"], "value": config.params.route.defaultTimeout} if {
	_applies == true
	not _has_linkerd_timeout
	count(_linkerd_parents) > 0
}
