# METADATA
# title: Server accessPolicy must not be permissive
# description: |
#   A Server turns a port into an allow-list: traffic needs an authorization
#   unless `spec.accessPolicy` (Server `v1beta3`, default `deny`) says
#   otherwise. `all-unauthenticated` and `cluster-unauthenticated` admit
#   clients that are not meshed, so the port is open while it looks
#   protected: denied. `audit` (every request allowed, only logged) and
#   `all-authenticated` (any meshed identity, from other clusters too) warn.
# custom:
#   id: LINKERD-AUTHZ-002
#   version: 1.0.0
#   severity: high
#   action: deny
#   since: 2026.12.0
#   kinds:
#   - {group: policy.linkerd.io, kind: Server, versions: [v1alpha1, v1beta1, v1beta2, v1beta3]}
#   remediation: |
#     Remove `spec.accessPolicy` or set it to `deny`, and allow the clients the
#     port needs with an AuthorizationPolicy that targets the Server.
package meshguard.linkerd.authz_002

import data.meshguard.lib.finding
import data.meshguard.lib.kube

# The object is of a kind in this package's METADATA. The engine evaluates a
# package only for those kinds (kube.indexed); under conftest or opa eval,
# where every package sees every object, the METADATA is read.
_applies if kube.indexed

else if kube.applies(rego.metadata.chain())

_policy := kube.obj.spec.accessPolicy

_ref := sprintf("Server %s/%s", [kube.namespace, kube.name])

_why := {
	"all-unauthenticated": "admits any client, meshed or not",
	"cluster-unauthenticated": "admits any client in the cluster networks, meshed or not",
	"audit": "allows every request and only logs the ones it would deny",
	"all-authenticated": "admits any meshed identity, from other clusters too",
}

deny contains f if {
	_applies
	_policy in {"all-unauthenticated", "cluster-unauthenticated"}
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s sets accessPolicy %s, which %s; use deny and authorize clients with an AuthorizationPolicy", [_ref, _policy, _why[_policy]]),
		["spec", "accessPolicy"],
	)
}

warn contains f if {
	_applies
	_policy in {"audit", "all-authenticated"}
	f := finding.with_severity(
		rego.metadata.chain(),
		sprintf("%s sets accessPolicy %s, which %s; use deny and authorize clients with an AuthorizationPolicy", [_ref, _policy, _why[_policy]]),
		["spec", "accessPolicy"],
		"medium",
	)
}
