# METADATA
# title: Linkerd default inbound policy must be deny
# description: |
#   `config.linkerd.io/default-inbound-policy` decides what a Linkerd proxy
#   admits on a port no Server covers. `all-unauthenticated` (Linkerd's
#   install default), `cluster-unauthenticated` and `audit` admit any client,
#   meshed or not: denied (critical on a Namespace, high on a workload).
#   `all-authenticated` admits any meshed identity, from other clusters too:
#   a warning; so is any other value outside `linkerd.allowedDefaultInboundPolicies`,
#   and a meshed Namespace (`linkerd.io/inject: enabled` or `ingress`) without
#   the annotation, which the mutating webhook then sets to `deny`.
# custom:
#   id: LINKERD-AUTHZ-001
#   version: 1.0.0
#   severity: critical
#   action: deny
#   since: 2026.11.0
#   kinds:
#   - {group: "", kind: Namespace, versions: [v1]}
#   - {group: "", kind: Pod, versions: [v1]}
#   - {group: apps, kind: Deployment, versions: [v1]}
#   - {group: apps, kind: StatefulSet, versions: [v1]}
#   - {group: apps, kind: DaemonSet, versions: [v1]}
#   - {group: apps, kind: ReplicaSet, versions: [v1]}
#   - {group: batch, kind: Job, versions: [v1]}
#   - {group: batch, kind: CronJob, versions: [v1]}
#   remediation: |
#     Annotate the Namespace `config.linkerd.io/default-inbound-policy: deny`
#     and allow traffic with Server and AuthorizationPolicy objects. To roll out,
#     use `cluster-authenticated` for a limited time.
package meshguard.linkerd.authz_001

import data.meshguard.lib.config
import data.meshguard.lib.finding
import data.meshguard.lib.kube
import data.meshguard.lib.linkerd

# The object is of a kind in this package's METADATA. The engine evaluates a
# package only for those kinds (kube.indexed); under conftest or opa eval,
# where every package sees every object, the METADATA is read.
_applies if kube.indexed

else if kube.applies(rego.metadata.chain())

_key := "config.linkerd.io/default-inbound-policy"

_unauthenticated := {"all-unauthenticated", "cluster-unauthenticated", "audit"}

_is_namespace if {
	kube.kind == "Namespace"
	kube.group == ""
}

# Where the annotation is: the Namespace's own, or the pod metadata.
_path := ["metadata", "annotations", _key] if {
	_is_namespace
} else := kube.pod_meta_path(["annotations", _key]) if kube.is_workload

# The value from there (linkerd.own_annotations reads the same place). Every
# finding but the meshed Namespace's needs it: those bodies test it first.
_value := linkerd.own_annotations["config.linkerd.io/default-inbound-policy"] # _key

# (A Namespace is no workload: one rule with an else branch.)
_ref := sprintf("Namespace %s", [kube.name]) if {
	_is_namespace
} else := sprintf("%s %s/%s", [kube.kind, kube.namespace, kube.name]) if kube.is_workload

_severity := "critical" if {
	_is_namespace
} else := "high" if kube.is_workload

deny contains f if {
	_value in _unauthenticated
	_applies
	f := finding.with_severity(
		rego.metadata.chain(),
		sprintf("%s sets %s %q, which admits clients that are not meshed; use deny and allow traffic with Servers and AuthorizationPolicies", [_ref, _key, _value]),
		_path,
		_severity,
	)
}

# The warnings about the value: the value is tested once.
warn contains f if {
	_value
	_applies
	some f in _value_warnings
}

_value_warnings contains f if {
	_value == "all-authenticated"
	f := finding.with_severity(
		rego.metadata.chain(),
		sprintf("%s sets %s all-authenticated, which admits any meshed identity, from other clusters too; use deny", [_ref, _key]),
		_path,
		"medium",
	)
}

_value_warnings contains f if {
	not _value in _unauthenticated
	_value != "all-authenticated"
	not _value in config.params.linkerd.allowedDefaultInboundPolicies
	f := finding.with_severity(
		rego.metadata.chain(),
		sprintf("%s sets %s %q, which is not among the allowed %v", [_ref, _key, _value, config.params.linkerd.allowedDefaultInboundPolicies]),
		_path,
		"medium",
	)
}

_meshed_namespace if {
	kube.obj.metadata.annotations["linkerd.io/inject"] in {"enabled", "ingress"}
	_is_namespace
}

warn contains f if {
	kube.obj.metadata.annotations["linkerd.io/inject"] in {"enabled", "ingress"} # _meshed_namespace, spelled out
	_is_namespace
	_applies
	not _value
	f := finding.with_severity(
		rego.metadata.chain(),
		sprintf("Namespace %s is meshed by Linkerd but sets no %s, so the cluster default (all-unauthenticated unless changed) applies; set deny", [kube.name, _key]),
		["metadata", "annotations"],
		"high",
	)
}

# Mutation (RULES.md): a meshed Namespace without the annotation gets deny.
mutate contains {"path": ["metadata", "annotations", _key], "value": "deny"} if {
	_applies
	_meshed_namespace
	not _value
}
