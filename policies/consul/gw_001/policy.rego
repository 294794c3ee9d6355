# METADATA
# title: Consul IngressGateway without wildcard services, with TLS
# description: |
#   A listener service named `*` forwards to every service of the mesh
#   (Consul allows it on http listeners): the whole mesh is published at the
#   edge, denied. Denied too: a `tlsMinVersion` of TLSv1_0 or TLSv1_1 on the
#   gateway or a listener. Warned: a listener without TLS (neither the
#   gateway's `tls` nor its own is enabled or has SDS certificates).
# custom:
#   id: CONSUL-GW-001
#   version: 1.0.0
#   severity: high
#   action: deny
#   since: 2026.12.0
#   kinds:
#   - group: consul.hashicorp.com
#     kind: IngressGateway
#     versions: [v1alpha1]
#   remediation: |
#     List the services the gateway exposes by name (with their `hosts`), turn
#     TLS on (`spec.tls.enabled: true` or per listener, or SDS certificates) and
#     set `tlsMinVersion: TLSv1_2` or higher.
package meshguard.consul.gw_001

import data.meshguard.lib.finding
import data.meshguard.lib.kube

# The object is of a kind in this package's METADATA. The engine evaluates a
# package only for those kinds (kube.indexed); under conftest or opa eval,
# where every package sees every object, the METADATA is read. Truth tests
# are written `== true` or `!= false`: OPA allocates a variable to test a
# bare term.
_applies if kube.indexed == true

else if kube.applies(rego.metadata.chain())

_ref := sprintf("IngressGateway %s/%s", [kube.namespace, kube.name])

# Each body tests the object first and _applies, which the engine has always
# decided, last.
deny contains f if {
	some i, listener in kube.obj.spec.listeners
	some j, service in listener.services
	service.name == "*"
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s listener %d (port %v) forwards to every service (*), which publishes the whole mesh; list the services by name", [_ref, i, object.get(listener, "port", "")]),
		["spec", "listeners", i, "services", j, "name"],
	)
}

# TLS settings with their paths: the gateway's and each listener's.
_tls contains [["spec", "tls"], kube.obj.spec.tls]

_tls contains [["spec", "listeners", i, "tls"], listener.tls] if some i, listener in kube.obj.spec.listeners

deny contains f if {
	some [path, tls] in _tls
	tls.tlsMinVersion in {"TLSv1_0", "TLSv1_1"}
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s allows TLS from %s at %s; set tlsMinVersion TLSv1_2 or TLSv1_3", [_ref, tls.tlsMinVersion, concat(".", [sprintf("%v", [p]) | some p in path])]),
		array.concat(path, ["tlsMinVersion"]),
	)
}

_on(tls) if {
	tls.enabled == true
} else if {
	tls.sds != false
}

warn contains f if {
	not _on(object.get(kube.obj, ["spec", "tls"], {}))
	some i, listener in kube.obj.spec.listeners
	not _on(object.get(listener, "tls", {}))
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s listener %d (port %v) serves without TLS; enable spec.tls or the listener's tls", [_ref, i, object.get(listener, "port", "")]),
		["spec", "listeners", i],
	)
}
