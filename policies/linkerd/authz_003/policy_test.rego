package meshguard.linkerd.authz_003_test

import data.meshguard.linkerd.authz_003

_server(spec) := {
	"apiVersion": "policy.linkerd.io/v1beta3",
	"kind": "Server",
	"metadata": {"name": "authors", "namespace": "booksapp", "labels": {"app": "authors"}},
	"spec": object.union({"podSelector": {"matchLabels": {"app": "authors"}}, "port": "service"}, spec),
}

_ap(name, target) := {
	"apiVersion": "policy.linkerd.io/v1alpha1",
	"kind": "AuthorizationPolicy",
	"metadata": {"name": name, "namespace": "booksapp"},
	"spec": {"targetRef": target, "requiredAuthenticationRefs": [{"name": "webapp", "kind": "ServiceAccount"}]},
}

_sa(server) := {
	"apiVersion": "policy.linkerd.io/v1beta1",
	"kind": "ServerAuthorization",
	"metadata": {"name": "authors-sa", "namespace": "booksapp"},
	"spec": {"server": server, "client": {"meshTLS": {"serviceAccounts": [{"name": "webapp"}]}}},
}

_route(api_version, kind, name, parent) := {
	"apiVersion": api_version,
	"kind": kind,
	"metadata": {"name": name, "namespace": "booksapp"},
	"spec": {"parentRefs": [parent]},
}

_server_ref := {"group": "policy.linkerd.io", "kind": "Server", "name": "authors"}

# An inventory of objects: {"<Kind>.<group>": [objects]}.
_inv(byKind) := {"namespaces": {}, "objects": {key: {"booksapp": {o.metadata.name: o | some o in objs}} | some key, objs in byKind}}

_aps(aps) := _inv({"AuthorizationPolicy.policy.linkerd.io": aps})

_f(msg, path) := {"msg": sprintf("LINKERD-AUTHZ-003: %s", [msg]), "id": "LINKERD-AUTHZ-003", "severity": "medium", "path": path}

_unreached := _f(
	"Server booksapp/authors is not reached by any AuthorizationPolicy or ServerAuthorization (for the Server, a route attached to it, or its namespace), so all traffic to its port is denied; authorize its clients",
	["spec"],
)

test_warn_server_without_authorization if {
	authz_003.warn == {_unreached} with input as _server({}) with data.inventory as _inv({})
	authz_003.warn == {_unreached} with input as _server({"accessPolicy": "deny"}) with data.inventory as _inv({})

	# A policy for another Server, or in another namespace, does not count.
	other := _ap("other", {"group": "policy.linkerd.io", "kind": "Server", "name": "books"})
	authz_003.warn == {_unreached} with input as _server({}) with data.inventory as _aps([other])
	elsewhere := _ap("elsewhere", {"group": "policy.linkerd.io", "kind": "Server", "name": "authors", "namespace": "other"})
	authz_003.warn == {_unreached} with input as _server({}) with data.inventory as _aps([elsewhere])
}

test_warn_server_without_authorization_under_conftest if {
	# No data.inventory at all: the same verdict as an empty one.
	authz_003.warn == {_unreached} with input as _server({})
}

test_server_silent_without_inventory if {
	authz_003.warn == set() with input as _server({}) with data.meshguard.engine.inventory as false
}

test_server_with_permissive_access_policy_is_left_to_authz_002 if {
	authz_003.warn == set() with input as _server({"accessPolicy": "all-authenticated"}) with data.inventory as _inv({})
}

test_allow_server_targeted_by_a_policy if {
	authz_003.warn == set() with input as _server({}) with data.inventory as _aps([_ap("authors", _server_ref)])

	# The group may be left out for a Server.
	authz_003.warn == set() with input as _server({}) with data.inventory as _aps([_ap("authors", {"kind": "Server", "name": "authors"})])
}

test_allow_server_reached_through_its_namespace if {
	authz_003.warn == set() with input as _server({}) with data.inventory as _aps([_ap("ns", {"kind": "Namespace", "name": "booksapp"})])
	authz_003.warn == {_unreached} with input as _server({}) with data.inventory as _aps([_ap("ns", {"kind": "Namespace", "name": "other"})])
}

test_allow_server_reached_through_a_route if {
	every route in [
		_route("policy.linkerd.io/v1beta3", "HTTPRoute", "authors-get", {"group": "policy.linkerd.io", "kind": "Server", "name": "authors"}),
		_route("gateway.networking.k8s.io/v1", "HTTPRoute", "authors-get", {"group": "policy.linkerd.io", "kind": "Server", "name": "authors"}),
	] {
		group := split(route.apiVersion, "/")[0]
		authz_003.warn == set() with input as _server({}) with data.inventory as _inv({
			"AuthorizationPolicy.policy.linkerd.io": [_ap("authors-get", {"group": group, "kind": "HTTPRoute", "name": "authors-get"})],
			sprintf("HTTPRoute.%s", [group]): [route],
		})
	}
	grpc := _route("gateway.networking.k8s.io/v1", "GRPCRoute", "authors-rpc", {"group": "policy.linkerd.io", "kind": "Server", "name": "authors"})
	authz_003.warn == set() with input as _server({}) with data.inventory as _inv({
		"AuthorizationPolicy.policy.linkerd.io": [_ap("authors-rpc", {"kind": "GRPCRoute", "name": "authors-rpc"})],
		"GRPCRoute.gateway.networking.k8s.io": [grpc],
	})

	# A route attached to another parent does not reach the Server.
	to_service := _route("gateway.networking.k8s.io/v1", "HTTPRoute", "authors-get", {"group": "core", "kind": "Service", "name": "authors"})
	authz_003.warn == {_unreached} with input as _server({}) with data.inventory as _inv({
		"AuthorizationPolicy.policy.linkerd.io": [_ap("authors-get", {"kind": "HTTPRoute", "name": "authors-get"})],
		"HTTPRoute.gateway.networking.k8s.io": [to_service],
	})
}

