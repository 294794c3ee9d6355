# METADATA
# title: WasmPlugin pinned and fail-closed
# description: |
#   A WasmPlugin is code that runs inside every proxy it selects. Denied: a
#   module fetched over plain `http://`; a module not pinned by digest
#   (neither `sha256` nor a `url` with `@sha256:`), or a `sha256` that is not
#   64 hex digits; an authentication or authorization plugin (`phase` AUTHN
#   or AUTHZ) with `failStrategy: FAIL_OPEN`, which lets requests through
#   when the plugin fails.
# custom:
#   id: ISTIO-EXT-002
#   version: 1.0.0
#   severity: high
#   action: deny
#   since: 2026.12.0
#   kinds:
#   - {group: extensions.istio.io, kind: WasmPlugin, versions: [v1alpha1]}
#   remediation: |
#     Fetch the module over `oci://` or `https://`, pin it with `sha256` (or an
#     `@sha256:` image reference), and keep `failStrategy: FAIL_CLOSE` (the
#     default) for AUTHN and AUTHZ plugins.
package meshguard.istio.ext_002

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

_url := object.get(_spec, "url", "")

_ref := sprintf("WasmPlugin %s/%s", [kube.namespace, kube.name])

# Each body tests the spec first and _applies, which the engine has always
# decided, last.
deny contains f if {
	startswith(lower(_url), "http://")
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s fetches its module over plain http (%s), so anyone on the path can replace the code; use oci:// or https://", [_ref, _url]),
		["spec", "url"],
	)
}

deny contains f if {
	not _spec.sha256
	not contains(_url, "@sha256:")
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s does not pin its module: set sha256 or use a url with @sha256:, so the proxies run only the code you reviewed", [_ref]),
		_unpinned_path,
	)
}

_unpinned_path := ["spec", "url"] if _spec.url

else := ["spec"]

deny contains f if {
	_spec.sha256 != false
	not regex.match(`^[0-9a-fA-F]{64}$`, sprintf("%v", [_spec.sha256]))
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s has sha256 %v, which is not a SHA-256 digest (64 hex digits)", [_ref, _spec.sha256]),
		["spec", "sha256"],
	)
}

deny contains f if {
	_spec.phase in {"AUTHN", "AUTHZ"}
	_spec.failStrategy == "FAIL_OPEN"
	_applies == true
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s runs in phase %s with failStrategy FAIL_OPEN, so requests pass unchecked when the plugin fails; use FAIL_CLOSE", [_ref, _spec.phase]),
		["spec", "failStrategy"],
	)
}
