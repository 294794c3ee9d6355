# METADATA
# title: MESH_EXTERNAL ServiceEntry with resolution NONE must pin addresses
# description: |
#   A ServiceEntry outside the mesh (`location` MESH_EXTERNAL, the default)
#   with `resolution` NONE (the default) forwards by the original destination
#   IP. Without `addresses`, or with `0.0.0.0/0` or `::/0` among them, a TCP,
#   TLS or protocol-less port then admits traffic to any IP on that port
#   (`0.0.0.0:<port>`), which turns one egress entry into an open door (for
#   TLS, to any IP that a client reaches with a matching SNI). Addresses
#   istiod allocated (`status.addresses`) count as pinned.
# custom:
#   id: ISTIO-EGRESS-001
#   version: 1.0.0
#   severity: high
#   action: deny
#   since: 2026.12.0
#   kinds:
#   - group: networking.istio.io
#     kind: ServiceEntry
#     versions: [v1alpha3, v1beta1, v1]
#   remediation: |
#     Set `resolution: DNS` (or STATIC with endpoints) so the hosts decide where
#     traffic goes, or list the external IP ranges in `spec.addresses`.
package meshguard.istio.egress_001

import data.meshguard.lib.finding
import data.meshguard.lib.kube

# The object is of a kind in this package's METADATA. The engine evaluates a
# package only for those kinds (kube.indexed); under conftest or opa eval,
# where every package sees every object, the METADATA is read. Truth tests
# are written `== true` or `!= false`: OPA allocates a variable to test a
# bare term.
_applies if kube.indexed == true

else if kube.applies(rego.metadata.chain())

_spec := object.get(kube.obj, "spec", {})

# Ports that pass by IP alone: TCP, TLS or no protocol (Istio reads the
# protocol case-insensitively).
_open_ports contains port.number if {
	some port in _spec.ports
	upper(object.get(port, "protocol", "")) in {"", "TCP", "TLS"}
}

_ref := sprintf("ServiceEntry %s/%s", [kube.namespace, kube.name])

_port_list := concat(", ", [sprintf("%v", [n]) | some n in sort(_open_ports)])

_ports := sprintf("port %s", [_port_list]) if count(_open_ports) == 1

else := sprintf("ports %s", [_port_list])

# Addresses istiod allocated (IP autoallocation, status.addresses) pin the
# entry as well as spec.addresses.
_allocated if count(object.get(kube.obj, ["status", "addresses"], [])) > 0

# Each body tests the spec first, with builtins on a local (resolution NONE
# is the selective test: most entries resolve by DNS), and _applies, which
# the engine has always decided, last. An entry is external unless its
# location says otherwise.
deny contains f if {
	spec := _spec
	object.get(spec, "resolution", "NONE") == "NONE"
	object.get(spec, "location", "MESH_EXTERNAL") == "MESH_EXTERNAL"
	count(object.get(spec, "addresses", [])) == 0
	not _allocated
	count(_open_ports) > 0
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s has resolution NONE and no addresses, so traffic to any IP is allowed on %s; set resolution DNS or list the addresses", [_ref, _ports]),
		_where,
	)
}

_where := ["spec", "resolution"] if _spec.resolution

else := ["spec"]

deny contains f if {
	spec := _spec
	object.get(spec, "resolution", "NONE") == "NONE"
	object.get(spec, "location", "MESH_EXTERNAL") == "MESH_EXTERNAL"
	some i, address in spec.addresses
	address in {"0.0.0.0/0", "::/0"} # any IP
	count(_open_ports) > 0
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s has resolution NONE and address %s, so traffic to any IP is allowed on %s; list only the external IP ranges", [_ref, address, _ports]),
		["spec", "addresses", i],
	)
}
