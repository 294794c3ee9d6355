//go:build e2e

// Package e2e proves the webhook against a real kube-apiserver and etcd
// (envtest; `make test-e2e` builds them once into bin/k8s). Requests go
// through a real client, the API server's admission chain and the webhook
// configurations, to meshguard serving in process.
package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/meshguard/meshguard/internal/testenv"
	"github.com/meshguard/meshguard/internal/testutil"
)

var env *testenv.Env

func TestMain(m *testing.M) {
	if _, err := testenv.BinDir(); err != nil && os.Getenv("MESHGUARD_E2E_SKIP") != "" {
		fmt.Println("skipping the e2e tier:", err)
		os.Exit(0)
	}
	var logs sync.Mutex
	verbose := os.Getenv("MESHGUARD_E2E_LOG") != ""
	logger := funcr.New(func(prefix, args string) {
		if verbose {
			logs.Lock()
			fmt.Fprintln(os.Stderr, prefix, args)
			logs.Unlock()
		}
	}, funcr.Options{})
	var err error
	env, err = testenv.Start(context.Background(), testenv.Options{Webhook: true, Logger: logr.Logger(logger)})
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	code := m.Run()
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: stopping:", err)
		code = 1
	}
	os.Exit(code)
}

// warnings collects the warnings the API server relays to a client.
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, text)
}

func (w *warnings) all() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.msgs...)
}

func client(t *testing.T) (dynamic.Interface, *warnings) {
	t.Helper()
	w := &warnings{}
	cfg := rest.CopyConfig(env.Config)
	cfg.WarningHandler = w
	c, err := dynamic.NewForConfig(cfg)
	require.NoError(t, err)
	return c, w
}

var (
	peerAuthentications   = schema.GroupVersionResource{Group: "security.istio.io", Version: "v1", Resource: "peerauthentications"}
	authorizationPolicies = schema.GroupVersionResource{Group: "security.istio.io", Version: "v1", Resource: "authorizationpolicies"}
	virtualServices       = schema.GroupVersionResource{Group: "networking.istio.io", Version: "v1", Resource: "virtualservices"}
	deployments           = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	namespaces            = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
)

func object(t *testing.T, src string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	require.NoError(t, yaml.Unmarshal([]byte(src), &u.Object))
	return u
}

var nsCount int

