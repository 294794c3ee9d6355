package meshguard.lib.config

# Linkerd parameters (RULES.md §0.6).
defaults["linkerd"] := {
	"namespace": "linkerd",
	"allowedDefaultInboundPolicies": ["deny"],
}
