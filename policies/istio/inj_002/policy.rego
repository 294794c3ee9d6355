# METADATA
# title: Namespaces enrolled in the mesh
# description: |
#   A namespace outside the mesh is outside every other Istio rule: its pods
#   get no sidecar, so the PeerAuthentication, AuthorizationPolicy,
#   RequestAuthentication and Sidecar objects written for it protect nothing.
#   A Namespace is warned when it holds such objects (read from the
#   inventory; policies that select a public gateway are left out, as
#   gateways are injected by their own label) but is not enrolled: none of
#   `istio-injection=enabled`, `istio.io/rev` or
#   `istio.io/dataplane-mode=ambient`, or `istio-injection=disabled`. A
#   Namespace that sets both `istio-injection` and `istio.io/rev` is warned
#   too when `istio-injection` is `enabled`: the two injectors disagree about
#   it (with `disabled`, neither injects). Namespaces without Istio
#   objects are not judged (a cluster has many that are not meant to be
#   meshed), nor are the root namespace and the excluded namespaces.
# custom:
#   id: ISTIO-INJ-002
#   version: 1.0.0
#   severity: medium
#   action: warn
#   since: 2026.12.0
#   kinds:
#   - {group: "", kind: Namespace, versions: [v1]}
#   remediation: |
#     Label the Namespace `istio-injection: enabled` (or `istio.io/rev: <revision>`,
#     or `istio.io/dataplane-mode: ambient`) and restart its workloads, or
#     delete the Istio policies it holds. Keep only one of `istio-injection`
#     and `istio.io/rev`.
package meshguard.istio.inj_002

import data.meshguard.lib.config
import data.meshguard.lib.finding
import data.meshguard.lib.istio
import data.meshguard.lib.kube

# The object is of a kind in this package's METADATA. The engine evaluates a
# package only for those kinds (kube.indexed); under conftest or opa eval,
# where every package sees every object, the METADATA is read.
_applies if kube.indexed

else if kube.applies(rego.metadata.chain())

_labels := object.get(kube.obj, ["metadata", "labels"], {})

_judged if {
	_applies
	kube.name != istio.root_namespace
}

# istio.namespace_in_mesh(kube.obj), once per object for every rule that asks.
_enrolled if istio.obj_in_mesh

# The Istio objects that act on the namespace's own workloads.
_workload_kinds := [
	"PeerAuthentication.security.istio.io",
	"AuthorizationPolicy.security.istio.io",
	"RequestAuthentication.security.istio.io",
	"Sidecar.networking.istio.io",
]

_for_gateway(obj) if {
	some sel in config.params.istio.publicGatewaySelectors
	every k, v in sel {
		obj.spec.selector.matchLabels[k] == v
	}
}

_for_gateway(obj) if {
	some ref in obj.spec.targetRefs
	ref.kind == "Gateway"
}

_for_gateway(obj) if obj.spec.targetRef.kind == "Gateway"

_policies := sort([sprintf("%s %s/%s", [split(key, ".")[0], kube.name, name]) |
	objects := data.inventory.objects # read once, not once per kind
	some key in _workload_kinds
	some name, obj in objects[key][kube.name]
	not _for_gateway(obj)
])

# Some such policy exists (the names are built only for the finding).
_has_policies if {
	objects := data.inventory.objects
	some key in _workload_kinds
	some _, obj in objects[key][kube.name]
	not _for_gateway(obj)
}

_named(policies) := policies[0] if count(policies) == 1

else := sprintf("%s and %d more", [policies[0], count(policies) - 1])

warn contains f if {
	not _enrolled
	_has_policies
	_judged
	kube.inventory_known
	count(_policies) > 0
	[why, path] := _why
	f := finding.new(
		rego.metadata.chain(),
		sprintf("Namespace %s %s, so its pods get no sidecar and %s protect%s nothing; label it istio-injection=enabled (or istio.io/rev)", [kube.name, why, _named(_policies), _s]),
		path,
	)
}

_s := "s" if count(_policies) == 1

else := ""

_why := ["sets istio-injection=disabled", ["metadata", "labels", "istio-injection"]] if {
	_labels["istio-injection"] == "disabled"
} else := ["is not enrolled in the mesh", ["metadata", "labels"]] if {
	kube.obj.metadata.labels
} else := ["is not enrolled in the mesh", ["metadata"]]

warn contains f if {
	kube.obj.metadata.labels["istio-injection"] == "enabled" # _labels, spelled out
	kube.obj.metadata.labels["istio.io/rev"]
	_judged
	f := finding.new(
		rego.metadata.chain(),
		sprintf("Namespace %s sets both istio-injection=enabled and istio.io/rev (%s), which select different injectors; keep one", [kube.name, _labels["istio.io/rev"]]),
		["metadata", "labels", "istio.io/rev"],
	)
}
