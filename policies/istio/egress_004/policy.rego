# METADATA
# title: Namespace Sidecar scopes egress (no `*/*`)
# description: |
#   A Sidecar's egress `hosts` decide which services its proxies can reach
#   and hold config for. An entry `*/*` scopes nothing: every host of every
#   namespace (a warning; scoping alone is not a traffic block, hence the low
#   severity). More than one Sidecar without a `workloadSelector` in one
#   namespace is undefined behaviour in Istio: each of them is denied,
#   naming the others, which are read from the inventory (offline: the
#   inputs; in the cluster: the cache).
# custom:
#   id: ISTIO-EGRESS-004
#   version: 1.0.0
#   severity: low
#   action: warn
#   since: 2026.12.0
#   kinds:
#   - group: networking.istio.io
#     kind: Sidecar
#     versions: [v1alpha3, v1beta1, v1]
#   remediation: |
#     Keep one selector-less Sidecar per namespace whose egress lists the
#     namespaces and hosts the workloads use, e.g. `hosts: ["./*",
#     "istio-system/*"]`; give every other Sidecar a `workloadSelector`.
package meshguard.istio.egress_004

import data.meshguard.lib.finding
import data.meshguard.lib.kube

# The object is of a kind in this package's METADATA. The engine evaluates a
# package only for those kinds (kube.indexed); under conftest or opa eval,
# where every package sees every object, the METADATA is read. Truth tests
# are written `== true` or `!= false`: OPA allocates a variable to test a
# bare term.
_applies if kube.indexed == true

else if kube.applies(rego.metadata.chain())

_ref := sprintf("Sidecar %s/%s", [kube.namespace, kube.name])

# Each body tests the object first and _applies, which the engine has always
# decided, last.
warn contains f if {
	some i, listener in kube.obj.spec.egress
	some j, host in listener.hosts
	host == "*/*"
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s lets its proxies reach every host of every namespace (egress hosts \"*/*\"); list the namespaces and hosts they use", [_ref]),
		["spec", "egress", i, "hosts", j],
	)
}

# A Sidecar without workload labels applies to the whole namespace.
_namespace_wide(sidecar) if count(object.get(sidecar, ["spec", "workloadSelector", "labels"], {})) == 0

# Deny: a second selector-less Sidecar is undefined behaviour whichever came
# first, so the verdict does not depend on creation order.
deny contains f if {
	_namespace_wide(kube.obj)
	kube.inventory_known == true
	others := sort([name |
		some name, other in data.inventory.objects["Sidecar.networking.istio.io"][kube.namespace]
		name != kube.name
		_namespace_wide(other)
	])
	count(others) > 0
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s has no workloadSelector and %s in the same namespace %s none either; Istio's behaviour with several namespace-wide Sidecars is undefined, so keep one", [_ref, _names(others), _has(others)]),
		_selector_path,
	)
}

_names(others) := sprintf("Sidecar %s", [others[0]]) if count(others) == 1

else := sprintf("Sidecars %s", [concat(", ", others)])

_has(others) := "has" if count(others) == 1

else := "have"

_selector_path := ["spec", "workloadSelector"] if kube.obj.spec.workloadSelector

else := ["spec"]
