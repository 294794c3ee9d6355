# METADATA
# title: "DestinationRule: no non-Istio or unverified TLS"
# description: |
#   `tls.mode` SIMPLE or MUTUAL towards an in-mesh host replaces Istio's
#   SPIFFE mTLS with ordinary TLS: the server sees no peer identity and
#   principal-based authorization stops working. `insecureSkipVerify: true`
#   anywhere turns off CA and SAN verification of the TLS the sidecar
#   originates, so egress traffic can be intercepted. Checked at the top-level
#   traffic policy, its port-level settings, and the same two places in every
#   subset. A missing `caCertificates` is not flagged: the proxy then verifies
#   against the OS trust store. Hosts in the root namespace are left to
#   SIMPLE/MUTUAL: istiod and the gateways there terminate TLS themselves
#   (Istio's multicluster samples reach istiod with `mode: SIMPLE`).
# custom:
#   id: ISTIO-TLS-002
#   version: 1.0.0
#   severity: high
#   action: deny
#   since: 2026.12.0
#   kinds:
#   - group: networking.istio.io
#     kind: DestinationRule
#     versions: [v1alpha3, v1beta1, v1]
#   remediation: |
#     For in-mesh hosts delete the `tls` block (auto mTLS) or set
#     `mode: ISTIO_MUTUAL`. For external hosts keep verification on: remove
#     `insecureSkipVerify` and set `subjectAltNames` (and `caCertificates` or
#     `credentialName` for a private CA).
package meshguard.istio.tls_002

import data.meshguard.lib.finding
import data.meshguard.lib.istio
import data.meshguard.lib.kube

# The object is of a kind in this package's METADATA. The engine evaluates a
# package only for those kinds (kube.indexed); under conftest or opa eval,
# where every package sees every object, the METADATA is read. Truth tests
# are written `== true` or `!= false`: OPA allocates a variable to test a
# bare term.
_applies if kube.indexed == true

else if kube.applies(rego.metadata.chain())

_non_istio := {"SIMPLE", "MUTUAL"}

# A service in the root namespace: istiod or a gateway, which terminate TLS.
_control_plane(host) if istio.host_namespace(host) == istio.root_namespace

# The cheapest, most selective tests first: the host is looked up only for
# a SIMPLE or MUTUAL mode.
deny contains f if {
	_applies == true
	some [p, tls] in _tls
	tls.mode in _non_istio
	host := kube.obj.spec.host
	istio.in_mesh_host(host)
	not _control_plane(host)
	f := finding.new(
		rego.metadata.chain(),
		sprintf("DestinationRule %s/%s uses tls.mode %s to in-mesh host %s, which replaces Istio mTLS: the server sees no workload identity; use ISTIO_MUTUAL or drop the tls block", [kube.namespace, kube.name, tls.mode, host]),
		array.concat(p, ["mode"]),
	)
}

deny contains f if {
	_applies == true
	some [p, tls] in _tls
	tls.insecureSkipVerify == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("DestinationRule %s/%s sets tls.insecureSkipVerify for host %s, so the server certificate is not verified; remove it and set subjectAltNames", [kube.namespace, kube.name, kube.obj.spec.host]),
		array.concat(p, ["insecureSkipVerify"]),
	)
}

# Every client TLS block with its path: of the top-level traffic policy and
# its port-level settings, and the same two places in every subset. Each
# place is read directly (no intermediate set of traffic policies).
_tls contains [["spec", "trafficPolicy", "tls"], tls] if {
	tls := kube.obj.spec.trafficPolicy.tls
	tls != false
}

_tls contains [["spec", "trafficPolicy", "portLevelSettings", i, "tls"], setting.tls] if {
	some i, setting in kube.obj.spec.trafficPolicy.portLevelSettings
	setting.tls != false
}

_tls contains [["spec", "subsets", j, "trafficPolicy", "tls"], subset.trafficPolicy.tls] if {
	some j, subset in kube.obj.spec.subsets
	subset.trafficPolicy.tls != false
}

_tls contains [["spec", "subsets", j, "trafficPolicy", "portLevelSettings", i, "tls"], setting.tls] if {
	some j, subset in kube.obj.spec.subsets
	some i, setting in subset.trafficPolicy.portLevelSettings
	setting.tls != false
}
