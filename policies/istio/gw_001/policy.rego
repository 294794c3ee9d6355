# METADATA
# title: "Public Gateway: no plaintext HTTP, no catch-all hosts"
# description: |
#   On a Gateway whose `spec.selector` holds one of
#   `istio.publicGatewaySelectors` (internet-facing), a server with protocol
#   HTTP, HTTP2, GRPC or GRPC-WEB that does not redirect to HTTPS
#   (`tls.httpsRedirect: true`) carries credentials and tokens in clear over
#   the internet: denied (high). A host `*`, `*/*` or `<namespace>/*` lets any
#   VirtualService bound to the gateway publish any host at the public edge:
#   a warning (medium).
# custom:
#   id: ISTIO-GW-001
#   version: 1.0.0
#   severity: high
#   action: deny
#   since: 2026.12.0
#   kinds:
#   - group: networking.istio.io
#     kind: Gateway
#     versions: [v1alpha3, v1beta1, v1]
#   remediation: |
#     Serve HTTPS (protocol HTTPS with `tls.mode: SIMPLE` and a
#     `credentialName`) and set `tls.httpsRedirect: true` on the port 80
#     server. List the published hosts, e.g. `shop/www.example.com`.
package meshguard.istio.gw_001

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

# Each body tests the servers first, then whether the Gateway is public, and
# _applies, which the engine has always decided, last.
deny contains f if {
	some i, server in kube.obj.spec.servers
	protocol := upper(server.port.protocol)
	protocol in {"HTTP", "HTTP2", "GRPC", "GRPC-WEB"} # plaintext
	not server.tls.httpsRedirect == true
	istio.public_gateway == true
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("public Gateway %s/%s serves %s on port %v without redirecting to HTTPS, so requests cross the internet in plaintext; set tls.httpsRedirect: true or serve HTTPS", [kube.namespace, kube.name, protocol, server.port.number]),
		["spec", "servers", i, "port", "protocol"],
	)
}

# `*`, `*/*`, `<ns>/*` (also `./*`): any host. Each ends with "*", which the
# caller tests first.
_catch_all(host) if {
	host == "*"
} else if {
	parts := split(host, "/")
	count(parts) == 2
	parts[1] == "*"
}

warn contains f if {
	some i, server in kube.obj.spec.servers
	some j, host in server.hosts
	endswith(host, "*")
	_catch_all(host)
	istio.public_gateway == true
	_applies == true
	f := finding.with_severity(
		rego.metadata.chain(),
		sprintf("public Gateway %s/%s accepts any host (%s) on port %v, so any VirtualService bound to it publishes its hosts at the edge; list the hosts", [kube.namespace, kube.name, host, server.port.number]),
		["spec", "servers", i, "hosts", j],
		"medium",
	)
}
