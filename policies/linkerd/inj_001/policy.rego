# METADATA
# title: No Linkerd injection opt-out; namespaces meshed
# description: |
#   A workload that sets `linkerd.io/inject: disabled` in a Namespace meshed
#   with `linkerd.io/inject: enabled` (or `ingress`) runs without a proxy: no
#   identity, no policy. Denied. In a cluster that runs Linkerd (its control
#   plane Namespace, `linkerd.namespace`, is known), a Namespace that is not
#   meshed warns, except the Linkerd control plane and extension namespaces,
#   Namespaces enrolled in Istio and the excluded ones (`excludeNamespaces`).
#   `config.linkerd.io/proxy-await: disabled` lets the application start
#   before its proxy is ready: a low warning. Whether the workload's Namespace is meshed and whether the
#   cluster runs Linkerd is read from the inventory (offline: the inputs; in
#   the cluster: the cache).
# custom:
#   id: LINKERD-INJ-001
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
#     Remove `linkerd.io/inject: disabled` from the pod template (a workload
#     that must run outside the mesh gets a time-limited exemption), annotate
#     application Namespaces `linkerd.io/inject: enabled`, and leave
#     `config.linkerd.io/proxy-await` at its default (`enabled`).
package meshguard.linkerd.inj_001

import data.meshguard.lib.finding
import data.meshguard.lib.istio
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

# (A Namespace is no workload: one rule with an else branch.)
_ref := sprintf("Namespace %s", [kube.name]) if {
	_is_namespace
} else := sprintf("%s %s/%s", [kube.kind, kube.namespace, kube.name]) if kube.is_workload

# (a)
deny contains f if {
	kube.pod_annotations["linkerd.io/inject"] == "disabled" # linkerd.inject_key
	kube.is_workload
	_applies
	linkerd.namespace_meshed(kube.namespace_object)
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s opts out of Linkerd injection (linkerd.io/inject: disabled) in namespace %s, which is meshed", [_ref, kube.namespace]),
		kube.pod_meta_path(["annotations", linkerd.inject_key]),
	)
}

# (b)
_inject_path := ["metadata", "annotations", "linkerd.io/inject"] if { # linkerd.inject_key
	kube.obj.metadata.annotations["linkerd.io/inject"]
} else := ["metadata", "annotations"]

# A Namespace enrolled in Istio (sidecars or ambient) is meshed, by another
# mesh: istio.obj_in_mesh (namespace_in_mesh(kube.obj), once per object). The
# message names the Namespace itself (it is _ref, without the rule).
warn contains f if {
	kube.kind == "Namespace"
	kube.group == ""
	_applies
	linkerd.cluster_meshed
	not istio.obj_in_mesh
	not _meshed
	not linkerd.control_plane_namespace(kube.obj)
	not kube.excluded_namespace(kube.name)
	f := finding.with_severity(
		rego.metadata.chain(),
		sprintf("Namespace %s is not meshed by Linkerd (no linkerd.io/inject: enabled) though the cluster runs Linkerd; its pods get no identity and no policy", [kube.name]),
		_inject_path,
		"medium",
	)
}

# linkerd.namespace_meshed(kube.obj), as a rule (a function whose answer is
# undefined is evaluated again on every call; a rule once).
_meshed if kube.obj.metadata.annotations["linkerd.io/inject"] in {"enabled", "ingress"}

# (d)
_await_key := "config.linkerd.io/proxy-await"

warn contains f if {
	linkerd.own_annotations["config.linkerd.io/proxy-await"] == "disabled" # _await_key (no other value prints as "disabled")
	_applies
	f := finding.with_severity(
		rego.metadata.chain(),
		sprintf("%s sets %s: disabled, so the application may start before its proxy is ready and its first connections fail", [_ref, _await_key]),
		linkerd.annotation_path(_await_key),
		"low",
	)
}
