package meshguard.lib.config

# Gateway API parameters (project choices). Gateways of every class are
# treated as internet-facing except those of internalGatewayClasses (Istio's
# waypoint, east-west and remote classes by default).
defaults["gwapi"] := {"internalGatewayClasses": ["istio-waypoint", "istio-east-west", "istio-remote"]}
