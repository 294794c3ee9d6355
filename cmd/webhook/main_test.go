package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshguard/meshguard/internal/loadtest"
	"github.com/meshguard/meshguard/internal/testutil"
)

// The test binary is also the webhook: with MESHGUARD_TEST_WEBHOOK=1 it runs
// main with its arguments, so the tests below signal a real webhook process.
func TestMain(m *testing.M) {
	if os.Getenv("MESHGUARD_TEST_WEBHOOK") == "1" {
		os.Args = append([]string{"webhook"}, os.Args[1:]...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func ready(url string) bool {
	resp, err := http.Get(url) //nolint:gosec // loopback
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// SIGTERM to a webhook process under load, as Kubernetes stops a Pod: the
// Pod turns unready and its endpoint is removed (here: the client stops
// sending once /readyz fails, as the endpoints controller does, polled every
// 100ms), while the webhook keeps serving for --shutdown-delay, then drains.
// No request fails on the client side and the process exits 0.
func TestSIGTERMUnderLoad(t *testing.T) {
	ca, err := testutil.NewCA()
	require.NoError(t, err)
	certDir := t.TempDir()
	_, err = ca.WriteServing(certDir)
	require.NoError(t, err)
	reviews, err := loadtest.Reviews(testutil.RepoRoot(t))
	require.NoError(t, err)
	port, health := freePort(t), freePort(t)
	cmd := exec.Command(os.Args[0], "--standalone", "--cert-dir", certDir, "--host", "127.0.0.1", "--port", strconv.Itoa(port),
		"--health-probe-bind-address", "127.0.0.1:"+strconv.Itoa(health), "--metrics-bind-address", "0",
		"--shutdown-delay", "2s", "--log-format", "json")
	cmd.Env = append(os.Environ(), "MESHGUARD_TEST_WEBHOOK=1")
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
		if t.Failed() {
			l := logs.String()
			t.Log("the webhook's log (end):", l[max(0, len(l)-4000):])
		}
	})
	readyz := fmt.Sprintf("http://127.0.0.1:%d/readyz", health)
	require.Eventually(t, func() bool { return ready(readyz) }, 30*time.Second, 50*time.Millisecond, "the webhook never became ready")

	// The endpoint: removed once the webhook is unready.
	removed := make(chan struct{})
	var removedAt time.Time
	go func() {
		for ready(readyz) {
			time.Sleep(100 * time.Millisecond)
		}
		removedAt = time.Now()
		close(removed)
	}()
	signalled := make(chan time.Time, 1)
	go func() {
		time.Sleep(1500 * time.Millisecond)
		signalled <- time.Now()
		assert.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	}()
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	res := loadtest.Attack(t.Context(), loadtest.Options{
		Name: "sigterm", URL: fmt.Sprintf("https://127.0.0.1:%d/validate", port), Reviews: reviews,
		Rate: 200, Workers: 8, MaxWorkers: 32, Duration: 20 * time.Second, Stop: removed,
		TLS: &tls.Config{RootCAs: pool, ServerName: "localhost"},
	})
	select {
	case <-removed:
	default:
		t.Fatal("the load ended before the webhook turned unready")
	}
	assert.Less(t, removedAt.Sub(<-signalled), 2*time.Second, "unready at once on SIGTERM, well within the shutdown delay")
	assert.Empty(t, res.Errors, "no request failed on the client side")
	assert.Greater(t, res.Requests, uint64(100), "the load ran")

	select {
	case err := <-exited:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Fatalf("the webhook exited with %d", exit.ExitCode())
		}
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("the webhook did not exit after SIGTERM")
	}
	assert.Equal(t, 0, cmd.ProcessState.ExitCode())
	assert.True(t, strings.Contains(logs.String(), "stopping: unready, serving for the shutdown delay before draining"), "the webhook logged its shutdown delay")
}

// TestLinksNoRenderers: the webhook does not link Helm or kustomize (only
// the CLI renders charts and overlays). Their code would be mapped into
// every webhook process: about 20 MiB more resident memory under load.
func TestLinksNoRenderers(t *testing.T) {
	bi, ok := debug.ReadBuildInfo()
	require.True(t, ok, "no build info")
	for _, m := range bi.Deps {
		for _, banned := range []string{"helm.sh/helm/v3", "sigs.k8s.io/kustomize/api", "sigs.k8s.io/kustomize/kyaml"} {
			assert.NotEqual(t, banned, m.Path, "the webhook links %s", banned)
		}
	}
	assert.NotEmpty(t, bi.Deps)
}
