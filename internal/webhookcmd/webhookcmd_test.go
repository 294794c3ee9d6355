package webhookcmd_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshguard/meshguard/internal/webhookcmd"
	"github.com/meshguard/meshguard/pkg/server"
)

func parse(t *testing.T, args ...string) (server.Options, error) {
	t.Helper()
	var got server.Options
	cmd := webhookcmd.NewCommand(&bytes.Buffer{}, func(_ context.Context, o server.Options) error {
		got = o
		return nil
	})
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	err := cmd.ExecuteContext(t.Context())
	return got, err
}

func TestFlags(t *testing.T) {
	o, err := parse(t, "--standalone", "--cert-dir", "/tls", "--port", "10443", "--host", "127.0.0.1",
		"--policies", "a", "--policies", "b", "--config", "c.yaml", "--metrics-bind-address", "0",
		"--health-probe-bind-address", ":9000", "--log-format", "text")
	require.NoError(t, err)
	assert.True(t, o.Standalone)
	assert.Equal(t, "/tls", o.CertDir)
	assert.Equal(t, 10443, o.Port)
	assert.Equal(t, "127.0.0.1", o.Host)
	assert.Equal(t, []string{"a", "b"}, o.Dirs)
	assert.Equal(t, "c.yaml", o.ConfigFile)
	assert.Equal(t, "0", o.MetricsAddr)
	assert.Equal(t, ":9000", o.HealthAddr)
	assert.NotNil(t, o.Logger.GetSink())
	assert.Nil(t, o.RestConfig)

	o, err = parse(t, "--standalone", "--cert-dir", "/tls")
	require.NoError(t, err)
	assert.Equal(t, 9443, o.Port, "the default port")
	assert.Equal(t, ":8080", o.MetricsAddr)
	assert.Equal(t, ":8081", o.HealthAddr)
	assert.True(t, o.LeaderElection, "leader election is on by default")
	assert.False(t, o.NoDefaults, "the defaults controller is on by default")
	assert.Equal(t, 9*time.Second, o.EvalTimeout, "one second below the webhook configurations' timeoutSeconds (10)")
	assert.Equal(t, 2*time.Second, o.ReloadInterval, "the policies are watched by default")
	assert.Equal(t, 30*time.Second, o.InventoryStaleAfter)

	o, err = parse(t, "--standalone", "--cert-dir", "/tls", "--policy-reload-interval", "-1s", "--inventory-stale-after", "5s", "--eval-timeout", "2s")
	require.NoError(t, err)
	assert.Negative(t, o.ReloadInterval)
	assert.Equal(t, 5*time.Second, o.InventoryStaleAfter)
	assert.Equal(t, 2*time.Second, o.EvalTimeout)

	o, err = parse(t, "--standalone", "--cert-dir", "/tls", "--defaults=false", "--leader-elect=false", "--leader-election-namespace", "mg")
	require.NoError(t, err)
	assert.True(t, o.NoDefaults)
	assert.False(t, o.LeaderElection)
	assert.Equal(t, "mg", o.LeaderElectionNamespace)
}

func TestKubeconfig(t *testing.T) {
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(kc, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`), 0o600))
	o, err := parse(t, "--cert-dir", "/tls", "--kubeconfig", kc)
	require.NoError(t, err)
	require.NotNil(t, o.RestConfig)
	assert.Equal(t, "https://127.0.0.1:6443", o.RestConfig.Host)
}

func TestBadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"an unknown log format", []string{"--standalone", "--log-format", "xml"}, `--log-format "xml": want json or text`},
		{"standalone with a kubeconfig", []string{"--standalone", "--kubeconfig", "k"}, "exclude each other"},
		{"a kubeconfig that does not exist", []string{"--kubeconfig", "/nonexistent/kubeconfig"}, "/nonexistent/kubeconfig"},
		{"an argument", []string{"--standalone", "extra"}, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(t, tt.args...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestSelfSignedCertFlags(t *testing.T) {
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(kubeconfig, []byte("apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: \"https://127.0.0.1:6443\"}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\nusers: [{name: u, user: {token: x}}]\ncurrent-context: c\n"), 0o600))
	o, err := parse(t, "--kubeconfig", kubeconfig, "--cert-dir", "/tls", "--self-signed-certs",
		"--cert-secret", "mg/tls", "--cert-host", "svc.mg.svc", "--cert-host", "10.0.0.1",
		"--cert-validity", "24h", "--ca-validity", "720h",
		"--validating-webhook-configuration", "v", "--mutating-webhook-configuration", "m")
	require.NoError(t, err)
	require.NotNil(t, o.SelfSignedCerts)
	c := o.SelfSignedCerts
	assert.Equal(t, "mg", c.Namespace)
	assert.Equal(t, "tls", c.Secret)
	assert.Equal(t, []string{"svc.mg.svc", "10.0.0.1"}, c.Hosts)
	assert.Equal(t, 24*time.Hour, c.Validity)
	assert.Equal(t, 720*time.Hour, c.CAValidity)
	assert.Equal(t, "v", c.ValidatingWebhookConfiguration)
	assert.Equal(t, "m", c.MutatingWebhookConfiguration)

	t.Setenv("POD_NAMESPACE", "pods-ns")
	o, err = parse(t, "--kubeconfig", kubeconfig, "--cert-dir", "/tls", "--self-signed-certs", "--cert-host", "a")
	require.NoError(t, err)
	assert.Equal(t, "pods-ns", o.SelfSignedCerts.Namespace, "the Secret is in the pod's namespace by default")
	assert.Equal(t, "meshguard-webhook-tls", o.SelfSignedCerts.Secret)

	o, err = parse(t, "--kubeconfig", kubeconfig, "--cert-dir", "/tls")
	require.NoError(t, err)
	assert.Nil(t, o.SelfSignedCerts, "off by default: the certificate comes from cert-manager")

	for name, args := range map[string][]string{
		"standalone":             {"--standalone", "--cert-dir", "/tls", "--self-signed-certs", "--cert-host", "a"},
		"a bad secret reference": {"--kubeconfig", kubeconfig, "--cert-dir", "/tls", "--self-signed-certs", "--cert-host", "a", "--cert-secret", "a/b/c"},
		"certificate flags without --self-signed-certs": {"--kubeconfig", kubeconfig, "--cert-dir", "/tls", "--cert-host", "a"},
	} {
		_, err := parse(t, args...)
		assert.Error(t, err, name)
	}
}
