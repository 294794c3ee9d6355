//go:build e2e

package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

// A meshed namespace gets its default policies from the controller; a
// deleted one comes back; deleting or weakening one is denied; a user's own
// equivalent is respected; opting out stops it all.
func TestDefaultPolicies(t *testing.T) {
	c, _ := client(t)
	ns := namespace(t, map[string]any{"istio-injection": "enabled"})

	eventually := func(what string, cond func() bool) {
		t.Helper()
		require.Eventually(t, cond, 30*time.Second, 100*time.Millisecond, what)
	}
	exists := func(ns, name string, managed bool) func() bool {
		return func() bool {
			u, err := c.Resource(peerAuthentications).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
			return err == nil && (u.GetLabels()["app.kubernetes.io/managed-by"] == "meshguard") == managed
		}
	}
	eventually("the STRICT PeerAuthentication is created", exists(ns, "default", true))
	eventually("the allow-nothing AuthorizationPolicy is created", func() bool {
		u, err := c.Resource(authorizationPolicies).Namespace(ns).Get(context.Background(), "allow-nothing", metav1.GetOptions{})
		return err == nil && u.GetAnnotations()["meshguard.io/bundle-revision"] != ""
	})
	pa, err := c.Resource(peerAuthentications).Namespace(ns).Get(t.Context(), "default", metav1.GetOptions{})
	require.NoError(t, err)
	mode, _, _ := unstructured.NestedString(pa.Object, "spec", "mtls", "mode")
	assert.Equal(t, "STRICT", mode)
	assert.Equal(t, "ISTIO-GEN-001@1.1.0", pa.GetAnnotations()["meshguard.io/generated-by"])

	// Protection: deleting or weakening it is denied.
	err = c.Resource(peerAuthentications).Namespace(ns).Delete(t.Context(), "default", metav1.DeleteOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ISTIO-DEFAULTS-001")
	require.NoError(t, unstructured.SetNestedField(pa.Object, "PERMISSIVE", "spec", "mtls", "mode"))
	_, err = c.Resource(peerAuthentications).Namespace(ns).Update(t.Context(), pa, metav1.UpdateOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ISTIO-DEFAULTS-001")

	// A default deleted past the webhook (here: as the namespace controller,
	// which the rule lets through) is recreated.
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:kube-system:namespace-controller"}
	nsController, err := dynamic.NewForConfig(cfg)
	require.NoError(t, err)
	require.NoError(t, nsController.Resource(peerAuthentications).Namespace(ns).Delete(t.Context(), "default", metav1.DeleteOptions{}))
	eventually("the deleted default is recreated", exists(ns, "default", true))

	// Opting out: deletion is allowed and nothing comes back.
	nsObj, err := c.Resource(namespaces).Get(t.Context(), ns, metav1.GetOptions{})
	require.NoError(t, err)
	nsObj.SetAnnotations(map[string]string{"meshguard.io/defaults": "disabled"})
	_, err = c.Resource(namespaces).Update(t.Context(), nsObj, metav1.UpdateOptions{})
	require.NoError(t, err)
	eventually("the opt-out reaches the inventory, so deletion is allowed", func() bool {
		err := c.Resource(peerAuthentications).Namespace(ns).Delete(context.Background(), "default", metav1.DeleteOptions{DryRun: []string{metav1.DryRunAll}})
		return err == nil
	})
	require.NoError(t, c.Resource(peerAuthentications).Namespace(ns).Delete(t.Context(), "default", metav1.DeleteOptions{}))
	time.Sleep(2 * time.Second)
	_, err = c.Resource(peerAuthentications).Namespace(ns).Get(t.Context(), "default", metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "an opted-out namespace gets no defaults back: %v", err)
}

// A user's own STRICT namespace-wide PeerAuthentication counts: no managed
// one is added beside it.
func TestDefaultPoliciesRespectUserEquivalents(t *testing.T) {
	c, _ := client(t)
	ns := namespace(t, nil)
	_, _, err := create(t, peerAuthentications, ns, "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: mine}\nspec:\n  mtls: {mode: STRICT}\n", metav1.CreateOptions{})
	require.NoError(t, err)
	// Enrol the namespace only now, so the user's policy is known first.
	nsObj, err := c.Resource(namespaces).Get(t.Context(), ns, metav1.GetOptions{})
	require.NoError(t, err)
	nsObj.SetLabels(map[string]string{"istio-injection": "enabled"})
	_, err = c.Resource(namespaces).Update(t.Context(), nsObj, metav1.UpdateOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, err := c.Resource(authorizationPolicies).Namespace(ns).Get(context.Background(), "allow-nothing", metav1.GetOptions{})
		return err == nil
	}, 30*time.Second, 100*time.Millisecond, "the allow-nothing policy is still created")
	_, err = c.Resource(peerAuthentications).Namespace(ns).Get(t.Context(), "default", metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "no managed PeerAuthentication beside the user's STRICT one")
}

// A managed default written by an older bundle is brought to the current
// template and revision in place.
func TestDefaultPoliciesUpgradeInPlace(t *testing.T) {
	c, _ := client(t)
	ns := namespace(t, nil)
	old := "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  labels: {app.kubernetes.io/managed-by: meshguard}\n  annotations: {meshguard.io/bundle-revision: \"2000.1.0\", meshguard.io/generated-by: ISTIO-GEN-001@0.9.0}\nspec:\n  mtls: {mode: STRICT}\n"
	_, _, err := create(t, peerAuthentications, ns, old, metav1.CreateOptions{})
	require.NoError(t, err)
	nsObj, err := c.Resource(namespaces).Get(t.Context(), ns, metav1.GetOptions{})
	require.NoError(t, err)
	nsObj.SetLabels(map[string]string{"istio-injection": "enabled"})
	_, err = c.Resource(namespaces).Update(t.Context(), nsObj, metav1.UpdateOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		u, err := c.Resource(peerAuthentications).Namespace(ns).Get(context.Background(), "default", metav1.GetOptions{})
		return err == nil && u.GetAnnotations()["meshguard.io/generated-by"] == "ISTIO-GEN-001@1.1.0" && u.GetAnnotations()["meshguard.io/bundle-revision"] == "2026.12.0"
	}, 30*time.Second, 100*time.Millisecond, "the managed default is updated to the current template")
}

