package meshguard.lib.config

# Istio egress, extension and injection parameters (RULES.md §0.6).

# Namespaces where EnvoyFilters are allowed besides the root namespace, which
# always is (ISTIO-EXT-001).
istio["allowedEnvoyFilterNamespaces"] := []

# Shared provider domains: a wildcard ServiceEntry host `*.<domain>` for one
# of them admits any tenant of that provider (ISTIO-EGRESS-002; a wildcard
# over fewer than 3 labels, such as `*.example.com`, is broad anyway).
istio["broadWildcardDomains"] := [
	"amazonaws.com",
	"s3.amazonaws.com",
	"cloudfront.net",
	"googleapis.com",
	"appspot.com",
	"run.app",
	"azure.com",
	"windows.net",
	"blob.core.windows.net",
	"azurewebsites.net",
	"cloudapp.net",
	"herokuapp.com",
	"github.io",
	"githubusercontent.com",
]

# The mesh-wide MeshConfig `defaultConfig.holdApplicationUntilProxyStarts`:
# set it to true when the mesh config holds every application, so that
# ISTIO-INJ-004 does not ask each workload for it (the webhook does not read
# the mesh config).
istio["holdApplicationUntilProxyStarts"] := false
