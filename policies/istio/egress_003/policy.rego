# METADATA
# title: outboundTrafficPolicy must be REGISTRY_ONLY
# description: |
#   With `outboundTrafficPolicy.mode` ALLOW_ANY (Istio's default) a proxy
#   forwards traffic to destinations that no ServiceEntry declares, so
#   undeclared egress goes unnoticed. A Sidecar that sets ALLOW_ANY is denied.
#   The mesh config is warned when its mode is absent or ALLOW_ANY*: the
#   `mesh` key of the `istio` (or `istio-<revision>`) ConfigMap in the root
#   namespace, and `spec.meshConfig` of an IstioOperator file (a client-side
#   install input, checked offline; one that installs no istiod, such as a
#   gateway-only `profile: empty`, is judged only on an explicit mode). REGISTRY_ONLY is detection, not an
#   outbound firewall: pair it with an egress gateway and NetworkPolicy.
# custom:
#   id: ISTIO-EGRESS-003
#   version: 1.0.0
#   severity: medium
#   action: deny
#   since: 2026.12.0
#   kinds:
#   - group: networking.istio.io
#     kind: Sidecar
#     versions: [v1alpha3, v1beta1, v1]
#   - {group: "", kind: ConfigMap, versions: [v1]}
#   - {group: install.istio.io, kind: IstioOperator, versions: [v1alpha1]}
#   remediation: |
#     Set `outboundTrafficPolicy: {mode: REGISTRY_ONLY}` in the mesh config
#     (`meshConfig` of the install) and remove ALLOW_ANY from Sidecars; declare
#     the external hosts workloads need with ServiceEntries.
package meshguard.istio.egress_003

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

# Each body tests the object first and _applies, which the engine has always
# decided, last.
deny contains f if {
	kube.obj.spec.outboundTrafficPolicy.mode == "ALLOW_ANY"
	kube.kind == "Sidecar"
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("Sidecar %s/%s sets outboundTrafficPolicy.mode ALLOW_ANY, which forwards traffic to undeclared destinations; use REGISTRY_ONLY", [kube.namespace, kube.name]),
		["spec", "outboundTrafficPolicy", "mode"],
	)
}

# The mesh config ConfigMap istiod reads: istio, or istio-<revision>, in the
# root namespace, with a mesh key (istio-sidecar-injector and the other
# istio-* ConfigMaps have none).
_mesh_configmap if {
	kube.kind == "ConfigMap"
	kube.group == ""
	kube.namespace == istio.root_namespace
	regex.match(`^istio(-.+)?$`, kube.name)
	is_string(kube.obj.data.mesh)
}

# The mesh key must be a YAML mapping (or empty); anything else cannot be
# judged and is said so.
_mesh_unreadable if not yaml.is_valid(kube.obj.data.mesh)

_mesh_unreadable if {
	doc := yaml.unmarshal(kube.obj.data.mesh)
	not is_object(doc)
	doc != null
}

warn contains f if {
	_mesh_configmap == true
	_mesh_unreadable == true
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("ConfigMap %s/%s: data.mesh is not a YAML mapping, so its outboundTrafficPolicy cannot be checked", [kube.namespace, kube.name]),
		["data", "mesh"],
	)
}

# [mesh config, where findings point, what to call it]. The mesh key is one
# string, so its findings point at it; an empty key means every default.
_mesh := [doc, ["data", "mesh"], sprintf("ConfigMap %s/%s data.mesh", [kube.namespace, kube.name])] if {
	_mesh_configmap == true
	not _mesh_unreadable
	raw := yaml.unmarshal(kube.obj.data.mesh)
	doc := _or_empty(raw)
}

_or_empty(raw) := {} if raw == null

else := raw

_mesh := [object.get(kube.obj, ["spec", "meshConfig"], {}), _operator_path, sprintf("IstioOperator %s", [_operator_name])] if {
	kube.kind == "IstioOperator"
}

_operator_name := sprintf("%s/%s", [kube.namespace, _name]) if kube.namespace != ""

else := _name

_name := kube.name if kube.name != ""

else := "(unnamed)"

# An IstioOperator that installs no istiod (the empty profile, or pilot
# disabled: a gateway-only install) does not set the mesh config by leaving
# the mode out.
_installs_no_istiod if {
	kube.kind == "IstioOperator"
	kube.obj.spec.profile == "empty"
	not kube.obj.spec.components.pilot.enabled == true
}

_installs_no_istiod if {
	kube.kind == "IstioOperator"
	kube.obj.spec.components.pilot.enabled == false
}

# The deepest part of spec.meshConfig.outboundTrafficPolicy.mode that is set.
_operator_path := ["spec", "meshConfig", "outboundTrafficPolicy", "mode"] if {
	kube.obj.spec.meshConfig.outboundTrafficPolicy.mode != false
} else := ["spec", "meshConfig", "outboundTrafficPolicy"] if {
	kube.obj.spec.meshConfig.outboundTrafficPolicy != false
} else := ["spec", "meshConfig"] if {
	kube.obj.spec.meshConfig != false
} else := ["spec"]

warn contains f if {
	[mesh, path, ref] := _mesh
	not mesh.outboundTrafficPolicy.mode
	not _installs_no_istiod
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s sets no outboundTrafficPolicy.mode, so the mesh default ALLOW_ANY forwards traffic to undeclared destinations; set REGISTRY_ONLY", [ref]),
		path,
	)
}

warn contains f if {
	[mesh, path, ref] := _mesh
	mode := mesh.outboundTrafficPolicy.mode
	mode in {"ALLOW_ANY", "ALLOW_ANY_DYNAMIC_DNS"}
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s sets outboundTrafficPolicy.mode %s, which forwards traffic to undeclared destinations; set REGISTRY_ONLY", [ref, mode]),
		path,
	)
}
