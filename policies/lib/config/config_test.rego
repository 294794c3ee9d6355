package meshguard.lib.config_test

import data.meshguard.lib.config

test_params_are_defaults_without_user_config if {
	config.params == config.defaults
	config.params.istio.rootNamespace == "istio-system"
	config.params.route == {"defaultTimeout": "15s", "maxTimeout": "60s"}
	config.params.retry.maxAttempts == 3
}

test_params_merge_user_config_deeply if {
	params := config.params with data.meshguard.config as {"route": {"maxTimeout": "90s"}, "istio": {"rootNamespace": "mesh-root"}}
	params.route == {"defaultTimeout": "15s", "maxTimeout": "90s"}
	params.istio == object.union(config.defaults.istio, {"rootNamespace": "mesh-root"})
	params.istio.meshDomain == "cluster.local"
	params.istio.publicGatewaySelectors == [{"istio": "ingressgateway"}]
	params.retry == config.defaults.retry
	params.sidecar == config.defaults.sidecar
}

# Lists are replaced, not appended to.
test_params_user_lists_replace_defaults if {
	params := config.params with data.meshguard.config as {"retry": {"safeConditions": ["connect-failure"]}}
	params.retry.safeConditions == ["connect-failure"]
	params.retry.maxAttempts == 3
}

test_params_accept_new_keys if {
	params := config.params with data.meshguard.config as {"istio": {"allowedEnvoyFilterNamespaces": ["mesh-filters"]}}
	params.istio.allowedEnvoyFilterNamespaces == ["mesh-filters"]
	params.istio.rootNamespace == "istio-system"
}

# Rule families add Istio keys from their own files.
test_istio_defaults_from_every_file if {
	config.defaults.istio.rootNamespace == "istio-system"
	config.defaults.istio.allowedEnvoyFilterNamespaces == []
	config.defaults.istio.holdApplicationUntilProxyStarts == false
	"s3.amazonaws.com" in config.defaults.istio.broadWildcardDomains
}

# The defaults the mutating webhook adds must satisfy the rules (RULES.md §0.6).
test_defaults_are_consistent if {
	d := config.defaults
	time.parse_duration_ns(d.route.defaultTimeout) <= time.parse_duration_ns(d.route.maxTimeout)
	d.retry.defaultAttempts <= d.retry.maxAttempts
	(1 + d.retry.defaultAttempts) * time.parse_duration_ns(d.retry.defaultPerTryTimeout) <= time.parse_duration_ns(d.route.defaultTimeout)
	units.parse(d.sidecar.cpuRequestMin) <= units.parse(d.sidecar.cpuRequest)
	units.parse(d.sidecar.cpuRequest) <= units.parse(d.sidecar.cpuRequestMax)
	units.parse(d.sidecar.memoryRequestMin) <= units.parse(d.sidecar.memoryRequest)
	units.parse(d.sidecar.memoryRequest) <= units.parse(d.sidecar.memoryRequestMax)
	units.parse(d.sidecar.memoryRequest) <= units.parse(d.sidecar.memoryLimit)
	units.parse(d.sidecar.memoryLimit) <= units.parse(d.sidecar.memoryLimitMax)
}

# Under the meshguard engine the parameters are merged once and served as
# data.meshguard.params; they are read from there, not merged again.
test_params_read_from_the_engine if {
	params := config.params with data.meshguard.engine.indexed as true
		with data.meshguard.params as {"route": {"maxTimeout": "5s"}}
	params == {"route": {"maxTimeout": "5s"}}
}

# Without the engine (conftest, opa eval) a stray data.meshguard.params is not
# taken for the merged parameters.
test_params_merged_without_the_engine if {
	params := config.params with data.meshguard.params as {"route": {"maxTimeout": "5s"}}
	params == config.defaults
}