// namespace creates a namespace for one test, with labels, and deletes it
// at the end.
func namespace(t *testing.T, labels map[string]any) string {
	t.Helper()
	c, _ := client(t)
	name := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	if len(name) > 50 {
		name = name[:50]
	}
	nsCount++
	name = fmt.Sprintf("%s-%d", strings.Trim(name, "-"), nsCount)
	ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": name, "labels": labels}}}
	_, err := c.Resource(namespaces).Create(t.Context(), ns, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = c.Resource(namespaces).Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	return name
}

func create(t *testing.T, gvr schema.GroupVersionResource, ns, src string, opts metav1.CreateOptions) (*unstructured.Unstructured, []string, error) {
	t.Helper()
	c, w := client(t)
	out, err := c.Resource(gvr).Namespace(ns).Create(t.Context(), object(t, src), opts)
	return out, w.all(), err
}

func TestPermissivePeerAuthenticationIsRejected(t *testing.T) {
	ns := namespace(t, nil)
	_, _, err := create(t, peerAuthentications, ns, `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default}
spec:
  mtls: {mode: PERMISSIVE}
`, metav1.CreateOptions{})
	require.Error(t, err)
	assert.True(t, apierrors.IsForbidden(err), "%v", err)
	assert.Contains(t, err.Error(), "ISTIO-MTLS-001")
	assert.Contains(t, err.Error(), `admission webhook "validate.meshguard.io" denied the request`)
}

func TestDryRunIsJudgedTheSame(t *testing.T) {
	ns := namespace(t, nil)
	_, _, err := create(t, peerAuthentications, ns, `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default}
spec:
  mtls: {mode: DISABLE}
`, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ISTIO-MTLS-001")
}

func TestStrictPeerAuthenticationIsCreated(t *testing.T) {
	ns := namespace(t, nil)
	out, warns, err := create(t, peerAuthentications, ns, `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default}
spec:
  mtls: {mode: STRICT}
`, metav1.CreateOptions{})
	require.NoError(t, err)
	assert.Empty(t, warns)
	mode, _, _ := unstructured.NestedString(out.Object, "spec", "mtls", "mode")
	assert.Equal(t, "STRICT", mode)
}

func TestNamespacePolicyWithoutModeGetsStrict(t *testing.T) {
	ns := namespace(t, nil)
	out, _, err := create(t, peerAuthentications, ns, `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default}
spec: {}
`, metav1.CreateOptions{})
	require.NoError(t, err)
	mode, _, _ := unstructured.NestedString(out.Object, "spec", "mtls", "mode")
	assert.Equal(t, "STRICT", mode, "the mutating webhook sets STRICT")
	assert.Equal(t, "ISTIO-MTLS-001", out.GetAnnotations()["meshguard.io/mutated"])
}

func TestAllowAllAuthorizationPolicyIsRejected(t *testing.T) {
	ns := namespace(t, nil)
	_, _, err := create(t, authorizationPolicies, ns, `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-all}
spec:
  action: ALLOW
  rules:
  - {}
`, metav1.CreateOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ISTIO-AUTHZ-001")

	_, _, err = create(t, authorizationPolicies, ns, `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-nothing}
spec: {}
`, metav1.CreateOptions{})
	require.NoError(t, err, "allow-nothing is the zero-trust baseline")
}

func TestVirtualServiceGetsDefaultTimeout(t *testing.T) {
	ns := namespace(t, nil)
	_, _, err := create(t, virtualServices, ns, `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings}
spec:
  hosts: [ratings]
  http:
  - route:
    - destination: {host: ratings}
`, metav1.CreateOptions{})
	require.NoError(t, err)
	c, _ := client(t)
	got, err := c.Resource(virtualServices).Namespace(ns).Get(t.Context(), "ratings", metav1.GetOptions{})
	require.NoError(t, err)
	routes, _, _ := unstructured.NestedSlice(got.Object, "spec", "http")
	require.Len(t, routes, 1)
	route := routes[0].(map[string]any)
	assert.Equal(t, "15s", route["timeout"], "read back, the route has the default timeout")
	assert.Equal(t, map[string]any{"attempts": int64(2), "perTryTimeout": "5s", "retryOn": "connect-failure,refused-stream,unavailable,cancelled"}, route["retries"])
	assert.Equal(t, "ISTIO-TRAFFIC-001,ISTIO-TRAFFIC-002", got.GetAnnotations()["meshguard.io/mutated"])
}

func TestDeploymentInMeshedNamespaceGetsSidecarResources(t *testing.T) {
	ns := namespace(t, map[string]any{"istio-injection": "enabled"})
	_, _, err := create(t, deployments, ns, `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: web:1}]
`, metav1.CreateOptions{})
	require.NoError(t, err)
	c, _ := client(t)
	got, err := c.Resource(deployments).Namespace(ns).Get(t.Context(), "web", metav1.GetOptions{})
	require.NoError(t, err)
	ann, _, _ := unstructured.NestedStringMap(got.Object, "spec", "template", "metadata", "annotations")
	assert.Equal(t, "100m", ann["sidecar.istio.io/proxyCPU"])
	assert.Equal(t, "128Mi", ann["sidecar.istio.io/proxyMemory"])
	assert.Equal(t, "1024Mi", ann["sidecar.istio.io/proxyMemoryLimit"])
	assert.NotContains(t, ann, "sidecar.istio.io/proxyCPULimit", "no CPU limit unless configured")
	assert.Equal(t, `{"holdApplicationUntilProxyStarts":true}`, ann["proxy.istio.io/config"])
	assert.Equal(t, "ISTIO-INJ-004,ISTIO-RES-001", got.GetAnnotations()["meshguard.io/mutated"])

	// Outside the mesh, nothing is added.
	plain := namespace(t, nil)
	_, _, err = create(t, deployments, plain, `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: web:1}]
`, metav1.CreateOptions{})
	require.NoError(t, err)
	got, err = c.Resource(deployments).Namespace(plain).Get(t.Context(), "web", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Empty(t, got.GetAnnotations()["meshguard.io/mutated"])
}

func TestWarnRuleReachesTheClient(t *testing.T) {
	ns := namespace(t, nil)
	_, warns, err := create(t, virtualServices, ns, `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: payments}
spec:
  hosts: [payments]
  http:
  - timeout: 20s
    retries: {attempts: 2}
    route:
    - destination: {host: payments}
`, metav1.CreateOptions{})
	require.NoError(t, err)
	require.NotEmpty(t, warns)
	assert.Contains(t, strings.Join(warns, "\n"), "ISTIO-TRAFFIC-002")
}

func TestExcludedNamespacesAreNotJudged(t *testing.T) {
	ns := namespace(t, map[string]any{"meshguard.io/ignore": "true"})
	_, _, err := create(t, peerAuthentications, ns, `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default}
spec:
  mtls: {mode: PERMISSIVE}
`, metav1.CreateOptions{})
	require.NoError(t, err, "the opt-out label keeps the namespace out of the webhook")
}

func servingSerial(t *testing.T, pool *x509.CertPool) *big.Int {
	t.Helper()
	conn, err := tls.Dial("tcp", env.WebhookAddr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	require.NoError(t, err)
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber
}

// New files in the certificate directory are served without a restart, and
// the API server's requests keep succeeding across the swap.
func TestCertificateRotation(t *testing.T) {
	ca, err := testutil.NewCA()
	require.NoError(t, err)
	kc, err := kubernetes.NewForConfig(env.Config)
	require.NoError(t, err)
	bundle := append(append([]byte{}, env.CAData()...), ca.PEM...)
	patch, err := json.Marshal([]map[string]any{{"op": "replace", "path": "/webhooks/0/clientConfig/caBundle", "value": bundle}})
	require.NoError(t, err)
	_, err = kc.AdmissionregistrationV1().ValidatingWebhookConfigurations().Patch(t.Context(), "meshguard", types.JSONPatchType, patch, metav1.PatchOptions{})
	require.NoError(t, err)
	_, err = kc.AdmissionregistrationV1().MutatingWebhookConfigurations().Patch(t.Context(), "meshguard", types.JSONPatchType, patch, metav1.PatchOptions{})
	require.NoError(t, err)

	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(bundle))
	before := servingSerial(t, pool)

	ns := namespace(t, nil)
	stop := make(chan struct{})
	var failures []error
	var requests int
	var wg sync.WaitGroup
	wg.Go(func() {
		c, _ := client(t)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			obj := object(t, fmt.Sprintf("apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: p%d}\nspec:\n  selector: {matchLabels: {app: a%d}}\n  mtls: {mode: STRICT}\n", i, i))
			_, err := c.Resource(peerAuthentications).Namespace(ns).Create(context.Background(), obj, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
			requests++
			if err != nil {
				failures = append(failures, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})

	time.Sleep(300 * time.Millisecond)
	serial, err := ca.WriteServing(env.CertDir, "127.0.0.1")
	require.NoError(t, err)
	assert.Eventually(t, func() bool { return servingSerial(t, pool).Cmp(serial) == 0 }, 20*time.Second, 100*time.Millisecond, "the new certificate was not picked up")
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	assert.NotEqual(t, before, serial)
	assert.Empty(t, failures, "requests failed during the rotation")
	assert.Greater(t, requests, 10)

	_, _, err = create(t, peerAuthentications, ns, "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default}\nspec:\n  mtls: {mode: PERMISSIVE}\n", metav1.CreateOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ISTIO-MTLS-001", "still judged after the rotation")
}

// The webhook configurations cover every kind the bundle covers.
func TestWebhookConfigurationsAreInstalled(t *testing.T) {
	kc, err := kubernetes.NewForConfig(env.Config)
	require.NoError(t, err)
	v, err := kc.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(t.Context(), "meshguard", metav1.GetOptions{})
	require.NoError(t, err)
	require.Len(t, v.Webhooks, 1)
	wh := v.Webhooks[0]
	assert.Equal(t, admissionregistrationv1.SideEffectClassNone, *wh.SideEffects)
	assert.Equal(t, int32(10), *wh.TimeoutSeconds)
	assert.Equal(t, admissionregistrationv1.Equivalent, *wh.MatchPolicy)
	var resources []string
	for _, r := range wh.Rules {
		resources = append(resources, r.Resources...)
	}
	for _, want := range []string{"peerauthentications", "authorizationpolicies", "virtualservices", "destinationrules", "deployments", "pods"} {
		assert.Contains(t, resources, want)
	}
}
