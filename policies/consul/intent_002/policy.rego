# METADATA
# title: No wildcard sources or unconstrained L7 allows
# description: |
#   On ServiceIntentions for a concrete destination, a source named `*` with
#   `action: allow` lets every service of the mesh reach the destination:
#   denied. Warned: an allowed source whose namespace is `*` (Enterprise:
#   every namespace), and a permission that allows without constraining the
#   request (no `http` match, or only `pathPrefix: /`, and no `jwt`).
# custom:
#   id: CONSUL-INTENT-002
#   version: 1.0.0
#   severity: high
#   action: deny
#   since: 2026.12.0
#   kinds:
#   - group: consul.hashicorp.com
#     kind: ServiceIntentions
#     versions: [v1alpha1]
#   remediation: |
#     Name each source service that needs the destination (and its namespace),
#     and constrain L7 allows with an `http` match (path and methods) or a
#     `jwt` requirement.
package meshguard.consul.intent_002

import data.meshguard.lib.finding
import data.meshguard.lib.kube

# The object is of a kind in this package's METADATA. The engine evaluates a
# package only for those kinds (kube.indexed); under conftest or opa eval,
# where every package sees every object, the METADATA is read. Truth tests
# are written `== true` or `!= false`: OPA allocates a variable to test a
# bare term.
_applies if kube.indexed == true

else if kube.applies(rego.metadata.chain())

_destination := kube.obj.spec.destination.name

_concrete if {
	_destination != false
	_destination != "*"
}

_prefix := sprintf("ServiceIntentions %s/%s", [kube.namespace, kube.name])

# The source allows: by its action or by one of its permissions.
_allows(src) if {
	src.action == "allow"
} else if {
	some p in src.permissions
	p.action == "allow"
}

# Each body tests the object first and _applies, which the engine has always
# decided, last.
deny contains f if {
	_concrete == true
	some i, src in kube.obj.spec.sources
	src.name == "*"
	src.action == "allow"
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s allows every service (source *) to reach %s; name the sources that need it", [_prefix, _destination]),
		["spec", "sources", i, "name"],
	)
}

warn contains f if {
	_concrete == true
	some i, src in kube.obj.spec.sources
	src.namespace == "*"
	_allows(src)
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s allows source %s from every namespace (namespace *) to reach %s; name the namespace", [_prefix, object.get(src, "name", ""), _destination]),
		["spec", "sources", i, "namespace"],
	)
}

# A permission constrains the request with an HTTP match other than the
# whole path space, or with a JWT requirement.
# One else chain: it stops at the first branch that holds.
_constrained(p) if {
	p.jwt != false
} else if {
	p.http.pathPrefix != false
	p.http.pathPrefix != "/"
} else if {
	count(object.get(p, ["http", "methods"], [])) > 0
} else if {
	some k, v in p.http
	not k in {"pathPrefix", "methods"}
	count(v) > 0
}

warn contains f if {
	_concrete == true
	some i, src in kube.obj.spec.sources
	some j, p in src.permissions
	p.action == "allow"
	not _constrained(p)
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s: permission %d of source %s allows every request to %s (no path, method, header or JWT constraint); add an http match or a jwt requirement", [_prefix, j, object.get(src, "name", ""), _destination]),
		["spec", "sources", i, "permissions", j],
	)
}
