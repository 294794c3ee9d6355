# METADATA
# title: ServiceEntry host and export scope
# description: |
#   An egress allow-list entry should name what it allows. A wildcard host
#   over fewer than 3 labels (`*.example.com`, `*.com`) or over a shared
#   provider's domain (`*.amazonaws.com`, `istio.broadWildcardDomains`)
#   admits every tenant of that domain. A ServiceEntry outside the mesh
#   without `exportTo`, or exported to `*`, is visible to every namespace,
#   so one team's egress exception becomes everyone's.
# custom:
#   id: ISTIO-EGRESS-002
#   version: 1.0.0
#   severity: medium
#   action: warn
#   since: 2026.12.0
#   kinds:
#   - group: networking.istio.io
#     kind: ServiceEntry
#     versions: [v1alpha3, v1beta1, v1]
#   remediation: |
#     List the exact external hosts (`s3.eu-west-1.amazonaws.com`, not
#     `*.amazonaws.com`) and set `exportTo: ["."]` (or the namespaces that need
#     the entry).
package meshguard.istio.egress_002

import data.meshguard.lib.config
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

_external if object.get(_spec, "location", "MESH_EXTERNAL") == "MESH_EXTERNAL"

_ref := sprintf("ServiceEntry %s/%s", [kube.namespace, kube.name])

# A wildcard host is broad when its fixed part ("amazonaws.com" for
# "*.amazonaws.com", "" for "*") has fewer than 3 labels or is a shared
# provider domain.
_broad(host) if {
	count([l | some l in split(trim_prefix(trim_prefix(host, "*"), "."), "."); l != ""]) < 3
} else if {
	lower(trim_prefix(trim_prefix(host, "*"), ".")) in {lower(d) | some d in config.params.istio.broadWildcardDomains}
}

# Each body tests the spec first and _applies, which the engine has always
# decided, last.
warn contains f if {
	some i, host in _spec.hosts
	startswith(host, "*")
	_broad(host)
	_external == true
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s allows the wildcard host %s, which admits any host of that domain; list the exact hosts", [_ref, host]),
		["spec", "hosts", i],
	)
}

warn contains f if {
	not _spec.exportTo
	_external == true
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s sets no exportTo, so every namespace can use it; set exportTo [\".\"] or the namespaces that need it", [_ref]),
		["spec"],
	)
}

warn contains f if {
	some i, ns in _spec.exportTo
	ns == "*"
	_external == true
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s is exported to every namespace (\"*\"); export it to \".\" or the namespaces that need it", [_ref]),
		["spec", "exportTo", i],
	)
}
