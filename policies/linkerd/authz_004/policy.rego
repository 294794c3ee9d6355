# METADATA
# title: No wildcard or unauthenticated authentications
# description: |
#   Authentications that re-open what a Server and a default-deny policy
#   closed. Denied: the identity `"*"` (every meshed client, all-authenticated
#   in disguise) in a MeshTLSAuthentication or a ServerAuthorization; a
#   ServerAuthorization with `client.unauthenticated: true`, or with
#   `meshTLS.unauthenticatedTLS: true` outside the Linkerd namespace; a
#   NetworkAuthentication for `0.0.0.0/0` or `::/0` that is the only
#   authentication of an AuthorizationPolicy (in the inventory), and such a
#   policy. Warned: a domain-wide identity suffix (`*.cluster.local`; one
#   namespace, `*.<ns>.serviceaccount.identity.linkerd.<domain>`, is fine);
#   an `identityRefs` entry for a whole Namespace or for every ServiceAccount
#   of one (no name); any other all-networks NetworkAuthentication; an
#   AuthorizationPolicy that requires only NetworkAuthentications (IP
#   addresses, no identity).
# custom:
#   id: LINKERD-AUTHZ-004
#   version: 1.0.0
#   severity: high
#   action: deny
#   since: 2026.12.0
#   kinds:
#   - {group: policy.linkerd.io, kind: MeshTLSAuthentication, versions: [v1alpha1]}
#   - {group: policy.linkerd.io, kind: NetworkAuthentication, versions: [v1alpha1]}
#   - {group: policy.linkerd.io, kind: AuthorizationPolicy, versions: [v1alpha1]}
#   - {group: policy.linkerd.io, kind: ServerAuthorization, versions: [v1alpha1, v1beta1]}
#   remediation: |
#     Name the client identities (`<sa>.<ns>.serviceaccount.identity.linkerd.<domain>`)
#     or ServiceAccounts that need access, and require a MeshTLSAuthentication
#     (or a ServiceAccount) in every AuthorizationPolicy; use networks only to
#     narrow an identity-based policy further.
package meshguard.linkerd.authz_004

import data.meshguard.lib.config
import data.meshguard.lib.finding
import data.meshguard.lib.kube
import data.meshguard.lib.linkerd

# The object is of a kind in this package's METADATA. The engine evaluates a
# package only for those kinds (kube.indexed); under conftest or opa eval,
# where every package sees every object, the METADATA is read.
_applies if kube.indexed

else if kube.applies(rego.metadata.chain())

_is(kind) if {
	kube.kind == kind
	kube.group == "policy.linkerd.io"
}

_ref := sprintf("%s %s/%s", [kube.kind, kube.namespace, kube.name])

# [identity, path] of the identities the object authorizes.
_identities contains [id, ["spec", "identities", i]] if {
	_is("MeshTLSAuthentication")
	some i, id in kube.obj.spec.identities
}

_identities contains [id, ["spec", "client", "meshTLS", "identities", i]] if {
	_is("ServerAuthorization")
	some i, id in kube.obj.spec.client.meshTLS.identities
}

# "*.<ns>.serviceaccount.identity.linkerd.<trust domain>": every ServiceAccount of one namespace.
_one_namespace(id) if regex.match(`^\*\.[a-z0-9]([-a-z0-9]*[a-z0-9])?\.serviceaccount\.identity\.linkerd\.[^*]+$`, id)

# (a)
deny contains f if {
	_applies
	some [id, path] in _identities
	id == "*"
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s authorizes the identity \"*\", every meshed client; name the client identities", [_ref]),
		path,
	)
}

# (b)
warn contains f if {
	_applies
	some [id, path] in _identities
	id != "*"
	contains(id, "*")
	not _one_namespace(id)
	f := finding.with_severity(
		rego.metadata.chain(),
		sprintf("%s authorizes %q, the identities of more than one namespace; name the client identities or one namespace (*.<ns>.serviceaccount.identity.linkerd.<domain>)", [_ref, id]),
		path,
		"medium",
	)
}

# (c)
_broad_ref(ref) := sprintf("every ServiceAccount of namespace %s", [object.get(ref, "namespace", kube.namespace)]) if {
	ref.kind == "ServiceAccount"
	not ref.name
}

_broad_ref(ref) := sprintf("every workload of namespace %s", [object.get(ref, "name", kube.namespace)]) if ref.kind == "Namespace"

