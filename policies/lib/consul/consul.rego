# METADATA
# title: Consul helpers
# description: |
#   Mesh facts shared by the Consul rules: whether a workload gets the Consul
#   sidecar (connect-inject), read as the injector reads its annotations.
package meshguard.lib.consul

import data.meshguard.lib.config
import data.meshguard.lib.kube

# Annotation values the injector parses with Go's strconv.ParseBool.
_true := {"1", "t", "T", "TRUE", "true", "True"}

_false := {"0", "f", "F", "FALSE", "false", "False"}

is_true(v) if v in _true

is_false(v) if v in _false

inject_key := "consul.hashicorp.com/connect-inject"

# The workload's namespace is one whose workloads must be meshed
# (consul.meshNamespaces).
mesh_namespace if kube.namespace in config.params.consul.meshNamespaces

# The workload asks for the sidecar, or sits in a mesh namespace and does
# not opt out (the chart injects only on request: connectInject.default false).
# The bodies spell out inject_key and is_true: each rule referred to is one
# more rule evaluated per object. The pod annotations of any other kind are
# empty, so only the mesh namespace's body needs kube.is_workload.
injected if kube.pod_annotations["consul.hashicorp.com/connect-inject"] in {"1", "t", "T", "TRUE", "true", "True"}

injected if {
	kube.is_workload
	mesh_namespace
	not kube.pod_annotations["consul.hashicorp.com/connect-inject"]
}
