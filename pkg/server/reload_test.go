package server_test

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshguard/meshguard/internal/testutil"
	"github.com/meshguard/meshguard/pkg/server"
)

// logBuffer collects a logger's lines (JSON) for assertions, and passes
// them on to t.Log.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) logger(t *testing.T) logr.Logger {
	return funcr.NewJSON(func(obj string) {
		b.mu.Lock()
		b.buf.WriteString(obj + "\n")
		b.mu.Unlock()
		t.Log(obj)
	}, funcr.Options{Verbosity: 10})
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// teamPolicy is a user rule denying PeerAuthentications with msg.
func teamPolicy(msg string) string {
	return `# METADATA
# title: Team rule
# custom:
#   id: TEAM-PA-001
#   version: 1.0.0
#   severity: low
#   action: deny
#   kinds: [{group: security.istio.io, kind: PeerAuthentication}]
package team.pa

import data.meshguard.lib.kube

deny contains "` + msg + `" if kube.name == "default"
`
}

// volumeUpdate changes dir the way the kubelet updates a ConfigMap volume:
// the files go into a new "..<stamp>" directory and the "..data" symlink is
// swapped to it atomically; the files at the top are symlinks through it.
func volumeUpdate(t *testing.T, dir, stamp string, files map[string]string) {
	t.Helper()
	ts := "..2026_12_01_" + stamp
	require.NoError(t, os.MkdirAll(filepath.Join(dir, ts), 0o755))
	for name, body := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, ts, name), []byte(body), 0o644))
		if _, err := os.Lstat(filepath.Join(dir, name)); err != nil {
			require.NoError(t, os.Symlink(filepath.Join("..data", name), filepath.Join(dir, name)))
		}
	}
	old, _ := os.Readlink(filepath.Join(dir, "..data"))
	require.NoError(t, os.Symlink(ts, filepath.Join(dir, "..data_tmp")))
	require.NoError(t, os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")))
	if old != "" {
		require.NoError(t, os.RemoveAll(filepath.Join(dir, old)))
	}
}

