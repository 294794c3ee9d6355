package server_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"

	"github.com/meshguard/meshguard/internal/testutil"
	"github.com/meshguard/meshguard/pkg/certs"
	"github.com/meshguard/meshguard/pkg/server"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

type running struct {
	webhook, health, metrics string
	client                   *http.Client
	done                     chan error
}

func start(t *testing.T, opts server.Options, ca *testutil.CA) *running {
	t.Helper()
	port := freePort(t)
	r := &running{
		webhook: "https://127.0.0.1:" + strconv.Itoa(port),
		health:  "127.0.0.1:" + strconv.Itoa(freePort(t)),
		metrics: "127.0.0.1:" + strconv.Itoa(freePort(t)),
		done:    make(chan error, 1),
	}
	opts.Host, opts.Port, opts.HealthAddr, opts.MetricsAddr = "127.0.0.1", port, r.health, r.metrics
	if opts.Logger.GetSink() == nil {
		opts.Logger = testr.New(t)
	}
	opts.ShutdownDelay = -1
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	r.client = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { r.done <- server.Run(ctx, opts) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-r.done:
			assert.NoError(t, err, "Run returns cleanly when stopped")
		case <-time.After(30 * time.Second):
			t.Error("Run did not stop")
		}
	})
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + r.health + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 20*time.Second, 50*time.Millisecond, "the webhook never became ready")
	return r
}

func reviewBody(t *testing.T, object string) []byte {
	t.Helper()
	ar := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID:       "11111111-2222-3333-4444-555555555555",
			Kind:      metav1.GroupVersionKind{Group: "security.istio.io", Version: "v1", Kind: "PeerAuthentication"},
			Namespace: "shop", Name: "default", Operation: admissionv1.Create,
			Object: runtime.RawExtension{Raw: []byte(object)},
		},
	}
	body, err := json.Marshal(ar)
	require.NoError(t, err)
	return body
}

func (r *running) review(t *testing.T, path string, object string) *admissionv1.AdmissionResponse {
	t.Helper()
	ar := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID:       "11111111-2222-3333-4444-555555555555",
			Kind:      metav1.GroupVersionKind{Group: "security.istio.io", Version: "v1", Kind: "PeerAuthentication"},
			Namespace: "shop", Name: "default", Operation: admissionv1.Create,
			Object: runtime.RawExtension{Raw: []byte(object)},
		},
	}
	body, err := json.Marshal(ar)
	require.NoError(t, err)
	resp, err := r.client.Post(r.webhook+path, "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var out admissionv1.AdmissionReview
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	require.NotNil(t, out.Response)
	assert.Equal(t, ar.Request.UID, out.Response.UID)
	return out.Response
}

func serial(t *testing.T, addr string, pool *x509.CertPool) *big.Int {
	t.Helper()
	conn, err := tls.Dial("tcp", strings.TrimPrefix(addr, "https://"), &tls.Config{RootCAs: pool, ServerName: "localhost"})
	require.NoError(t, err)
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber
}

const (
	permissive = `{"apiVersion":"security.istio.io/v1","kind":"PeerAuthentication","metadata":{"name":"default","namespace":"shop"},"spec":{"mtls":{"mode":"PERMISSIVE"}}}`
	unset      = `{"apiVersion":"security.istio.io/v1","kind":"PeerAuthentication","metadata":{"name":"default","namespace":"shop"},"spec":{}}`
)

// The standalone server end to end over loopback: HTTPS validate and mutate,
// health and readiness, metrics, TLS policy and certificate rotation.
func TestStandaloneServer(t *testing.T) {
	ca, err := testutil.NewCA()
	require.NoError(t, err)
	certDir := t.TempDir()
	first, err := ca.WriteServing(certDir)
	require.NoError(t, err)
	r := start(t, server.Options{CertDir: certDir, Standalone: true}, ca)

	denied := r.review(t, server.PathValidate, permissive)
	assert.False(t, denied.Allowed)
	assert.Equal(t, int32(http.StatusForbidden), denied.Result.Code)
	assert.Contains(t, denied.Result.Message, "ISTIO-MTLS-001")

	allowed := r.review(t, server.PathValidate, unset)
	assert.True(t, allowed.Allowed, "standalone: an UNSET mode is not judged by parents the server cannot see")
	assert.Empty(t, allowed.Warnings)

	resp, err := http.Get("http://" + r.health + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	resp, err = http.Get("http://" + r.metrics + "/metrics")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Contains(t, string(body), `meshguard_admission_requests_total{kind="PeerAuthentication.security.istio.io",verdict="denied",webhook="validate"} 1`)
	assert.Contains(t, string(body), `meshguard_bundle_info{revision="2026.12.0"} 1`)
	assert.Contains(t, string(body), "go_goroutines ", "Go runtime metrics")
	assert.Contains(t, string(body), "process_resident_memory_bytes ", "process metrics")
	assert.NotContains(t, string(body), "error has occurred", "no duplicate collectors")
	assert.Contains(t, string(body), `meshguard_admission_findings_total{action="deny",rule="ISTIO-MTLS-001"} 1`)

	// TLS below 1.2 is refused; plaintext HTTP gets no admission answer.
	_, err = tls.Dial("tcp", strings.TrimPrefix(r.webhook, "https://"), &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11}) //nolint:gosec // the point of the test
	require.Error(t, err)
	plain, err := http.Post("http://"+strings.TrimPrefix(r.webhook, "https://")+server.PathValidate, "application/json", strings.NewReader("{}"))
	if err == nil {
		plain.Body.Close()
		assert.Equal(t, http.StatusBadRequest, plain.StatusCode, "a plaintext request gets TLS's 400, never a decision")
	}

	// Rotation: new files in the cert dir are served without a restart.
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	require.Equal(t, first, serial(t, r.webhook, pool))
	second, err := ca.WriteServing(certDir)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return serial(t, r.webhook, pool).Cmp(second) == 0 }, 15*time.Second, 100*time.Millisecond, "the new certificate was not picked up")
	again := r.review(t, server.PathValidate, permissive)
	assert.False(t, again.Allowed)
}

