# METADATA
# title: Linkerd retry and timeout annotations bounded
# description: |
#   Linkerd's retry and timeout annotations on a Service, HTTPRoute or
#   GRPCRoute. Denied: `retry.linkerd.io/http` on a GRPCRoute or
#   `retry.linkerd.io/grpc` on an HTTPRoute (invalid, Linkerd ignores them), a
#   `retry.linkerd.io/limit` that is not a number or is above
#   `retry.maxAttempts`. Warned: retries without `retry.linkerd.io/timeout`;
#   `(1 + limit) × retry timeout` longer than `timeout.linkerd.io/request`
#   (the last tries never run); retries on 5xx responses where the requests
#   are not restricted to GET, HEAD or OPTIONS (duplicate side effects); a
#   duration that does not parse; annotations on a Service, or on a route of
#   a Service, that a ServiceProfile of the inventory overrides.
# custom:
#   id: LINKERD-TRAFFIC-001
#   version: 1.0.0
#   severity: medium
#   action: warn
#   since: 2026.12.0
#   kinds:
#   - {group: "", kind: Service, versions: [v1]}
#   - {group: gateway.networking.k8s.io, kind: HTTPRoute, versions: [v1, v1beta1]}
#   - {group: gateway.networking.k8s.io, kind: GRPCRoute, versions: [v1]}
#   - {group: policy.linkerd.io, kind: HTTPRoute, versions: [v1alpha1, v1beta1, v1beta2, v1beta3]}
#   remediation: |
#     Retry at most `retry.maxAttempts` times with a `retry.linkerd.io/timeout`
#     such that (1 + limit) × timeout fits in `timeout.linkerd.io/request`, use
#     `retry.linkerd.io/http` on HTTP routes and `retry.linkerd.io/grpc` on gRPC
#     routes, and retry 5xx responses only on GET, HEAD or OPTIONS routes.
package meshguard.linkerd.traffic_001

import data.meshguard.lib.config
import data.meshguard.lib.duration
import data.meshguard.lib.finding
import data.meshguard.lib.kube
import data.meshguard.lib.linkerd

# The object is of a kind in this package's METADATA. The engine evaluates a
# package only for those kinds (kube.indexed); under conftest or opa eval,
# where every package sees every object, the METADATA is read.
_applies if kube.indexed

else if kube.applies(rego.metadata.chain())

_http_key := "retry.linkerd.io/http"

_grpc_key := "retry.linkerd.io/grpc"

_limit_key := "retry.linkerd.io/limit"

_retry_timeout_key := "retry.linkerd.io/timeout"

_request_key := "timeout.linkerd.io/request"

_ref := sprintf("%s %s/%s", [kube.kind, kube.namespace, kube.name])

_a(key) := linkerd.own_values[key]

# Every finding is about a retry.linkerd.io/ or timeout.linkerd.io/ annotation
# of the object's own (_annotated; most objects have none), so the decisions
# test that once and the cases are _denials and _warnings.
deny contains f if {
	_annotated
	_applies
	some f in _denials
}

warn contains f if {
	_annotated
	_applies
	some f in _warnings
}

_path(key) := ["metadata", "annotations", key]

_is_grpc_route if kube.kind == "GRPCRoute"

_is_http_route if kube.kind == "HTTPRoute"

# --- invalid ------------------------------------------------------------------------

_denials contains f if {
	_is_grpc_route
	_a(_http_key)
	f := finding.new(rego.metadata.chain(), sprintf("%s sets %s, which is not valid on a GRPCRoute (Linkerd ignores it); use %s", [_ref, _http_key, _grpc_key]), _path(_http_key))
}

_denials contains f if {
	_is_http_route
	_a(_grpc_key)
	f := finding.new(rego.metadata.chain(), sprintf("%s sets %s, which is not valid on an HTTPRoute (Linkerd ignores it); use %s", [_ref, _grpc_key, _http_key]), _path(_grpc_key))
}

_denials contains f if {
	v := _a(_limit_key)
	not regex.match(`^[0-9]+$`, v)
	f := finding.new(rego.metadata.chain(), sprintf("%s: %s %q is not a number", [_ref, _limit_key, v]), _path(_limit_key))
}