func (r *running) metric(t *testing.T, line string) bool {
	t.Helper()
	resp, err := http.Get("http://" + r.metrics + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	for _, l := range strings.Split(string(body), "\n") {
		if l == line {
			return true
		}
	}
	return false
}

func (r *running) ready(t *testing.T) int {
	t.Helper()
	resp, err := http.Get("http://" + r.health + "/readyz")
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// deniedBy returns the deny message of a PeerAuthentication the built-in
// rules allow (mode UNSET, standalone), i.e. what the user rule says.
func (r *running) deniedBy(t *testing.T) string {
	t.Helper()
	resp := r.review(t, server.PathValidate, unset)
	if resp.Allowed {
		return ""
	}
	return resp.Result.Message
}

// Hot reload of a ConfigMap-mounted --policies directory: a good change
// takes effect without a restart; a change that does not compile keeps the
// last good bundle serving and ready, and is counted and logged; the fix
// is loaded again.
func TestPolicyHotReload(t *testing.T) {
	ca, err := testutil.NewCA()
	require.NoError(t, err)
	certDir := t.TempDir()
	_, err = ca.WriteServing(certDir)
	require.NoError(t, err)
	dir := t.TempDir()
	volumeUpdate(t, dir, "1", map[string]string{"team.rego": teamPolicy("first version")})
	var logs logBuffer
	r := start(t, server.Options{CertDir: certDir, Standalone: true, Dirs: []string{dir}, ReloadInterval: 50 * time.Millisecond, Logger: logs.logger(t)}, ca)

	assert.Contains(t, r.deniedBy(t), "TEAM-PA-001: first version")
	assert.True(t, r.metric(t, "meshguard_bundle_last_reload_success 1"))
	assert.True(t, r.metric(t, "meshguard_bundle_reload_errors_total 0"))

	// A good change: the new rule takes effect.
	volumeUpdate(t, dir, "2", map[string]string{"team.rego": teamPolicy("second version")})
	require.Eventually(t, func() bool { return strings.Contains(r.deniedBy(t), "TEAM-PA-001: second version") }, 10*time.Second, 50*time.Millisecond, "the changed policy was not loaded")
	assert.Contains(t, logs.String(), `"msg":"policy bundle reloaded"`)
	denied := r.review(t, server.PathValidate, permissive)
	assert.Contains(t, denied.Result.Message, "ISTIO-MTLS-001", "the built-in rules still serve")

	// A change that does not compile: the old verdicts stay, ready stays
	// 200, the error is counted and logged with the file.
	volumeUpdate(t, dir, "3", map[string]string{"team.rego": teamPolicy("third version") + "\ndeny contains x if {\n"})
	require.Eventually(t, func() bool { return r.metric(t, "meshguard_bundle_reload_errors_total 1") }, 10*time.Second, 50*time.Millisecond, "the failed reload was not counted")
	assert.True(t, r.metric(t, "meshguard_bundle_last_reload_success 0"))
	assert.Contains(t, logs.String(), "policy reload failed: still serving the last good bundle")
	assert.Contains(t, logs.String(), "team.rego", "the error names the file")
	assert.Equal(t, http.StatusOK, r.ready(t), "still ready")
	assert.Contains(t, r.deniedBy(t), "TEAM-PA-001: second version", "the last good bundle serves")
	time.Sleep(300 * time.Millisecond) // several polls of the same broken files
	assert.True(t, r.metric(t, "meshguard_bundle_reload_errors_total 1"), "a broken change is reported once, not at every poll")

	// A rule that compiles but breaks the bundle's rules (a duplicate id) is
	// refused the same way.
	volumeUpdate(t, dir, "4", map[string]string{"team.rego": teamPolicy("fourth version"), "copy.rego": strings.Replace(teamPolicy("copy"), "package team.pa", "package team.copy", 1)})
	require.Eventually(t, func() bool { return r.metric(t, "meshguard_bundle_reload_errors_total 2") }, 10*time.Second, 50*time.Millisecond)
	assert.Contains(t, r.deniedBy(t), "TEAM-PA-001: second version")

	// Fixed again: loaded.
	volumeUpdate(t, dir, "5", map[string]string{"team.rego": teamPolicy("fixed version"), "copy.rego": "package team.copy\n"})
	require.Eventually(t, func() bool { return strings.Contains(r.deniedBy(t), "TEAM-PA-001: fixed version") }, 10*time.Second, 50*time.Millisecond, "the fixed policy was not loaded")
	assert.True(t, r.metric(t, "meshguard_bundle_last_reload_success 1"))
	assert.True(t, r.metric(t, "meshguard_bundle_reload_errors_total 2"))
	assert.Equal(t, http.StatusOK, r.ready(t))
}

// A config file change is reloaded too (here: the namespace of the request
// becomes excluded), and a config that does not parse keeps the old one.
func TestConfigHotReload(t *testing.T) {
	ca, err := testutil.NewCA()
	require.NoError(t, err)
	certDir := t.TempDir()
	_, err = ca.WriteServing(certDir)
	require.NoError(t, err)
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte("excludeNamespaces: [kube-system]\n"), 0o600))
	r := start(t, server.Options{CertDir: certDir, Standalone: true, ConfigFile: cfg, ReloadInterval: 50 * time.Millisecond}, ca)
	assert.False(t, r.review(t, server.PathValidate, permissive).Allowed)

	require.NoError(t, os.WriteFile(cfg, []byte("excludeNamespaces: [kube-system, shop]\n"), 0o600))
	require.Eventually(t, func() bool { return r.review(t, server.PathValidate, permissive).Allowed }, 10*time.Second, 50*time.Millisecond, "the excluded namespace was not reloaded")

	require.NoError(t, os.WriteFile(cfg, []byte("excludeNamespaces: {not: a list}\n"), 0o600))
	require.Eventually(t, func() bool { return r.metric(t, "meshguard_bundle_reload_errors_total 1") }, 10*time.Second, 50*time.Millisecond)
	assert.True(t, r.review(t, server.PathValidate, permissive).Allowed, "the last good config stays")
}
