# METADATA
# title: Gateway TLS version floor and ciphers
# description: |
#   TLS 1.0 and 1.1 and CBC or non-forward-secret cipher suites are
#   deprecated; Istio's own API warns that versions below TLSV1_2 have serious
#   security risks. A Gateway server whose `tls.minProtocolVersion` or
#   `tls.maxProtocolVersion` is TLSV1_0 or TLSV1_1, or whose `tls.cipherSuites`
#   lists a non-AEAD or non-forward-secret suite (`DES-CBC3-SHA`, `AES128-SHA`,
#   `AES256-SHA`, `AES128-GCM-SHA256`, `AES256-GCM-SHA384`,
#   `ECDHE-<ECDSA|RSA>-AES<128|256>-SHA`), is denied.
# custom:
#   id: ISTIO-GW-002
#   version: 1.0.0
#   severity: high
#   action: deny
#   since: 2026.12.0
#   kinds:
#   - group: networking.istio.io
#     kind: Gateway
#     versions: [v1alpha3, v1beta1, v1]
#   remediation: |
#     Set `tls.minProtocolVersion: TLSV1_2` (or TLSV1_3), leave
#     `maxProtocolVersion` unset or at TLSV1_2 or above, and list only ECDHE
#     suites with AES-GCM or ChaCha20-Poly1305 (or drop `cipherSuites` for
#     Envoy's defaults).
package meshguard.istio.gw_002

import data.meshguard.lib.finding
import data.meshguard.lib.kube

# The object is of a kind in this package's METADATA. The engine evaluates a
# package only for those kinds (kube.indexed); under conftest or opa eval,
# where every package sees every object, the METADATA is read. Truth tests
# are written `== true` or `!= false`: OPA allocates a variable to test a
# bare term.
_applies if kube.indexed == true

else if kube.applies(rego.metadata.chain())

_weak_suite(suite) if {
	suite in {"DES-CBC3-SHA", "AES128-SHA", "AES256-SHA", "AES128-GCM-SHA256", "AES256-GCM-SHA384"}
} else if {
	regex.match(`^ECDHE-(ECDSA|RSA)-AES(128|256)-SHA$`, suite)
}

# Each body tests the servers first and _applies, which the engine has always
# decided, last.
deny contains f if {
	some i, server in kube.obj.spec.servers
	some field in ["minProtocolVersion", "maxProtocolVersion"]
	version := server.tls[field]
	version in {"TLSV1_0", "TLSV1_1"} # below 1.2
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("Gateway %s/%s sets tls.%s %s on port %v, which allows TLS below 1.2; use TLSV1_2 or later", [kube.namespace, kube.name, field, version, server.port.number]),
		["spec", "servers", i, "tls", field],
	)
}

deny contains f if {
	some i, server in kube.obj.spec.servers
	some j, suite in server.tls.cipherSuites
	_weak_suite(suite)
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("Gateway %s/%s allows cipher suite %s on port %v, which is not AEAD with forward secrecy; use ECDHE suites with AES-GCM or ChaCha20-Poly1305", [kube.namespace, kube.name, suite, server.port.number]),
		["spec", "servers", i, "tls", "cipherSuites", j],
	)
}
