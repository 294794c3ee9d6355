//go:build e2e

package e2e

import (
	"context"
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
	linkerdServers        = schema.GroupVersionResource{Group: "policy.linkerd.io", Version: "v1beta3", Resource: "servers"}
	linkerdAuthorizations = schema.GroupVersionResource{Group: "policy.linkerd.io", Version: "v1alpha1", Resource: "authorizationpolicies"}
	linkerdEgressNetworks = schema.GroupVersionResource{Group: "policy.linkerd.io", Version: "v1alpha1", Resource: "egressnetworks"}
)

// A Server that admits unauthenticated clients is denied; an EgressNetwork
// that allows the internet outside the global egress namespace is created
// with a warning.
func TestLinkerdPermissivePoliciesAtAdmission(t *testing.T) {
	ns := namespace(t, nil)
	_, _, err := create(t, linkerdServers, ns, `
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {name: web-http}
spec:
  podSelector: {matchLabels: {app: web}}
  port: http
  accessPolicy: all-unauthenticated
`, metav1.CreateOptions{})
	require.Error(t, err)
	assert.True(t, apierrors.IsForbidden(err), "%v", err)
	assert.Contains(t, err.Error(), "LINKERD-AUTHZ-002")

	_, warns, err := create(t, linkerdEgressNetworks, ns, `
apiVersion: policy.linkerd.io/v1alpha1
kind: EgressNetwork
metadata: {name: all-egress}
spec:
  trafficPolicy: Allow
`, metav1.CreateOptions{})
	require.NoError(t, err)
	assert.Contains(t, strings.Join(warns, "\n"), "LINKERD-EGRESS-001")
}

// The webhook judges Linkerd policy objects by the others in its cache: a
// Server nothing authorizes warns, and so does a policy whose Server does not
// exist; once the policy is cached the Server is clean, and once the Server
// is cached a policy for it is clean.
func TestLinkerdServerAuthorizationFromTheInventory(t *testing.T) {
	ns := namespace(t, nil)
	server := `
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {name: authors}
spec:
  podSelector: {matchLabels: {app: authors}}
  port: service
`
	policy := func(name string) string {
		return `
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: {name: ` + name + `}
spec:
  targetRef: {group: policy.linkerd.io, kind: Server, name: authors}
  requiredAuthenticationRefs: [{name: webapp, kind: ServiceAccount}]
`
	}
	dryRun := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}
	authz003 := func(warns []string) bool { return strings.Contains(strings.Join(warns, "\n"), "LINKERD-AUTHZ-003") }

	_, warns, err := create(t, linkerdServers, ns, server, dryRun)
	require.NoError(t, err)
	assert.True(t, authz003(warns), "a Server nothing authorizes: %v", warns)
	_, warns, err = create(t, linkerdAuthorizations, ns, policy("authors"), metav1.CreateOptions{})
	require.NoError(t, err)
	assert.True(t, authz003(warns), "a policy for a Server that does not exist: %v", warns)

	// Both reach the webhook's cache through its informers.
	require.Eventually(t, func() bool {
		_, warns, err := create(t, linkerdServers, ns, server, dryRun)
		return err == nil && !authz003(warns)
	}, 30*time.Second, 200*time.Millisecond, "the cached policy authorizes the Server")
	_, _, err = create(t, linkerdServers, ns, server, metav1.CreateOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, warns, err := create(t, linkerdAuthorizations, ns, policy("authors-2"), dryRun)
		return err == nil && !authz003(warns)
	}, 30*time.Second, 200*time.Millisecond, "the policy's Server is found")
}

// A workload in a Linkerd-meshed namespace that sets no proxy resources gets
// the defaults; one outside the mesh gets nothing.
func TestLinkerdDeploymentGetsProxyResources(t *testing.T) {
	c, _ := client(t)
	name := "linkerd-res-e2e"
	ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{
		"name": name, "annotations": map[string]any{"linkerd.io/inject": "enabled", "config.linkerd.io/default-inbound-policy": "deny"}}}}
	_, err := c.Resource(namespaces).Create(t.Context(), ns, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Resource(namespaces).Delete(context.Background(), name, metav1.DeleteOptions{}) })
	deployment := `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: web:1}]
`
	_, _, err = create(t, deployments, name, deployment, metav1.CreateOptions{})
	require.NoError(t, err)
	got, err := c.Resource(deployments).Namespace(name).Get(t.Context(), "web", metav1.GetOptions{})
	require.NoError(t, err)
	ann, _, _ := unstructured.NestedStringMap(got.Object, "spec", "template", "metadata", "annotations")
	assert.Equal(t, "100m", ann["config.linkerd.io/proxy-cpu-request"])
	assert.Equal(t, "64Mi", ann["config.linkerd.io/proxy-memory-request"])
	assert.Equal(t, "256Mi", ann["config.linkerd.io/proxy-memory-limit"])
	assert.Equal(t, "LINKERD-RES-001", got.GetAnnotations()["meshguard.io/mutated"])

	plain := namespace(t, nil)
	_, _, err = create(t, deployments, plain, deployment, metav1.CreateOptions{})
	require.NoError(t, err)
	got, err = c.Resource(deployments).Namespace(plain).Get(t.Context(), "web", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Empty(t, got.GetAnnotations()["meshguard.io/mutated"])
}
