# METADATA
# title: Consul Mesh TLS floor and mesh-only egress
# description: |
#   The Mesh config entry sets the TLS versions of every sidecar. Denied: a
#   `tlsMinVersion` of TLSv1_0 or TLSv1_1 (incoming or outgoing). Warned: no
#   floor, or TLS_AUTO, which leaves it to Envoy (1.2 from Envoy 1.22, 1.0
#   before); and `transparentProxy.meshDestinationsOnly` not true, which lets
#   transparent proxies send traffic to addresses outside Consul's catalog.
#   The mutating webhook adds `tlsMinVersion: TLSv1_2` where it is absent.
# custom:
#   id: CONSUL-MESH-001
#   version: 1.0.0
#   severity: high
#   action: deny
#   since: 2026.12.0
#   kinds:
#   - group: consul.hashicorp.com
#     kind: Mesh
#     versions: [v1alpha1]
#   remediation: |
#     Set `spec.tls.incoming.tlsMinVersion` and `spec.tls.outgoing.tlsMinVersion`
#     to TLSv1_2 or TLSv1_3, and `spec.transparentProxy.meshDestinationsOnly:
#     true` (route external destinations through a terminating gateway).
package meshguard.consul.mesh_001

import data.meshguard.lib.finding
import data.meshguard.lib.kube

# The object is of a kind in this package's METADATA. The engine evaluates a
# package only for those kinds (kube.indexed); under conftest or opa eval,
# where every package sees every object, the METADATA is read. Truth tests
# are written `== true` or `!= false`: OPA allocates a variable to test a
# bare term.
_applies if kube.indexed == true

else if kube.applies(rego.metadata.chain())

_directions := ["incoming", "outgoing"]

_prefix := sprintf("Mesh %s/%s", [kube.namespace, kube.name])

# Each body reads the TLS floor of each direction (absent: "") with a
# builtin and tests _applies, which the engine has always decided, last.
deny contains f if {
	obj := kube.obj
	some direction in ["incoming", "outgoing"] # _directions
	min_version := object.get(obj, ["spec", "tls", direction, "tlsMinVersion"], "")
	min_version in {"TLSv1_0", "TLSv1_1"}
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s allows %s TLS from %s; set tlsMinVersion TLSv1_2 or TLSv1_3", [_prefix, direction, min_version]),
		["spec", "tls", direction, "tlsMinVersion"],
	)
}

warn contains f if {
	obj := kube.obj
	some direction in ["incoming", "outgoing"] # _directions
	object.get(obj, ["spec", "tls", direction, "tlsMinVersion"], "") in {"", "TLS_AUTO"}
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s sets no %s tlsMinVersion (or TLS_AUTO), so the floor is Envoy's default (TLS 1.0 before Envoy 1.22); set TLSv1_2", [_prefix, direction]),
		["spec", "tls", direction, "tlsMinVersion"],
	)
}

warn contains f if {
	not kube.obj.spec.transparentProxy.meshDestinationsOnly == true
	_applies == true
	f := finding.with_severity(
		rego.metadata.chain(),
		sprintf("%s does not set transparentProxy.meshDestinationsOnly, so transparent proxies may reach addresses outside the Consul catalog; set it to true", [_prefix]),
		["spec", "transparentProxy", "meshDestinationsOnly"],
		"medium",
	)
}

# Mutation (RULES.md): the TLS floor where none is written (TLS_AUTO, a
# value the user wrote, is kept and stays warned).
mutate contains {"path": ["spec", "tls", direction, "tlsMinVersion"], "value": "TLSv1_2"} if {
	_applies == true
	some direction in _directions
	object.get(kube.obj, ["spec", "tls", direction, "tlsMinVersion"], null) == null
}
