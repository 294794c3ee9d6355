# METADATA
# title: No Linkerd proxy bypass
# description: |
#   Ports and subnets in `config.linkerd.io/skip-inbound-ports`,
#   `skip-outbound-ports` and `skip-subnets` are handled by iptables before
#   the proxy sees them: no mTLS, no policy. On a Namespace (whose config
#   annotations its pods inherit) or a workload, any skipped subnet, and any
#   skipped port outside `linkerd.allowedSkipPorts`, is denied. So is an
#   application container that runs as the proxy's UID (`config.linkerd.io/proxy-uid`
#   of the pod or its Namespace, else `linkerd.proxyUID`, 2102), whose traffic
#   proxy-init exempts from redirection.
# custom:
#   id: LINKERD-INJ-002
#   version: 1.0.0
#   severity: high
#   action: deny
#   since: 2026.12.0
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
#     Remove the skip annotations and let the proxy handle the traffic (mark
#     server-first protocols opaque instead, with `config.linkerd.io/opaque-ports`
#     or a Server's `proxyProtocol: opaque`); run application containers as
#     another UID than the proxy's. A port that must be skipped cluster-wide
#     goes in `linkerd.allowedSkipPorts`.
package meshguard.linkerd.inj_002

import data.meshguard.lib.config
import data.meshguard.lib.finding
import data.meshguard.lib.kube
import data.meshguard.lib.linkerd

# The object is of a kind in this package's METADATA. The engine evaluates a
# package only for those kinds (kube.indexed); under conftest or opa eval,
# where every package sees every object, the METADATA is read.
_applies if kube.indexed

else if kube.applies(rego.metadata.chain())

_is_namespace if {
	kube.kind == "Namespace"
	kube.group == ""
}

# (A workload is no Namespace: one rule with an else branch.)
_ref := sprintf("%s %s/%s", [kube.kind, kube.namespace, kube.name]) if {
	kube.is_workload
} else := sprintf("Namespace %s", [kube.name]) if _is_namespace

_subnets_key := "config.linkerd.io/skip-subnets"

_allowed := {sprintf("%v", [p]) | some p in config.params.linkerd.allowedSkipPorts}

deny contains f if {
	some key in {"config.linkerd.io/skip-inbound-ports", "config.linkerd.io/skip-outbound-ports"}
	v := sprintf("%v", [linkerd.own_annotations[key]]) # linkerd.own_values[key], for this key only
	_applies
	items := [trim_space(s) | some s in split(v, ","); trim_space(s) != ""]
	skipped := [s | some s in items; not s in _allowed]
	count(skipped) > 0
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s sets %s %q: traffic on %s bypasses the Linkerd proxy (no mTLS, no policy)", [_ref, key, v, concat(",", skipped)]),
		linkerd.annotation_path(key),
	)
}

deny contains f if {
	v := sprintf("%v", [linkerd.own_annotations["config.linkerd.io/skip-subnets"]]) # linkerd.own_values[_subnets_key]
	_applies
	trim_space(v) != ""
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s sets %s %q: traffic to those subnets bypasses the Linkerd proxy (no mTLS, no policy)", [_ref, _subnets_key, v]),
		linkerd.annotation_path(_subnets_key),
	)
}

# --- the proxy's UID ---------------------------------------------------------------

_uid_key := "config.linkerd.io/proxy-uid"

_proxy_uid := to_number(linkerd.config(_uid_key)[0]) if {
	regex.match(`^[0-9]+$`, linkerd.config(_uid_key)[0])
} else := config.params.linkerd.proxyUID

# Containers Linkerd's injector adds.
_linkerd_containers := {"linkerd-proxy", "linkerd-init", "linkerd-network-validator"}

# An application container runs as the proxy's UID: its own runAsUser (when
# set and not null), else the pod's. The UID is compared first, so the paths
# are built only for a finding.
deny contains f if {
	kube.is_workload
	some field in ["containers", "initContainers"]
	some i, c in kube.pod_spec[field]
	uid := c.securityContext.runAsUser
	uid != null
	uid == _proxy_uid
	not c.name in _linkerd_containers
	_applies
	f := _finding(c.name, uid, array.concat(kube.pod_prefix, ["spec", field, i, "securityContext", "runAsUser"]))
}

deny contains f if {
	kube.is_workload
	uid := kube.pod_spec.securityContext.runAsUser
	uid == _proxy_uid
	some field in ["containers", "initContainers"]
	some c in kube.pod_spec[field]
	object.get(c, ["securityContext", "runAsUser"], null) == null
	not c.name in _linkerd_containers
	_applies
	f := _finding(c.name, uid, array.concat(kube.pod_prefix, ["spec", "securityContext", "runAsUser"]))
}

_finding(name, uid, path) := finding.new(
	rego.metadata.chain(),
	sprintf("%s: container %s runs as UID %v, the Linkerd proxy's, so its traffic is not redirected through the proxy; use another UID", [_ref, name, uid]),
	path,
)