func TestRunRefusesUnsafeOrIncompleteSetups(t *testing.T) {
	ca, err := testutil.NewCA()
	require.NoError(t, err)
	withCert := t.TempDir()
	_, err = ca.WriteServing(withCert)
	require.NoError(t, err)
	tests := []struct {
		name string
		opts server.Options
		want string
	}{
		{"no certificate directory", server.Options{Standalone: true}, "a certificate directory is required"},
		{"a certificate directory without the files", server.Options{Standalone: true, CertDir: t.TempDir()}, "tls.crt"},
		{"no cluster and not standalone", server.Options{CertDir: withCert}, "use --standalone"},
		{"a config file that does not exist", server.Options{CertDir: withCert, Standalone: true, ConfigFile: "/nonexistent/config.yaml"}, "config.yaml"},
		{"a policy directory that does not exist", server.Options{CertDir: withCert, Standalone: true, Dirs: []string{"/nonexistent/policies"}}, "/nonexistent/policies"},
		{"self-signed certificates without a cluster", server.Options{CertDir: t.TempDir(), Standalone: true, SelfSignedCerts: &certs.Options{}}, "need a cluster"},
		{"self-signed certificates without hosts", server.Options{CertDir: t.TempDir(), RestConfig: &rest.Config{Host: "https://127.0.0.1:1"}, SelfSignedCerts: &certs.Options{Namespace: "a", Secret: "b"}}, "--cert-host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.HealthAddr, tt.opts.MetricsAddr, tt.opts.Port = "127.0.0.1:0", "0", freePort(t)
			err := server.Run(t.Context(), tt.opts)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func ExampleRun() {
	ctx, stop := context.WithTimeout(context.Background(), time.Millisecond)
	defer stop()
	err := server.Run(ctx, server.Options{Standalone: true})
	fmt.Println(err)
	// Output: a certificate directory is required (--cert-dir with tls.crt and tls.key): the webhook serves HTTPS only
}

// Stopping the server (what SIGTERM does in cmd/webhook) lets the requests in
// flight finish: every one gets its answer, and Run returns without error.
func TestShutdownDrainsInFlightRequests(t *testing.T) {
	ca, err := testutil.NewCA()
	require.NoError(t, err)
	certDir := t.TempDir()
	_, err = ca.WriteServing(certDir)
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "slow.rego"), []byte(`# METADATA
# title: Slow
# custom:
#   id: X-SLOW-001
#   version: 1.0.0
#   severity: low
#   action: deny
#   kinds: [{group: security.istio.io, kind: PeerAuthentication}]
package x.slow

deny contains "slow" if count([x | some x in numbers.range(1, 60000); x % 7 == 3]) < 0
`), 0o600))

	port := freePort(t)
	health := "127.0.0.1:" + strconv.Itoa(freePort(t))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- server.Run(ctx, server.Options{CertDir: certDir, Host: "127.0.0.1", Port: port, HealthAddr: health, MetricsAddr: "0",
			Standalone: true, Dirs: []string{dir}, NoBuiltin: true, Logger: testr.New(t), ShutdownDelay: 2 * time.Second})
	}()
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + health + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 20*time.Second, 50*time.Millisecond)
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	r := &running{webhook: "https://127.0.0.1:" + strconv.Itoa(port), client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}}

	const n = 8
	results := make(chan bool, n)
	body := reviewBody(t, permissive)
	for range n {
		go func() {
			resp, err := r.client.Post(r.webhook+server.PathValidate, "application/json", bytes.NewReader(body))
			if err != nil {
				t.Logf("request failed: %v", err)
				results <- false
				return
			}
			defer resp.Body.Close()
			var out admissionv1.AdmissionReview
			if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Response == nil {
				t.Logf("bad answer: %v", err)
				results <- false
				return
			}
			if !out.Response.Allowed {
				t.Logf("not allowed: %+v", out.Response.Result)
			}
			results <- out.Response.Allowed
		}()
	}
	time.Sleep(100 * time.Millisecond) // the requests are in flight
	cancel()
	// During the shutdown delay the webhook is unready but still answers.
	assert.Eventually(t, func() bool {
		resp, err := http.Get("http://" + health + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusServiceUnavailable
	}, 1800*time.Millisecond, 10*time.Millisecond, "unready while stopping (the shutdown delay is 2s; a busy machine may answer the probe late)")
	for range n {
		assert.True(t, <-results, "an in-flight request was answered")
	}
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(70 * time.Second):
		t.Fatal("Run did not return")
	}
}
