# METADATA
# title: No default-allow intentions
# description: |
#   ServiceIntentions for the destination `*` apply to every service that has
#   no intentions of its own. A source `*` that is allowed there (by `action:
#   allow`, or by a permission that allows without an HTTP match) is the
#   Consul spelling of mesh-wide allow-all: critical. Any other allowed source
#   of the `*` destination can reach every service: high.
# custom:
#   id: CONSUL-INTENT-001
#   version: 1.0.0
#   severity: critical
#   action: deny
#   since: 2026.12.0
#   kinds:
#   - group: consul.hashicorp.com
#     kind: ServiceIntentions
#     versions: [v1alpha1]
#   remediation: |
#     Keep the `*` destination for the deny-all baseline only (`sources: [{name:
#     "*", action: deny}]`) and allow each source on the concrete destination
#     it needs to reach, in that service's own ServiceIntentions.
package meshguard.consul.intent_001

import data.meshguard.lib.finding
import data.meshguard.lib.kube

# The object is of a kind in this package's METADATA. The engine evaluates a
# package only for those kinds (kube.indexed); under conftest or opa eval,
# where every package sees every object, the METADATA is read. Truth tests
# are written `== true` or `!= false`: OPA allocates a variable to test a
# bare term.
_applies if kube.indexed == true

else if kube.applies(rego.metadata.chain())

_wildcard_destination if kube.obj.spec.destination.name == "*"

# Where a source allows, as field paths: its action, or each permission that
# allows (unmatched: the permission has no HTTP match).
_allows contains [i, ["spec", "sources", i, "action"], true] if {
	some i, src in kube.obj.spec.sources
	src.action == "allow"
}

_allows contains [i, ["spec", "sources", i, "permissions", j], _unmatched(p)] if {
	some i, src in kube.obj.spec.sources
	some j, p in src.permissions
	p.action == "allow"
}

_unmatched(p) if count(object.get(p, "http", {})) == 0

default _unmatched(_) := false

_prefix := sprintf("ServiceIntentions %s/%s", [kube.namespace, kube.name])

# The allow-all: source * allowed without an HTTP match.
_all(i, unmatched) if {
	unmatched != false
	kube.obj.spec.sources[i].name == "*"
}

# Each body tests the destination first and _applies, which the engine has
# always decided, last.
deny contains f if {
	_wildcard_destination == true
	some [i, path, unmatched] in _allows
	_all(i, unmatched)
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s allows every source to every service (* -> *), a mesh-wide allow-all; deny * -> * and allow sources per destination", [_prefix]),
		path,
	)
}

deny contains f if {
	_wildcard_destination == true
	some [i, path, unmatched] in _allows
	src := kube.obj.spec.sources[i]
	not _all(i, unmatched)
	_applies == true
	f := finding.with_severity(
		rego.metadata.chain(),
		sprintf("%s allows source %s on the destination *, so it can reach every service without intentions of its own; allow it on the services it needs", [_prefix, object.get(src, "name", "")]),
		path,
		"high",
	)
}
