# METADATA
# title: Gateway certificates via credentialName; no passthrough on public gateways
# description: |
#   A Gateway server that terminates TLS (`tls.mode` SIMPLE, MUTUAL or
#   OPTIONAL_MUTUAL) without `credentialName` or `credentialNames` reads its
#   key and certificate from files mounted into the gateway pod: they do not
#   rotate without a restart and sit in volumes (a warning, medium). On a
#   public gateway (`istio.publicGatewaySelectors`), `tls.mode` PASSTHROUGH or
#   AUTO_PASSTHROUGH forwards TLS the gateway never inspects, and
#   AUTO_PASSTHROUGH routes on an SNI that names in-mesh services directly
#   (it is meant for east-west gateways): denied (high).
# custom:
#   id: ISTIO-GW-003
#   version: 1.0.0
#   severity: high
#   action: deny
#   since: 2026.12.0
#   kinds:
#   - group: networking.istio.io
#     kind: Gateway
#     versions: [v1alpha3, v1beta1, v1]
#   remediation: |
#     Put the certificate in a Secret and reference it with
#     `tls.credentialName`. On an internet-facing gateway terminate TLS
#     (`mode: SIMPLE` or `MUTUAL`) instead of passing it through; keep
#     AUTO_PASSTHROUGH to east-west gateways.
package meshguard.istio.gw_003

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

_has_credential(tls) if {
	tls.credentialName != ""
} else if {
	count(tls.credentialNames) > 0
}

# Each body tests the servers first and _applies, which the engine has always
# decided, last.
warn contains f if {
	some i, server in kube.obj.spec.servers
	server.tls.mode in {"SIMPLE", "MUTUAL", "OPTIONAL_MUTUAL"} # terminating
	not _has_credential(server.tls)
	_applies == true
	f := finding.with_severity(
		rego.metadata.chain(),
		sprintf("Gateway %s/%s terminates TLS on port %v with certificate files instead of a credentialName, so they do not rotate without a restart; reference a Secret with tls.credentialName", [kube.namespace, kube.name, server.port.number]),
		["spec", "servers", i, "tls"],
		"medium",
	)
}

deny contains f if {
	some i, server in kube.obj.spec.servers
	server.tls.mode in {"PASSTHROUGH", "AUTO_PASSTHROUGH"}
	istio.public_gateway == true
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("public Gateway %s/%s passes TLS through (%s) on port %v, so the edge never inspects it and its SNI can address in-mesh services; terminate TLS with mode SIMPLE or MUTUAL", [kube.namespace, kube.name, server.tls.mode, server.port.number]),
		["spec", "servers", i, "tls", "mode"],
	)
}
