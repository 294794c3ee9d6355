# METADATA
# title: Rule parameters
# description: |
#   Thresholds used by the rules (RULES.md §0.6). The defaults below are
#   merged with `data.meshguard.config`, which the engine fills from the
#   user's config file (`--config`), so every key can be overridden.
package meshguard.lib.config

# The defaults of each area are a separate rule, so that every rule family
# can keep its parameters in its own file of this package (for example
# linkerd.rego); keys are area names and must not repeat across files.
# The Istio area is shared by several rule families: each adds its keys with
# `istio[key] := value` in its own file of this package (see istio.rego).
defaults["istio"] := istio

istio["rootNamespace"] := "istio-system"

istio["meshDomain"] := "cluster.local"

istio["publicGatewaySelectors"] := [{"istio": "ingressgateway"}]

defaults["route"] := {
	"defaultTimeout": "15s",
	"maxTimeout": "60s",
}

defaults["retry"] := {
	"defaultAttempts": 2,
	"maxAttempts": 3,
	"defaultPerTryTimeout": "5s",
	"safeConditions": [
		"connect-failure",
		"refused-stream",
		"reset-before-request",
		"unavailable",
		"cancelled",
		"retriable-status-codes",
	],
}

defaults["sidecar"] := {
	"cpuRequest": "100m",
	"cpuRequestMin": "10m",
	"cpuRequestMax": "1000m",
	"memoryRequest": "128Mi",
	"memoryRequestMin": "32Mi",
	"memoryRequestMax": "1Gi",
	"memoryLimit": "1024Mi",
	"memoryLimitMax": "2Gi",
	"cpuLimit": "",
	"cpuLimitMax": "2000m",
}

default _user := {}

_user := data.meshguard.config

# The parameters every rule reads. The meshguard engine merges them once, when
# it loads the bundle, and serves the result as data.meshguard.params (merging
# on every evaluation cost more than most rules); elsewhere (conftest, opa
# eval, opa test) they are merged here.
params := data.meshguard.params if {
	data.meshguard.engine.indexed == true
	is_object(data.meshguard.params)
} else := merged

merged := object.union(defaults, _user)
