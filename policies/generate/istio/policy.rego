# METADATA
# title: Zero-trust defaults for Istio namespaces
# description: |
#   Every namespace enrolled in Istio (`istio-injection=enabled`, an
#   `istio.io/rev` label, or `istio.io/dataplane-mode=ambient`) gets a
#   namespace-wide STRICT PeerAuthentication named `default` and an
#   allow-nothing AuthorizationPolicy named `allow-nothing` (`spec: {}`), unless the user already has an equivalent: their own
#   namespace-wide STRICT PeerAuthentication, their own namespace-wide
#   allow-nothing policy, or their own object with the same name (never
#   overwritten). The objects returned are the desired managed defaults; the
#   controller creates the missing ones and updates managed ones whose
#   template changed. A Namespace annotated `meshguard.io/defaults: disabled`
#   gets none (the engine checks that before this package runs).
# custom:
#   id: ISTIO-GEN-001
#   version: 1.1.0
#   since: 2026.11.0
package meshguard.generate.istio

import data.meshguard.lib.istio
import data.meshguard.lib.kube

_ns := kube.obj.metadata.name

_objects(kind) := object.get(data.inventory, ["objects", kind, _ns], {})

_managed(o) if o.metadata.labels["app.kubernetes.io/managed-by"] == "meshguard"

# The user's own equivalents count, with the same notion of "baseline
# present" as ISTIO-MTLS-003 and ISTIO-AUTHZ-004 (lib/istio).
_user_strict if {
	some pa in _objects("PeerAuthentication.security.istio.io")
	not _managed(pa)
	istio.strict_baseline(pa)
}

_user_allow_nothing if {
	some ap in _objects("AuthorizationPolicy.security.istio.io")
	not _managed(ap)
	istio.allow_nothing(ap)
}

_user_owns(kind, name) if not _managed(_objects(kind)[name])

generate contains {
	"apiVersion": "security.istio.io/v1",
	"kind": "PeerAuthentication",
	"metadata": {"name": "default"},
	"spec": {"mtls": {"mode": "STRICT"}},
} if {
	istio.namespace_in_mesh(kube.obj)
	not _user_strict
	not _user_owns("PeerAuthentication.security.istio.io", "default")
}

generate contains {
	"apiVersion": "security.istio.io/v1",
	"kind": "AuthorizationPolicy",
	"metadata": {"name": "allow-nothing"},
	"spec": {},
} if {
	istio.namespace_in_mesh(kube.obj)
	not _user_allow_nothing
	not _user_owns("AuthorizationPolicy.security.istio.io", "allow-nothing")
}
