# METADATA
# title: No port-level mTLS downgrade
# description: |
#   A port-level DISABLE or PERMISSIVE punches a plaintext hole under an
#   otherwise STRICT workload; checks that only read `spec.mtls.mode` miss it.
# custom:
#   id: ISTIO-MTLS-002
#   version: 1.0.0
#   severity: high
#   action: deny
#   since: 2026.11.0
#   kinds:
#   - group: security.istio.io
#     kind: PeerAuthentication
#     versions: [v1beta1, v1]
#   remediation: |
#     Remove the port from `spec.portLevelMtls` or set its mode to STRICT. If a
#     port must take plaintext for a while, exempt the object with a reason and
#     an expiry date.
package meshguard.istio.mtls_002

import data.meshguard.lib.finding
import data.meshguard.lib.kube

# The object is of a kind in this package's METADATA. The engine evaluates a
# package only for those kinds (kube.indexed); under conftest or opa eval,
# where every package sees every object, the METADATA is read. Truth tests
# are written `== true` or `!= false`: OPA allocates a variable to test a
# bare term.
_applies if kube.indexed == true

else if kube.applies(rego.metadata.chain())

# The ports first and _applies, which the engine has always decided, last.
deny contains f if {
	some port, setting in kube.obj.spec.portLevelMtls
	setting.mode in {"DISABLE", "PERMISSIVE"}
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("PeerAuthentication %s/%s sets port %v to mtls mode %s, which accepts plaintext on that port", [kube.namespace, kube.name, port, setting.mode]),
		["spec", "portLevelMtls", sprintf("%v", [port]), "mode"],
	)
}
