package meshguard.lib.config

# Consul parameters (project choices; RULES.md §0.6 has none for Consul).
# meshNamespaces: namespaces whose workloads must run with the Consul sidecar
# (the chart injects only on request, `connectInject.default: false`).
# sidecarProxy: the proxy resources the mutating webhook adds, the chart's
# "recommended production default"; the bounds come from `sidecar`.
defaults["consul"] := {
	"meshNamespaces": [],
	"sidecarProxy": {
		"cpuRequest": "100m",
		"cpuLimit": "100m",
		"memoryRequest": "100Mi",
		"memoryLimit": "100Mi",
	},
}