test_allow_server_with_a_server_authorization if {
	authz_003.warn == set() with input as _server({}) with data.inventory as _inv({"ServerAuthorization.policy.linkerd.io": [_sa({"name": "authors"})]})
	authz_003.warn == set() with input as _server({}) with data.inventory as _inv({"ServerAuthorization.policy.linkerd.io": [_sa({"selector": {"matchLabels": {"app": "authors"}}})]})
	authz_003.warn == {_unreached} with input as _server({}) with data.inventory as _inv({"ServerAuthorization.policy.linkerd.io": [_sa({"selector": {"matchLabels": {"app": "books"}}})]})
}

test_warn_policy_with_a_missing_target if {
	authz_003.warn == {_f(
		"AuthorizationPolicy booksapp/authors-get targets HTTPRoute booksapp/does-not-exist, which does not exist, so it authorizes nothing",
		["spec", "targetRef", "name"],
	)} with input as _ap("authors-get", {"group": "policy.linkerd.io", "kind": "HTTPRoute", "name": "does-not-exist"})
		with data.inventory as _inv({})
	authz_003.warn == {_f(
		"AuthorizationPolicy booksapp/authors-policy targets Server booksapp/authors, which does not exist, so it authorizes nothing",
		["spec", "targetRef", "name"],
	)} with input as _ap("authors-policy", _server_ref) with data.inventory as _inv({})
	authz_003.warn == {_f(
		"AuthorizationPolicy booksapp/authors-rpc targets GRPCRoute booksapp/rpc, which does not exist, so it authorizes nothing",
		["spec", "targetRef", "name"],
	)} with input as _ap("authors-rpc", {"group": "gateway.networking.k8s.io", "kind": "GRPCRoute", "name": "rpc"}) with data.inventory as _inv({})

	# An HTTPRoute of the other group does not count when the group is given.
	route := _route("gateway.networking.k8s.io/v1", "HTTPRoute", "authors-get", {"kind": "Server", "name": "authors"})
	count(authz_003.warn) == 1 with input as _ap("authors-get", {"group": "policy.linkerd.io", "kind": "HTTPRoute", "name": "authors-get"})
		with data.inventory as _inv({"HTTPRoute.gateway.networking.k8s.io": [route]})
}

test_allow_policy_with_an_existing_target if {
	authz_003.warn == set() with input as _ap("authors-policy", _server_ref) with data.inventory as _inv({"Server.policy.linkerd.io": [_server({})]})
	route := _route("gateway.networking.k8s.io/v1", "HTTPRoute", "authors-get", {"kind": "Server", "name": "authors"})
	authz_003.warn == set() with input as _ap("authors-get", {"kind": "HTTPRoute", "name": "authors-get"})
		with data.inventory as _inv({"HTTPRoute.gateway.networking.k8s.io": [route]})

	# Namespace targets and unknown kinds are not judged here.
	authz_003.warn == set() with input as _ap("ns", {"kind": "Namespace", "name": "booksapp"}) with data.inventory as _inv({})
	authz_003.warn == set() with input as _ap("x", {"group": "example.com", "kind": "Thing", "name": "x"}) with data.inventory as _inv({})
}

test_warn_server_authorization_for_a_missing_server if {
	authz_003.warn == {_f(
		"ServerAuthorization booksapp/authors-sa is for Server booksapp/authors, which does not exist, so it authorizes nothing",
		["spec", "server", "name"],
	)} with input as _sa({"name": "authors"}) with data.inventory as _inv({})
	authz_003.warn == {_f(
		"ServerAuthorization booksapp/authors-sa selects no Server in namespace booksapp, so it authorizes nothing",
		["spec", "server", "selector"],
	)} with input as _sa({"selector": {"matchLabels": {"app": "books"}}}) with data.inventory as _inv({"Server.policy.linkerd.io": [_server({})]})
}

test_allow_server_authorization_for_an_existing_server if {
	inv := _inv({"Server.policy.linkerd.io": [_server({})]})
	authz_003.warn == set() with input as _sa({"name": "authors"}) with data.inventory as inv
	authz_003.warn == set() with input as _sa({"selector": {"matchLabels": {"app": "authors"}}}) with data.inventory as inv
	authz_003.warn == set() with input as _sa({"selector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["authors", "books"]}]}}) with data.inventory as inv
}

test_other_kinds_are_not_judged if {
	authz_003.warn == set() with input as object.union(_server({}), {"apiVersion": "example.com/v1"}) with data.inventory as _inv({})
}
