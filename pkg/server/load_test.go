package server_test

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshguard/meshguard/internal/loadtest"
	"github.com/meshguard/meshguard/internal/testutil"
	"github.com/meshguard/meshguard/pkg/server"
)

// The serving certificate is replaced again and again (as cert-manager
// renews a Secret: same CA, new key) while a bounded load runs, every
// request on a new TLS connection: no request fails, and the new
// certificates are served.
func TestCertificateRotationUnderLoad(t *testing.T) {
	ca, err := testutil.NewCA()
	require.NoError(t, err)
	certDir := t.TempDir()
	firstSerial, err := ca.WriteServing(certDir)
	require.NoError(t, err)
	r := start(t, server.Options{CertDir: certDir, Standalone: true}, ca)
	reviews, err := loadtest.Reviews(testutil.RepoRoot(t))
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)

	var mu sync.Mutex
	written := map[string]bool{firstSerial.String(): true}
	stop := make(chan struct{})
	rotations := 0
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(150 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				s, err := ca.WriteServing(certDir)
				if !assert.NoError(t, err) {
					return
				}
				mu.Lock()
				written[s.String()] = true
				rotations++
				mu.Unlock()
			}
		}
	})
	seen := map[string]bool{}
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
				conn, err := tls.Dial("tcp", strings.TrimPrefix(r.webhook, "https://"), &tls.Config{RootCAs: pool, ServerName: "localhost"})
				if !assert.NoError(t, err, "a handshake during rotation") {
					return
				}
				seen[conn.ConnectionState().PeerCertificates[0].SerialNumber.String()] = true
				conn.Close()
			}
		}
	})
	res := loadtest.Attack(t.Context(), loadtest.Options{
		Name: "rotation", URL: r.webhook + server.PathValidate, Reviews: reviews,
		Rate: 100, Workers: 4, MaxWorkers: 16, Duration: 4 * time.Second, NoKeepAlive: true,
		TLS: &tls.Config{RootCAs: pool, ServerName: "localhost"},
	})
	close(stop)
	wg.Wait()

	assert.Empty(t, res.Errors, "no request fails while the certificate rotates")
	assert.Greater(t, res.Requests, uint64(200), "the load ran")
	assert.Greater(t, res.Denied, 0)
	assert.Greater(t, res.Allowed, 0)
	assert.GreaterOrEqual(t, rotations, 15)
	for s := range seen {
		assert.True(t, written[s], "served serial %s is one that was written", s)
	}
	assert.GreaterOrEqual(t, len(seen), 3, "rotated certificates are served, not only the first: %v", seen)
	assert.NotEqual(t, map[string]bool{firstSerial.String(): true}, seen)

}

// A deliberately slow user policy (a loop over a big numbers.range) ends at
// the evaluation deadline with a clear 500 over the wire, not a hang, and
// the webhook keeps answering other requests.
func TestSlowPolicyEndsAtTheDeadline(t *testing.T) {
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

import data.meshguard.lib.kube

deny contains "slow" if {
	kube.name == "default"
	count([x | some x in numbers.range(1, 100000000); x % 7 == 3]) < 0
}
`), 0o600))
	r := start(t, server.Options{CertDir: certDir, Standalone: true, Dirs: []string{dir}, EvalTimeout: 300 * time.Millisecond}, ca)
	begin := time.Now()
	resp := r.review(t, server.PathValidate, unset)
	took := time.Since(begin)
	assert.False(t, resp.Allowed)
	require.NotNil(t, resp.Result)
	assert.Equal(t, int32(http.StatusInternalServerError), resp.Result.Code)
	assert.Contains(t, resp.Result.Message, "evaluating policy: the evaluation took longer than the deadline")
	assert.Less(t, took, 5*time.Second, "ended by the deadline (300ms), not by the evaluation")
	other := strings.Replace(unset, `"name":"default"`, `"name":"other"`, 1)
	assert.True(t, r.review(t, server.PathValidate, other).Allowed, "other objects are still judged quickly")
}
