# METADATA
# title: Consul mTLS must not be permissive
# description: |
#   In permissive mode "connections to the service port do not require mutual
#   TLS" and "intentions are not enforced for non-mTLS connections". Denied:
#   `mutualTLSMode: permissive` on ProxyDefaults (critical: the mesh-wide
#   default) or ServiceDefaults (high), and a Mesh that sets
#   `allowEnablingPermissiveMutualTLS: true` (high), which lets services turn
#   it on. An absent or empty `mutualTLSMode` means strict.
# custom:
#   id: CONSUL-MTLS-001
#   version: 1.0.0
#   severity: critical
#   action: deny
#   since: 2026.12.0
#   kinds:
#   - {group: consul.hashicorp.com, kind: ProxyDefaults, versions: [v1alpha1]}
#   - {group: consul.hashicorp.com, kind: ServiceDefaults, versions: [v1alpha1]}
#   - {group: consul.hashicorp.com, kind: Mesh, versions: [v1alpha1]}
#   remediation: |
#     Remove `mutualTLSMode` (or set it to `strict`) and leave
#     `allowEnablingPermissiveMutualTLS` unset on the Mesh. Services that still
#     take plaintext during a migration get a time-limited exemption.
package meshguard.consul.mtls_001

import data.meshguard.lib.finding
import data.meshguard.lib.kube

# The object is of a kind in this package's METADATA. The engine evaluates a
# package only for those kinds (kube.indexed); under conftest or opa eval,
# where every package sees every object, the METADATA is read. Truth tests
# are written `== true` or `!= false`: OPA allocates a variable to test a
# bare term.
_applies if kube.indexed == true

else if kube.applies(rego.metadata.chain())

# Each body tests the object first and _applies, which the engine has always
# decided, last.
deny contains f if {
	lower(kube.obj.spec.mutualTLSMode) == "permissive"
	severity := {"ProxyDefaults": "critical", "ServiceDefaults": "high"}[kube.kind]
	_applies == true
	f := finding.with_severity(
		rego.metadata.chain(),
		sprintf("%s %s/%s sets mutualTLSMode permissive: the service port then accepts plaintext and intentions are not enforced for it; use strict", [kube.kind, kube.namespace, kube.name]),
		["spec", "mutualTLSMode"],
		severity,
	)
}

deny contains f if {
	kube.obj.spec.allowEnablingPermissiveMutualTLS == true
	kube.kind == "Mesh"
	_applies == true
	f := finding.with_severity(
		rego.metadata.chain(),
		sprintf("Mesh %s/%s sets allowEnablingPermissiveMutualTLS, which lets ProxyDefaults and ServiceDefaults accept plaintext; remove it", [kube.namespace, kube.name]),
		["spec", "allowEnablingPermissiveMutualTLS"],
		"high",
	)
}
