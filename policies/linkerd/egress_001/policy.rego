# METADATA
# title: EgressNetwork default-deny
# description: |
#   An EgressNetwork with `trafficPolicy: Allow` lets through all egress
#   traffic that no route describes. With `networks` absent (all address space
#   outside the cluster) or containing `0.0.0.0/0` or `::/0`, that is the whole
#   internet: denied in the global egress namespace (`linkerd.egressNamespace`,
#   whose EgressNetworks apply to every namespace), a warning elsewhere.
# custom:
#   id: LINKERD-EGRESS-001
#   version: 1.0.0
#   severity: medium
#   action: deny
#   since: 2026.12.0
#   kinds:
#   - {group: policy.linkerd.io, kind: EgressNetwork, versions: [v1alpha1]}
#   remediation: |
#     Set `spec.trafficPolicy: Deny` and allow the external destinations you
#     need with routes (HTTPRoute, TLSRoute, TCPRoute) whose parent is the
#     EgressNetwork, or list only the networks that may be reached with Allow.
package meshguard.linkerd.egress_001

import data.meshguard.lib.config
import data.meshguard.lib.finding
import data.meshguard.lib.kube

# The object is of a kind in this package's METADATA. The engine evaluates a
# package only for those kinds (kube.indexed); under conftest or opa eval,
# where every package sees every object, the METADATA is read.
_applies if kube.indexed

else if kube.applies(rego.metadata.chain())

_all_networks := {"0.0.0.0/0", "::/0"}

_ref := sprintf("EgressNetwork %s/%s", [kube.namespace, kube.name])

# [what is allowed, path] of every way the policy allows the whole internet.
_open contains ["all networks outside the cluster (no spec.networks)", ["spec", "trafficPolicy"]] if {
	kube.obj.spec.trafficPolicy == "Allow"
	object.get(kube.obj.spec, "networks", null) == null
}

_open contains [sprintf("%s", [n.cidr]), ["spec", "networks", i, "cidr"]] if {
	kube.obj.spec.trafficPolicy == "Allow"
	some i, n in kube.obj.spec.networks
	n.cidr in _all_networks
}

_global if kube.namespace == config.params.linkerd.egressNamespace

deny contains f if {
	_applies
	_global
	some [what, path] in _open
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s in the global egress namespace allows %s to every meshed namespace; use trafficPolicy Deny and allow destinations with routes", [_ref, what]),
		path,
	)
}

warn contains f if {
	_applies
	not _global
	some [what, path] in _open
	f := finding.new(
		rego.metadata.chain(),
		sprintf("%s allows %s; use trafficPolicy Deny and allow destinations with routes", [_ref, what]),
		path,
	)
}
