package meshguard.lib.config

# Linkerd parameters (RULES.md §0.6, and the catalog entries of the Linkerd
# rules for the rest):
#   namespace                      the control plane namespace (linkerd-config lives here)
#   allowedDefaultInboundPolicies  default inbound policies LINKERD-AUTHZ-001 accepts
#   egressNamespace                the global egress namespace (LINKERD-EGRESS-001);
#                                  the chart's `egress.globalEgressNetworkNamespace`
#   proxyUID                       the proxy's UID (chart `proxy.uid`), LINKERD-INJ-002
#   allowedSkipPorts               ports (or ranges, "4567-4568") the skip-inbound-ports and
#                                  skip-outbound-ports annotations may list (LINKERD-INJ-002)
#   defaultOpaquePorts             the install's opaque ports (chart `proxy.opaquePorts`),
#                                  which a pod's opaque-ports annotation replaces (LINKERD-INJ-003)
#   proxyCPURequest, proxyMemoryRequest, proxyMemoryLimit
#                                  the proxy resources the mutating webhook adds (LINKERD-RES-001);
#                                  "" adds none
defaults["linkerd"] := {
	"namespace": "linkerd",
	"allowedDefaultInboundPolicies": ["deny"],
	"egressNamespace": "linkerd-egress",
	"proxyUID": 2102,
	"allowedSkipPorts": [],
	"defaultOpaquePorts": "25,587,3306,4444,5432,6379,9300,11211",
	"proxyCPURequest": "100m",
	"proxyMemoryRequest": "64Mi",
	"proxyMemoryLimit": "256Mi",
}
