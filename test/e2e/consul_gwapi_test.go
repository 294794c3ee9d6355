//go:build e2e

package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	serviceIntentions = schema.GroupVersionResource{Group: "consul.hashicorp.com", Version: "v1alpha1", Resource: "serviceintentions"}
	consulMeshes      = schema.GroupVersionResource{Group: "consul.hashicorp.com", Version: "v1alpha1", Resource: "meshes"}
	httpRoutes        = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "httproutes"}
	gateways          = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "gateways"}
)

// A Consul config entry (our schemaless CRD) goes through the webhook:
// * -> * allow is denied, the deny-all baseline is created.
func TestConsulAllowAllIntentionsAreDenied(t *testing.T) {
	ns := namespace(t, nil)
	_, _, err := create(t, serviceIntentions, ns, `
apiVersion: consul.hashicorp.com/v1alpha1
kind: ServiceIntentions
metadata: {name: allow-all}
spec:
  destination: {name: "*"}
  sources:
  - {name: "*", action: allow}
`, metav1.CreateOptions{})
	require.Error(t, err)
	assert.True(t, apierrors.IsForbidden(err), "%v", err)
	assert.Contains(t, err.Error(), "CONSUL-INTENT-001")

	_, warns, err := create(t, serviceIntentions, ns, `
apiVersion: consul.hashicorp.com/v1alpha1
kind: ServiceIntentions
metadata: {name: deny-all}
spec:
  destination: {name: "*"}
  sources:
  - {name: "*", action: deny}
`, metav1.CreateOptions{})
	require.NoError(t, err)
	assert.Empty(t, warns)
}

// The mutating webhook adds the TLS floors to a Mesh without them, so it
// is created without warnings.
func TestConsulMeshGetsTLSFloor(t *testing.T) {
	ns := namespace(t, nil)
	out, warns, err := create(t, consulMeshes, ns, `
apiVersion: consul.hashicorp.com/v1alpha1
kind: Mesh
metadata: {name: mesh}
spec:
  transparentProxy: {meshDestinationsOnly: true}
`, metav1.CreateOptions{})
	require.NoError(t, err)
	assert.Empty(t, warns)
	for _, dir := range []string{"incoming", "outgoing"} {
		v, _, _ := unstructured.NestedString(out.Object, "spec", "tls", dir, "tlsMinVersion")
		assert.Equal(t, "TLSv1_2", v, dir)
	}
	assert.Equal(t, "CONSUL-MESH-001", out.GetAnnotations()["meshguard.io/mutated"])
}

// On the real Gateway API standard CRD, an HTTPRoute rule without a request
// timeout gets the default one before it is validated.
func TestHTTPRouteGetsDefaultRequestTimeout(t *testing.T) {
	ns := namespace(t, nil)
	out, warns, err := create(t, httpRoutes, ns, `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: reviews}
spec:
  parentRefs: [{group: "", kind: Service, name: reviews, port: 9080}]
  rules:
  - backendRefs: [{name: reviews-v2, port: 9080}]
`, metav1.CreateOptions{})
	require.NoError(t, err)
	assert.Empty(t, warns)
	rules, _, _ := unstructured.NestedSlice(out.Object, "spec", "rules")
	require.Len(t, rules, 1)
	request, _, _ := unstructured.NestedString(rules[0].(map[string]any), "timeouts", "request")
	assert.Equal(t, "15s", request)
	assert.Equal(t, "GWAPI-ROUTE-001", out.GetAnnotations()["meshguard.io/mutated"])
}

// GWAPI-GW-001 reads the Gateway from the webhook's cache: once the
// Gateway is there, a route attached to its plaintext listener is warned.
func TestRouteOnPublicPlaintextListenerIsWarned(t *testing.T) {
	ns := namespace(t, nil)
	_, warns, err := create(t, gateways, ns, `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: public}
spec:
  gatewayClassName: istio
  listeners:
  - {name: http, protocol: HTTP, port: 80, hostname: shop.example.com}
  - name: https
    protocol: HTTPS
    port: 443
    hostname: shop.example.com
    tls: {mode: Terminate, certificateRefs: [{name: shop-cert}]}
`, metav1.CreateOptions{})
	require.NoError(t, err)
	assert.Empty(t, warns, "HTTPS serves the hostname and no route is attached yet")
	route := `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop}
spec:
  parentRefs: [{name: public}]
  rules:
  - backendRefs: [{name: shop, port: 8080}]
    timeouts: {request: 10s}
`
	assert.Eventually(t, func() bool {
		_, warns, err := create(t, httpRoutes, ns, route, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return err == nil && len(warns) == 1 && strings.Contains(warns[0], "GWAPI-GW-001") && strings.Contains(warns[0], "plaintext HTTP listener http")
	}, 20*time.Second, 200*time.Millisecond, "the route attached to the HTTP listener is warned once the Gateway is cached")

	_, warns, err = create(t, httpRoutes, ns, strings.Replace(route, "[{name: public}]", "[{name: public, sectionName: https}]", 1), metav1.CreateOptions{})
	require.NoError(t, err)
	assert.Empty(t, warns, "a route on the HTTPS listener only")
}
