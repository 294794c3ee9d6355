# METADATA
# title: EnvoyFilter restricted
# description: |
#   An EnvoyFilter edits the generated proxy config directly and can silently
#   remove mTLS or authorization. Denied: an EnvoyFilter outside the root
#   namespace and `istio.allowedEnvoyFilterNamespaces` (high; offline only
#   when `metadata.namespace` is set); anywhere, a patch that removes,
#   replaces, merges into or runs ahead of an authentication or
#   authorization filter (a matched or inserted filter name containing
#   `rbac`, `jwt_authn`, `ext_authz` or `authn`, with operation REMOVE,
#   REPLACE, MERGE, INSERT_BEFORE or INSERT_FIRST), and a CLUSTER or
#   BOOTSTRAP patch that touches a `transport_socket` (critical). Warned: a
#   root-namespace EnvoyFilter without `workloadSelector` or `targetRefs`,
#   which applies to every proxy of the mesh (medium).
# custom:
#   id: ISTIO-EXT-001
#   version: 1.0.0
#   severity: high
#   action: deny
#   since: 2026.12.0
#   kinds:
#   - group: networking.istio.io
#     kind: EnvoyFilter
#     versions: [v1alpha3]
#   remediation: |
#     Use the first-class APIs (AuthorizationPolicy, RequestAuthentication,
#     Telemetry, WasmPlugin, DestinationRule) instead. A filter the platform
#     team owns goes in the root namespace with a `workloadSelector`, and must
#     not touch the authn/authz filters or TLS transport sockets.
package meshguard.istio.ext_001

import data.meshguard.lib.config
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

_ref := sprintf("EnvoyFilter %s/%s", [kube.namespace, kube.name])

_allowed := {istio.root_namespace} | {ns | some ns in config.params.istio.allowedEnvoyFilterNamespaces}

# Offline, an object without a namespace lands wherever it is applied: the
# namespace is judged when it is known (always at admission).
# Each body tests the object first and _applies, which the engine has always
# decided, last.
deny contains f if {
	ns := kube.namespace
	ns != ""
	ns != istio.root_namespace
	not ns in config.params.istio.allowedEnvoyFilterNamespaces # not in _allowed
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s is in namespace %s; EnvoyFilters are allowed only in %s", [_ref, kube.namespace, concat(", ", sort(_allowed))]),
		["metadata", "namespace"],
	)
}

_security_filter_tokens := ["rbac", "jwt_authn", "ext_authz", "authn"]

_risky_operations := {"REMOVE", "REPLACE", "MERGE", "INSERT_BEFORE", "INSERT_FIRST"}

_patches := object.get(kube.obj, ["spec", "configPatches"], [])

_security_filter(name) if {
	lowered := lower(name)
	some token in _security_filter_tokens
	contains(lowered, token)
}

# The filters a patch with a risky operation matches or inserts (the names at
# match.listener.filterChain.filter.name, its subFilter.name, and
# patch.value.name) that are security filters.
deny contains f if {
	some i, patch in _patches
	op := patch.patch.operation
	op in _risky_operations
	some p in [
		["match", "listener", "filterChain", "filter", "name"],
		["match", "listener", "filterChain", "filter", "subFilter", "name"],
		["patch", "value", "name"],
	]
	name := object.get(patch, p, null)
	is_string(name)
	_security_filter(name)
	_applies == true
	path := array.concat(["spec", "configPatches", i], p)
	f := finding.with_severity(
		rego.metadata.chain(),
		sprintf("%s configPatches[%d] applies %s to the security filter %s, which can remove or bypass authentication or authorization", [_ref, i, op, name]),
		path,
		"critical",
	)
}

# A key that sets a TLS transport socket, in either JSON spelling.
_transport_socket_keys := {"transport_socket", "transportSocket", "transport_socket_matches", "transportSocketMatches"}

deny contains f if {
	some i, patch in _patches
	patch.applyTo in {"CLUSTER", "BOOTSTRAP"}
	[path, _] := walk(patch.patch.value)
	key := path[count(path) - 1]
	key in _transport_socket_keys
	_applies == true
	f := finding.with_severity(
		rego.metadata.chain(),
		sprintf("%s configPatches[%d] changes %s of a %s, which can replace the mesh's mTLS", [_ref, i, key, patch.applyTo]),
		array.concat(["spec", "configPatches", i, "patch", "value"], path),
		"critical",
	)
}

_targets_workloads if count(object.get(kube.obj, ["spec", "workloadSelector", "labels"], {})) > 0

_targets_workloads if count(object.get(kube.obj, ["spec", "targetRefs"], [])) > 0

warn contains f if {
	kube.namespace == istio.root_namespace
	not _targets_workloads
	_applies == true
	f := finding.with_severity(
		rego.metadata.chain(),
		sprintf("%s is in the root namespace without a workloadSelector or targetRefs, so it changes every proxy of the mesh; select the workloads it is for", [_ref]),
		["spec"],
		"medium",
	)
}
