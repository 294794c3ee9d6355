//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/meshguard/meshguard/internal/testenv"
	"github.com/meshguard/meshguard/pkg/admission"
	"github.com/meshguard/meshguard/pkg/server"
)

type lockedLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.WriteString(s + "\n")
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// reviewResponse is what the webhook answers to one AdmissionReview sent
// directly over HTTPS.
type reviewResponse struct {
	Allowed  bool     `json:"allowed"`
	Patch    []byte   `json:"patch"`
	Warnings []string `json:"warnings"`
	Status   *struct {
		Code    int32  `json:"code"`
		Message string `json:"message"`
	} `json:"status"`
}

// direct returns a function that sends one CREATE AdmissionReview in
// namespace ns straight to the webhook of env over HTTPS (not through the
// API server) and returns its answer.
func direct(t *testing.T, env *testenv.Env, ns string) func(path, kind, group, object string) reviewResponse {
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(env.CAData()))
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	return func(path, kind, group, object string) reviewResponse {
		t.Helper()
		body, err := json.Marshal(map[string]any{
			"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
			"request": map[string]any{
				"uid": "11111111-2222-3333-4444-555555555555", "operation": "CREATE", "namespace": ns, "name": "web",
				"kind":   map[string]any{"group": group, "version": "v1", "kind": kind},
				"object": json.RawMessage(object),
			},
		})
		require.NoError(t, err)
		resp, err := hc.Post("https://"+env.WebhookAddr+path, "application/json", bytes.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var out struct {
			Response reviewResponse `json:"response"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		return out.Response
	}
}

// meshedDeployment is a Deployment in ns; in a meshed namespace the
// mutating webhook adds sidecar resources (a rule that reads the
// namespace's labels from the inventory).
func meshedDeployment(ns string) string {
	return `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"` + ns + `"},"spec":{"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"web:1"}]}}}}`
}

// With the API server gone, the webhook keeps judging from its informer
// cache: a Deployment in a namespace the cache knows as meshed still gets
// its sidecar resources (a rule that reads the namespace's labels). Once the
// watches have been broken longer than --inventory-stale-after, verdicts say
// the inventory is stale (a warning, inventoryStale in the decision log,
// meshguard_inventory_stale 1), and the webhook stays ready.
func TestAPIServerLoss(t *testing.T) {
	var logs lockedLog
	metricsAddr := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer l.Close()
		return l.Addr().String()
	}()
	own, err := testenv.Start(t.Context(), testenv.Options{
		Webhook:     true,
		Logger:      funcr.NewJSON(logs.add, funcr.Options{}),
		StopTimeout: 2 * time.Second, // then killed: a crash rather than a graceful stop
		Server: func(o *server.Options) {
			o.InventoryStaleAfter = 2 * time.Second
			o.MetricsAddr = metricsAddr
			o.NoDefaults, o.AuditInterval = true, 0
		},
	})
	require.NoError(t, err)
	stopped := false
	t.Cleanup(func() {
		if t.Failed() {
			for _, l := range strings.Split(logs.String(), "\n") {
				if !strings.Contains(l, `"admission decision"`) || strings.Contains(l, "inventoryStale") {
					t.Log(l)
				}
			}
		}
		if !stopped {
			assert.NoError(t, own.Stop())
		}
	})

	c, err := dynamic.NewForConfig(own.Config)
	require.NoError(t, err)
	ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace",
		"metadata": map[string]any{"name": "meshed", "labels": map[string]any{"istio-injection": "enabled"}}}}
	_, err = c.Resource(namespaces).Create(t.Context(), ns, metav1.CreateOptions{})
	require.NoError(t, err)

	send := direct(t, own, "meshed")
	deployment := meshedDeployment("meshed")
	permissive := `{"apiVersion":"security.istio.io/v1","kind":"PeerAuthentication","metadata":{"name":"default","namespace":"meshed"},"spec":{"mtls":{"mode":"PERMISSIVE"}}}`
	meshedPatch := func() bool {
		r := send(server.PathMutate, "Deployment", "apps", deployment)
		return r.Allowed && bytes.Contains(r.Patch, []byte("sidecar.istio.io/proxyCPU"))
	}
	metric := func(line string) bool {
		resp, err := http.Get("http://" + metricsAddr + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(b), "\n"+line+"\n")
	}
	ready := func() int {
		resp, err := http.Get("http://" + own.HealthAddr + "/readyz")
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}

	require.Eventually(t, meshedPatch, 15*time.Second, 100*time.Millisecond, "the meshed namespace never reached the inventory")
	fresh := send(server.PathValidate, "PeerAuthentication", "security.istio.io", permissive)
	assert.False(t, fresh.Allowed)
	assert.Empty(t, fresh.Warnings)
	assert.True(t, metric("meshguard_inventory_stale 0"))

	require.NoError(t, own.StopAPIServer())
	lost := time.Now()
	_, err = c.Resource(namespaces).Get(context.Background(), "meshed", metav1.GetOptions{})
	require.Error(t, err, "the API server is gone")

	// At once: still judged from the cache.
	assert.True(t, meshedPatch(), "mutated from the cached namespace labels")
	// After the stale threshold: said so.
	require.Eventually(t, func() bool {
		r := send(server.PathValidate, "PeerAuthentication", "security.istio.io", permissive)
		return len(r.Warnings) > 0 && strings.HasPrefix(r.Warnings[0], admission.StaleWarning)
	}, 30*time.Second, 200*time.Millisecond, "the stale inventory was never reported")
	assert.GreaterOrEqual(t, time.Since(lost), 2*time.Second, "not stale before --inventory-stale-after")
	stale := send(server.PathValidate, "PeerAuthentication", "security.istio.io", permissive)
	assert.False(t, stale.Allowed, "still judged")
	require.NotNil(t, stale.Status)
	assert.Contains(t, stale.Status.Message, "ISTIO-MTLS-001")
	assert.True(t, meshedPatch(), "still mutated from the cache")
	assert.True(t, metric("meshguard_inventory_stale 1"))
	assert.Contains(t, logs.String(), `"inventoryStale":true`)
	assert.Contains(t, logs.String(), "the inventory watch broke")
	assert.Equal(t, http.StatusOK, ready(), "the webhook stays ready: it still judges")

	stopped = true
	assert.NoError(t, own.Stop(), "the webhook stops cleanly without its API server")
}