warn contains f if {
	_applies
	_is("MeshTLSAuthentication")
	some i, ref in kube.obj.spec.identityRefs
	what := _broad_ref(ref)
	f := finding.with_severity(
		rego.metadata.chain(),
		sprintf("%s identityRefs[%d] authorizes %s; name the ServiceAccounts", [_ref, i, what]),
		["spec", "identityRefs", i],
		"medium",
	)
}

# (d)
deny contains f if {
	_applies
	_is("ServerAuthorization")
	kube.obj.spec.client.unauthenticated == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s authorizes unauthenticated clients, meshed or not; require meshTLS identities or ServiceAccounts", [_ref]),
		["spec", "client", "unauthenticated"],
	)
}

deny contains f if {
	_applies
	_is("ServerAuthorization")
	kube.obj.spec.client.meshTLS.unauthenticatedTLS == true
	kube.namespace != config.params.linkerd.namespace
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s authorizes TLS clients without a mesh identity, which only the Linkerd control plane (namespace %s) needs; require meshTLS identities or ServiceAccounts", [_ref, config.params.linkerd.namespace]),
		["spec", "client", "meshTLS", "unauthenticatedTLS"],
	)
}

# (e) and (f)
_all_networks := {"0.0.0.0/0", "::/0"}

# [index, cidr] of the first network that is every address.
_everywhere(na) := [[i, n.cidr] |
	some i, n in na.spec.networks
	n.cidr in _all_networks
][0]

_na_key := "NetworkAuthentication.policy.linkerd.io"

_ap_key := "AuthorizationPolicy.policy.linkerd.io"

_is_network_ref(ref) if {
	ref.kind == "NetworkAuthentication"
	object.get(ref, "group", "policy.linkerd.io") == "policy.linkerd.io"
}

# The AuthorizationPolicies (by "namespace/name") whose only authentication
# is this NetworkAuthentication.
_sole_users contains sprintf("%s/%s", [ns, name]) if {
	some ns, aps in object.get(data.inventory, ["objects", _ap_key], {})
	some name, ap in aps
	[ref] := ap.spec.requiredAuthenticationRefs
	_is_network_ref(ref)
	ref.name == kube.name
	object.get(ref, "namespace", ns) == kube.namespace
}

deny contains f if {
	_applies
	_is("NetworkAuthentication")
	[i, cidr] := _everywhere(kube.obj)
	count(_sole_users) > 0
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s authorizes every address (%s) and is the only authentication of AuthorizationPolicy %s; require a mesh identity", [_ref, cidr, concat(", ", sort(_sole_users))]),
		["spec", "networks", i, "cidr"],
	)
}

warn contains f if {
	_applies
	_is("NetworkAuthentication")
	[i, cidr] := _everywhere(kube.obj)
	count(_sole_users) == 0
	f := finding.with_severity(
		rego.metadata.chain(),
		sprintf("%s authorizes every address (%s); list the client networks", [_ref, cidr]),
		["spec", "networks", i, "cidr"],
		"medium",
	)
}

_refs := object.get(kube.obj, ["spec", "requiredAuthenticationRefs"], [])

_only_networks if {
	count(_refs) > 0
	every ref in _refs {
		_is_network_ref(ref)
	}
}

# The policy's only authentication, a NetworkAuthentication of the inventory
# that authorizes every address.
_sole_everywhere := [ref.name, cidr] if {
	[ref] := _refs
	_is_network_ref(ref)
	na := linkerd.objects(_na_key, object.get(ref, "namespace", kube.namespace))[ref.name]
	[_, cidr] := _everywhere(na)
}

deny contains f if {
	_applies
	_is("AuthorizationPolicy")
	[name, cidr] := _sole_everywhere
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s requires only NetworkAuthentication %s, which authorizes every address (%s); require a mesh identity", [_ref, name, cidr]),
		["spec", "requiredAuthenticationRefs"],
	)
}

warn contains f if {
	_applies
	_is("AuthorizationPolicy")
	_only_networks
	not _sole_everywhere
	f := finding.with_severity(
		rego.metadata.chain(),
		sprintf("%s requires only NetworkAuthentications (client IP addresses, no identity); also require a MeshTLSAuthentication or ServiceAccount", [_ref]),
		["spec", "requiredAuthenticationRefs"],
		"medium",
	)
}