// A Linkerd namespace gets the deny default inbound policy from the mutating
// webhook; an unauthenticated one is denied.
func TestLinkerdNamespaceDefault(t *testing.T) {
	c, _ := client(t)
	ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{
		"name": "emojivoto", "annotations": map[string]any{"linkerd.io/inject": "enabled"}}}}
	got, err := c.Resource(namespaces).Create(t.Context(), ns, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Resource(namespaces).Delete(context.Background(), "emojivoto", metav1.DeleteOptions{}) })
	assert.Equal(t, "deny", got.GetAnnotations()["config.linkerd.io/default-inbound-policy"])
	assert.Equal(t, "LINKERD-AUTHZ-001", got.GetAnnotations()["meshguard.io/mutated"])

	open := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{
		"name": "open", "annotations": map[string]any{"linkerd.io/inject": "enabled", "config.linkerd.io/default-inbound-policy": "all-unauthenticated"}}}}
	_, err = c.Resource(namespaces).Create(t.Context(), open, metav1.CreateOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "LINKERD-AUTHZ-001")
}

// An opted-out namespace gets nothing, and a user's object with a default's
// name is never touched.
func TestDefaultPoliciesOptOutAndUserObjects(t *testing.T) {
	c, _ := client(t)
	ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{
		"name": "opted-out", "labels": map[string]any{"istio-injection": "enabled"}, "annotations": map[string]any{"meshguard.io/defaults": "disabled"}}}}
	_, err := c.Resource(namespaces).Create(t.Context(), ns, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Resource(namespaces).Delete(context.Background(), "opted-out", metav1.DeleteOptions{}) })

	user := namespace(t, nil)
	mine := "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: allow-nothing}\nspec:\n  selector: {matchLabels: {app: api}}\n  rules:\n  - from:\n    - source: {principals: [cluster.local/ns/shop/sa/frontend]}\n"
	_, _, err = create(t, authorizationPolicies, user, mine, metav1.CreateOptions{})
	require.NoError(t, err)
	nsObj, err := c.Resource(namespaces).Get(t.Context(), user, metav1.GetOptions{})
	require.NoError(t, err)
	nsObj.SetLabels(map[string]string{"istio-injection": "enabled"})
	_, err = c.Resource(namespaces).Update(t.Context(), nsObj, metav1.UpdateOptions{})
	require.NoError(t, err)

	// The controller acts on the user's namespace (its PeerAuthentication
	// appears), so by then it has also seen the opted-out one.
	require.Eventually(t, func() bool {
		_, err := c.Resource(peerAuthentications).Namespace(user).Get(context.Background(), "default", metav1.GetOptions{})
		return err == nil
	}, 30*time.Second, 100*time.Millisecond)
	time.Sleep(time.Second)
	got, err := c.Resource(authorizationPolicies).Namespace(user).Get(t.Context(), "allow-nothing", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Empty(t, got.GetLabels()["app.kubernetes.io/managed-by"], "the user's object is not taken over")
	rules, _, _ := unstructured.NestedSlice(got.Object, "spec", "rules")
	assert.Len(t, rules, 1, "the user's object is not overwritten")

	l, err := c.Resource(peerAuthentications).Namespace("opted-out").List(t.Context(), metav1.ListOptions{})
	require.NoError(t, err)
	assert.Empty(t, l.Items, "an opted-out namespace gets no defaults")
	l, err = c.Resource(authorizationPolicies).Namespace("opted-out").List(t.Context(), metav1.ListOptions{})
	require.NoError(t, err)
	assert.Empty(t, l.Items)
}