# Linkerd retries once when the limit is not set.
_limit := to_number(_a(_limit_key)) if {
	regex.match(`^[0-9]+$`, _a(_limit_key))
} else := 1

_denials contains f if {
	_a(_limit_key)
	_limit > config.params.retry.maxAttempts
	f := finding.new(rego.metadata.chain(), sprintf("%s retries %d times, above the maximum %d", [_ref, _limit, config.params.retry.maxAttempts]), _path(_limit_key))
}

# --- retries and timeouts -------------------------------------------------------------

_retries if trim_space(_a(_http_key)) != ""

_retries if trim_space(_a(_grpc_key)) != ""

_warnings contains f if {
	_retries
	not _a(_retry_timeout_key)
	f := finding.new(rego.metadata.chain(), sprintf("%s retries without %s, so each try may take the whole request timeout; set a per-try timeout", [_ref, _retry_timeout_key]), ["metadata", "annotations"])
}

_durations := [
	_retry_timeout_key, _request_key,
	"timeout.linkerd.io/response", "timeout.linkerd.io/idle",
]

_warnings contains f if {
	some key in _durations
	v := _a(key)
	not duration.ns(v)
	f := finding.new(rego.metadata.chain(), sprintf("%s: %s %q is not a duration (Linkerd ignores it)", [_ref, key, v]), _path(key))
}

_warnings contains f if {
	_retries
	per_try := duration.ns(_a(_retry_timeout_key))
	request := duration.ns(_a(_request_key))
	request > 0
	(1 + _limit) * per_try > request
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s: (1 + %d retries) × %s is longer than its request timeout %s, so the last tries never run", [_ref, _limit, _a(_retry_timeout_key), _a(_request_key)]),
		_path(_retry_timeout_key),
	)
}

# --- 5xx on requests with side effects ----------------------------------------------------

_retries_5xx if {
	some s in split(_a(_http_key), ",")
	trim_space(lower(s)) == "5xx"
}

_retries_5xx if {
	some s in split(_a(_http_key), ",")
	[from, to] := _codes(trim_space(s))
	from <= 500
	500 <= to
}

_codes(s) := [n, n] if {
	regex.match(`^[0-9]{3}$`, s)
	n := to_number(s)
}

_codes(s) := [to_number(a), to_number(b)] if {
	regex.match(`^[0-9]{3}-[0-9]{3}$`, s)
	[a, b] := split(s, "-")
}

_safe_methods := {"GET", "HEAD", "OPTIONS"}

# Every rule of the route matches only safe methods.
_read_only if {
	_is_http_route
	count(kube.obj.spec.rules) > 0
	every rule in kube.obj.spec.rules {
		count(object.get(rule, "matches", [])) > 0
		every m in rule.matches {
			upper(m.method) in _safe_methods
		}
	}
}

_warnings contains f if {
	_retries_5xx
	not _read_only
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s retries 5xx responses (%s %s) on requests that are not restricted to GET, HEAD or OPTIONS, which may repeat their side effects", [_ref, _http_key, _a(_http_key)]),
		_path(_http_key),
	)
}

# --- ServiceProfiles -----------------------------------------------------------------------

_annotated if {
	some key, _ in linkerd.own_annotations
	regex.match(`^(retry|timeout)\.linkerd\.io/`, key)
}

# The Services the annotations are about: the Service itself, or a route's
# Service parents.
_services contains [kube.namespace, kube.name] if kube.kind == "Service"

_services contains [object.get(p, "namespace", kube.namespace), p.name] if {
	kube.kind != "Service"
	some p in kube.obj.spec.parentRefs
	p.kind == "Service"
	object.get(p, "group", "") in {"", "core"}
}

_profiles contains sprintf("%s/%s", [ns, name]) if {
	some [svc_ns, svc] in _services
	some ns, profiles in object.get(data.inventory, ["objects", "ServiceProfile.linkerd.io"], {})
	some name, _ in profiles
	startswith(name, sprintf("%s.%s.svc.", [svc, svc_ns]))
}

_warnings contains f if {
	count(_profiles) > 0
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s sets retry or timeout annotations, but ServiceProfile %s covers the same Service and takes precedence, so they are ignored; configure one or the other", [_ref, concat(", ", sort(_profiles))]),
		["metadata", "annotations"],
	)
}
