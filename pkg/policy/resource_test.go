package policy_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/meshguard/meshguard/pkg/policy"
)

// The resource names are those the API server serves (the upstream CRDs'
// spec.names.plural and the built-in types'), not a naive guess: a wrong one
// makes a webhook rule that never matches.
func TestResource(t *testing.T) {
	for gk, want := range map[policy.GroupKind]string{
		{Group: "networking.istio.io", Kind: "Gateway"}:             "gateways",
		{Group: "gateway.networking.k8s.io", Kind: "Gateway"}:       "gateways",
		{Group: "consul.hashicorp.com", Kind: "IngressGateway"}:     "ingressgateways",
		{Group: "consul.hashicorp.com", Kind: "Mesh"}:               "meshes",
		{Group: "consul.hashicorp.com", Kind: "ServiceIntentions"}:  "serviceintentions",
		{Group: "consul.hashicorp.com", Kind: "ProxyDefaults"}:      "proxydefaults",
		{Group: "networking.istio.io", Kind: "ServiceEntry"}:        "serviceentries",
		{Group: "security.istio.io", Kind: "AuthorizationPolicy"}:   "authorizationpolicies",
		{Group: "policy.linkerd.io", Kind: "MeshTLSAuthentication"}: "meshtlsauthentications",
		{Group: "gateway.networking.k8s.io", Kind: "HTTPRoute"}:     "httproutes",
		{Group: "", Kind: "Namespace"}:                              "namespaces",
		{Group: "", Kind: "ConfigMap"}:                              "configmaps",
		{Group: "apps", Kind: "DaemonSet"}:                          "daemonsets",
		{Group: "networking.istio.io", Kind: "Sidecar"}:             "sidecars",
		{Group: "install.istio.io", Kind: "IstioOperator"}:          "istiooperators",
		{Group: "consul.hashicorp.com", Kind: "RouteRetryFilter"}:   "routeretryfilters",
		{Group: "consul.hashicorp.com", Kind: "TerminatingGateway"}: "terminatinggateways",
		{Group: "networking.istio.io", Kind: "EnvoyFilter"}:         "envoyfilters",
	} {
		assert.Equal(t, want, gk.Resource(), gk.String())
	}
}
