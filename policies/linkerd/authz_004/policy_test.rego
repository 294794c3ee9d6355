package meshguard.linkerd.authz_004_test

import data.meshguard.linkerd.authz_004

_obj(kind, name, spec) := {
	"apiVersion": "policy.linkerd.io/v1alpha1",
	"kind": kind,
	"metadata": {"name": name, "namespace": "booksapp"},
	"spec": spec,
}

_mta(spec) := _obj("MeshTLSAuthentication", "authn", spec)

_na(networks) := _obj("NetworkAuthentication", "anywhere", {"networks": networks})

_ap(refs) := _obj("AuthorizationPolicy", "authors", {
	"targetRef": {"group": "policy.linkerd.io", "kind": "Server", "name": "authors"},
	"requiredAuthenticationRefs": refs,
})

_sa(ns, client) := {
	"apiVersion": "policy.linkerd.io/v1beta1",
	"kind": "ServerAuthorization",
	"metadata": {"name": "authors-sa", "namespace": ns},
	"spec": {"server": {"name": "authors"}, "client": client},
}

_na_ref := {"group": "policy.linkerd.io", "kind": "NetworkAuthentication", "name": "anywhere"}

_inv(objs) := {"namespaces": {}, "objects": {key: {"booksapp": {o.metadata.name: o | some o in objs; o.kind == kind}} |
	some kind in {o.kind | some o in objs}
	key := sprintf("%s.policy.linkerd.io", [kind])
}}

_f(severity, msg, path) := {"msg": sprintf("LINKERD-AUTHZ-004: %s", [msg]), "id": "LINKERD-AUTHZ-004", "severity": severity, "path": path}

test_deny_star_identity if {
	authz_004.deny == {_f("high", "MeshTLSAuthentication booksapp/authn authorizes the identity \"*\", every meshed client; name the client identities", ["spec", "identities", 1])} with input as _mta({"identities": ["web.booksapp.serviceaccount.identity.linkerd.cluster.local", "*"]})
	authz_004.deny == {_f("high", "ServerAuthorization booksapp/authors-sa authorizes the identity \"*\", every meshed client; name the client identities", ["spec", "client", "meshTLS", "identities", 0])} with input as _sa("booksapp", {"meshTLS": {"identities": ["*"]}})
	authz_004.warn == set() with input as _mta({"identities": ["*"]})
}

test_warn_domain_wide_identity_suffixes if {
	every id in ["*.cluster.local", "*.identity.linkerd.cluster.local", "*.serviceaccount.identity.linkerd.cluster.local", "web.*.serviceaccount.identity.linkerd.cluster.local"] {
		authz_004.warn == {_f("medium", sprintf("MeshTLSAuthentication booksapp/authn authorizes %q, the identities of more than one namespace; name the client identities or one namespace (*.<ns>.serviceaccount.identity.linkerd.<domain>)", [id]), ["spec", "identities", 0])} with input as _mta({"identities": [id]})
	}
	authz_004.deny == set() with input as _mta({"identities": ["*.cluster.local"]})
}

test_allow_named_identities_and_one_namespace if {
	ids := ["books.booksapp.serviceaccount.identity.linkerd.cluster.local", "*.booksapp.serviceaccount.identity.linkerd.cluster.local"]
	authz_004.deny == set() with input as _mta({"identities": ids})
	authz_004.warn == set() with input as _mta({"identities": ids})
	authz_004.warn == set() with input as _sa("booksapp", {"meshTLS": {"identities": ids}})
}

test_warn_identity_refs_for_whole_namespaces if {
	authz_004.warn == {
		_f("medium", "MeshTLSAuthentication booksapp/authn identityRefs[1] authorizes every ServiceAccount of namespace booksapp; name the ServiceAccounts", ["spec", "identityRefs", 1]),
		_f("medium", "MeshTLSAuthentication booksapp/authn identityRefs[2] authorizes every ServiceAccount of namespace other; name the ServiceAccounts", ["spec", "identityRefs", 2]),
		_f("medium", "MeshTLSAuthentication booksapp/authn identityRefs[3] authorizes every workload of namespace emojivoto; name the ServiceAccounts", ["spec", "identityRefs", 3]),
	} with input as _mta({"identityRefs": [
		{"kind": "ServiceAccount", "name": "webapp"},
		{"kind": "ServiceAccount"},
		{"kind": "ServiceAccount", "namespace": "other"},
		{"kind": "Namespace", "name": "emojivoto"},
	]})
	authz_004.warn == set() with input as _mta({"identityRefs": [{"kind": "ServiceAccount", "name": "webapp", "namespace": "other"}]})
}

