# METADATA
# title: Workloads must not opt out of sidecar injection
# description: |
#   In a namespace enrolled for sidecar injection (`istio-injection=enabled` or
#   `istio.io/rev`), a pod that sets `sidecar.istio.io/inject: "false"` (label,
#   or the deprecated annotation) runs without a proxy: it has no workload
#   identity and, where servers are PERMISSIVE, talks plaintext. Whether the
#   namespace is enrolled is read from the Namespace object (offline: when it
#   is among the inputs; in the cluster: from the cache).
# custom:
#   id: ISTIO-INJ-001
#   version: 1.0.0
#   severity: high
#   action: deny
#   since: 2026.11.0
#   kinds:
#   - {group: "", kind: Pod, versions: [v1]}
#   - {group: apps, kind: Deployment, versions: [v1]}
#   - {group: apps, kind: StatefulSet, versions: [v1]}
#   - {group: apps, kind: DaemonSet, versions: [v1]}
#   - {group: apps, kind: ReplicaSet, versions: [v1]}
#   - {group: batch, kind: Job, versions: [v1]}
#   - {group: batch, kind: CronJob, versions: [v1]}
#   remediation: |
#     Remove the `sidecar.istio.io/inject: "false"` label or annotation. A workload
#     that must run outside the mesh gets a time-limited exemption
#     (`meshguard.io/exempt: ISTIO-INJ-001` with a reason and an expiry date).
package meshguard.istio.inj_001

import data.meshguard.lib.finding
import data.meshguard.lib.istio
import data.meshguard.lib.kube

# The object is of a kind in this package's METADATA. The engine evaluates a
# package only for those kinds (kube.indexed); under conftest or opa eval,
# where every package sees every object, the METADATA is read.
_applies if kube.indexed

else if kube.applies(rego.metadata.chain())

deny contains f if {
	istio.namespace_enrolled
	_applies
	some p in istio.opt_out_paths
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s %s/%s opts out of sidecar injection in namespace %s, which is enrolled in the mesh", [kube.kind, kube.namespace, kube.name, kube.namespace]),
		p,
	)
}
