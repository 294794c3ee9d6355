# METADATA
# title: No Consul injection opt-out or transparent-proxy bypass
# description: |
#   Traffic that skips the Envoy sidecar skips mTLS and intentions with it.
#   Denied on a workload that gets the Consul sidecar (it sets
#   `consul.hashicorp.com/connect-inject: "true"`, or it is in one of
#   `consul.meshNamespaces` and does not opt out): `transparent-proxy:
#   "false"` and any `transparent-proxy-exclude-*` annotation (inbound ports,
#   outbound ports, outbound CIDRs, UIDs). Denied too: `connect-inject:
#   "false"` in one of `consul.meshNamespaces`, and a Namespace labelled
#   `consul.hashicorp.com/transparent-proxy: "false"`. The mutating webhook
#   adds `connect-inject: "true"` to workloads of `consul.meshNamespaces`
#   that set nothing.
# custom:
#   id: CONSUL-INJ-001
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
#     Remove the `consul.hashicorp.com/transparent-proxy-exclude-*` and
#     `transparent-proxy: "false"` annotations (and the Namespace label); a
#     workload that must bypass the sidecar for a while gets a time-limited
#     exemption (`meshguard.io/exempt: CONSUL-INJ-001` with a reason and an
#     expiry date).
package meshguard.consul.inj_001

import data.meshguard.lib.consul
import data.meshguard.lib.finding
import data.meshguard.lib.kube

# The object is of a kind in this package's METADATA. The engine evaluates a
# package only for those kinds (kube.indexed); under conftest or opa eval,
# where every package sees every object, the METADATA is read.
_applies if kube.indexed

else if kube.applies(rego.metadata.chain())

_tproxy_key := "consul.hashicorp.com/transparent-proxy"

_exclude_prefix := "consul.hashicorp.com/transparent-proxy-exclude-"

_ref := sprintf("%s %s/%s", [kube.kind, kube.namespace, kube.name])

# The bypasses of a workload that gets the sidecar: that is tested once.
deny contains f if {
	consul.injected
	_applies
	some f in _bypasses
}

_bypasses contains f if {
	consul.is_false(kube.pod_annotations[_tproxy_key])
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s turns off the Consul transparent proxy, so its traffic is not redirected through the sidecar (no mTLS, no intentions)", [_ref]),
		kube.pod_meta_path(["annotations", _tproxy_key]),
	)
}

_bypasses contains f if {
	some key, value in kube.pod_annotations
	startswith(key, _exclude_prefix)
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s sets %s %q: that traffic bypasses the Consul sidecar, and with it mTLS and intentions", [_ref, key, value]),
		kube.pod_meta_path(["annotations", key]),
	)
}

deny contains f if {
	kube.is_workload
	consul.mesh_namespace
	_applies
	consul.is_false(kube.pod_annotations[consul.inject_key])
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s opts out of Consul sidecar injection in namespace %s, whose workloads must be meshed", [_ref, kube.namespace]),
		kube.pod_meta_path(["annotations", consul.inject_key]),
	)
}

deny contains f if {
	kube.obj.metadata.labels["consul.hashicorp.com/transparent-proxy"] in {"0", "f", "F", "FALSE", "false", "False"} # consul.is_false(... _tproxy_key)
	kube.kind == "Namespace"
	kube.group == ""
	_applies
	f := finding.new(
		rego.metadata.chain(),
		sprintf("Namespace %s turns off the Consul transparent proxy for its workloads, so their traffic is not redirected through the sidecar", [kube.name]),
		["metadata", "labels", _tproxy_key],
	)
}

# Mutation (RULES.md): workloads of a mesh namespace that say nothing ask
# for the sidecar.
mutate contains {"path": kube.pod_meta_path(["annotations", consul.inject_key]), "value": "true"} if {
	consul.mesh_namespace
	kube.is_workload
	_applies
	not kube.pod_annotations[consul.inject_key]
}