test_deny_unauthenticated_server_authorizations if {
	authz_004.deny == {_f("high", "ServerAuthorization booksapp/authors-sa authorizes unauthenticated clients, meshed or not; require meshTLS identities or ServiceAccounts", ["spec", "client", "unauthenticated"])} with input as _sa("booksapp", {"unauthenticated": true})
	authz_004.deny == {_f("high", "ServerAuthorization booksapp/authors-sa authorizes TLS clients without a mesh identity, which only the Linkerd control plane (namespace linkerd) needs; require meshTLS identities or ServiceAccounts", ["spec", "client", "meshTLS", "unauthenticatedTLS"])} with input as _sa("booksapp", {"meshTLS": {"unauthenticatedTLS": true}})
}

test_allow_unauthenticated_tls_in_the_linkerd_namespace if {
	authz_004.deny == set() with input as _sa("linkerd", {"meshTLS": {"unauthenticatedTLS": true}})
	authz_004.deny == set() with input as _sa("booksapp", {"unauthenticated": false, "meshTLS": {"unauthenticatedTLS": false, "serviceAccounts": [{"name": "webapp"}]}})
}

test_deny_all_networks_as_the_only_authentication if {
	na := _na([{"cidr": "10.0.0.0/8"}, {"cidr": "0.0.0.0/0"}, {"cidr": "::/0"}])
	inv := _inv([na, _ap([_na_ref])])
	authz_004.deny == {_f("high", "NetworkAuthentication booksapp/anywhere authorizes every address (0.0.0.0/0) and is the only authentication of AuthorizationPolicy booksapp/authors; require a mesh identity", ["spec", "networks", 1, "cidr"])} with input as na with data.inventory as inv
	authz_004.warn == set() with input as na with data.inventory as inv
	authz_004.deny == {_f("high", "AuthorizationPolicy booksapp/authors requires only NetworkAuthentication anywhere, which authorizes every address (0.0.0.0/0); require a mesh identity", ["spec", "requiredAuthenticationRefs"])} with input as _ap([_na_ref]) with data.inventory as inv
	authz_004.warn == set() with input as _ap([_na_ref]) with data.inventory as inv
}

test_warn_all_networks_with_an_identity if {
	na := _na([{"cidr": "::/0"}])
	with_identity := _ap([_na_ref, {"group": "policy.linkerd.io", "kind": "MeshTLSAuthentication", "name": "authn"}])
	authz_004.warn == {_f("medium", "NetworkAuthentication booksapp/anywhere authorizes every address (::/0); list the client networks", ["spec", "networks", 0, "cidr"])} with input as na with data.inventory as _inv([na, with_identity])
	authz_004.deny == set() with input as na with data.inventory as _inv([na, with_identity])
	authz_004.deny == set() with input as with_identity with data.inventory as _inv([na, with_identity])

	# No inventory (conftest), or a policy in another namespace: a warning.
	count(authz_004.warn) == 1 with input as na
	elsewhere := object.union(_ap([object.union(_na_ref, {"namespace": "other"})]), {})
	authz_004.deny == set() with input as na with data.inventory as _inv([na, elsewhere])
}

test_warn_policies_that_require_only_networks if {
	narrow := _na([{"cidr": "10.0.0.0/8"}])
	authz_004.warn == {_f("medium", "AuthorizationPolicy booksapp/authors requires only NetworkAuthentications (client IP addresses, no identity); also require a MeshTLSAuthentication or ServiceAccount", ["spec", "requiredAuthenticationRefs"])} with input as _ap([_na_ref]) with data.inventory as _inv([narrow])

	# The NetworkAuthentication not (yet) known: still only networks.
	count(authz_004.warn) == 1 with input as _ap([_na_ref])
	authz_004.deny == set() with input as _ap([_na_ref])
	authz_004.warn == set() with input as _ap([{"kind": "ServiceAccount", "name": "webapp"}])
	authz_004.warn == set() with input as _ap([])
	authz_004.warn == set() with input as _na([{"cidr": "10.0.0.0/8"}])
}

test_other_kinds_are_not_judged if {
	authz_004.deny == set() with input as object.union(_mta({"identities": ["*"]}), {"kind": "Server"})
}
