//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	crclient "sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/meshguard/meshguard/internal/testenv"
	"github.com/meshguard/meshguard/internal/webhookcmd"
	"github.com/meshguard/meshguard/pkg/server"
	"github.com/meshguard/meshguard/test/chart"
)

// syncBuffer collects the webhook's log for a failing test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if os.Getenv("MESHGUARD_E2E_LOG") != "" {
		os.Stderr.Write(p)
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func chartClient(t *testing.T) crclient.Client {
	t.Helper()
	scheme, err := chart.Scheme()
	require.NoError(t, err)
	c, err := crclient.New(env.Config, crclient.Options{Scheme: scheme})
	require.NoError(t, err)
	return c
}

// installCertManagerCRDs installs cert-manager's own CRDs from its module.
func installCertManagerCRDs(t *testing.T) {
	t.Helper()
	dir, err := testenv.CertManagerCRDPath()
	require.NoError(t, err)
	_, err = envtest.InstallCRDs(env.Config, envtest.CRDInstallOptions{Paths: []string{dir}, ErrorIfPathMissing: true})
	require.NoError(t, err)
}

// releaseNamespace creates the release's namespace, which the shared
// webhook of this suite leaves alone (meshguard.io/ignore).
func releaseNamespace(t *testing.T, name string) {
	t.Helper()
	c := chartClient(t)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"meshguard.io/ignore": "true"}}}
	require.NoError(t, c.Create(t.Context(), ns))
	t.Cleanup(func() { _ = c.Delete(context.Background(), ns) })
}

// With cert-manager: the rendered Issuers, Certificates, RBAC and webhook
// configurations (with their inject-ca-from annotations) are accepted by the
// API server with cert-manager's CRDs installed. The webhook configurations
// are created as a dry run: no cainjector runs here, and without a CA they
// would fail every request of the suite.
func TestChartWithCertManagerIsAccepted(t *testing.T) {
	installCertManagerCRDs(t)
	const release, ns = "meshguard-cm", "meshguard-cm"
	objs, err := chart.Render(release, ns, "")
	require.NoError(t, err)
	releaseNamespace(t, ns)
	c := chartClient(t)
	kinds := map[string]int{}
	for _, o := range objs {
		obj := o.Value.(crclient.Object)
		var opts []crclient.CreateOption
		switch o.Kind {
		case "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration":
			assert.Equal(t, ns+"/"+release+"-webhook", obj.GetAnnotations()["cert-manager.io/inject-ca-from"])
			opts = append(opts, crclient.DryRunAll)
		default:
			t.Cleanup(func() { _ = c.Delete(context.Background(), obj) })
		}
		require.NoError(t, c.Create(t.Context(), obj, opts...), "%s %s (%s) is rejected", o.Kind, o.Name, o.Template)
		kinds[o.Kind]++
	}
	assert.Equal(t, 2, kinds["Certificate"])
	assert.Equal(t, 2, kinds["Issuer"])
	assert.Equal(t, 1, kinds["ClusterRole"])
}

// Without cert-manager: the rendered objects are applied, the webhook is
// started with the rendered Deployment's arguments (addresses and file
// paths replaced by local ones, --cert-host 127.0.0.1 added), as the
// chart's ServiceAccount (impersonated, so only the chart's RBAC counts).
// It provisions its certificate into a Secret, writes the caBundle into
// both configurations and judges requests the API server sends it.
func TestChartSelfSignedWebhookServesTheAPIServer(t *testing.T) {
	const release, ns = "meshguard-e2e", "meshguard-e2e"
	objs, err := chart.Render(release, ns, `
certManager: {enabled: false}
# The suite's in-process webhook already runs the defaults controller and
# controller-runtime allows one controller of a name per process; the
# chart's grants for it are checked in test/chart.
defaults: {enabled: false}
auditInterval: 0s
webhook:
  optOutLabel: e2e.meshguard.io/ignore-chart
`)
	require.NoError(t, err)
	releaseNamespace(t, ns)
	c := chartClient(t)
	var (
		deploy *appsv1.Deployment
		config string
		vwc    *admissionregistrationv1.ValidatingWebhookConfiguration
		mwc    *admissionregistrationv1.MutatingWebhookConfiguration
		sa     string
	)
	for _, o := range objs {
		obj := o.Value.(crclient.Object)
		require.NoError(t, c.Create(t.Context(), obj), "%s %s (%s) is rejected", o.Kind, o.Name, o.Template)
		switch v := o.Value.(type) {
		case *appsv1.Deployment:
			deploy = v
		case *corev1.ConfigMap:
			config = v.Data["config.yaml"]
		case *corev1.ServiceAccount:
			sa = v.Name
		case *admissionregistrationv1.ValidatingWebhookConfiguration:
			vwc = v
		case *admissionregistrationv1.MutatingWebhookConfiguration:
			mwc = v
		}
		if o.Kind != "ValidatingWebhookConfiguration" && o.Kind != "MutatingWebhookConfiguration" {
			t.Cleanup(func() { _ = c.Delete(context.Background(), obj) })
		}
	}
	require.NotNil(t, deploy)
	require.NotNil(t, vwc)
	require.NotNil(t, mwc)
	// The webhook configurations go first at the end, so that no request of
	// a later test is sent to a stopped webhook.
	t.Cleanup(func() {
		_ = crclient.IgnoreNotFound(c.Delete(context.Background(), vwc))
		_ = crclient.IgnoreNotFound(c.Delete(context.Background(), mwc))
	})
	for _, w := range vwc.Webhooks {
		assert.Empty(t, w.ClientConfig.CABundle, "no caBundle before the webhook sets it")
	}

	// The API server reaches the webhook on loopback, not through the
	// Service: point the configurations at its URL.
	port, health := freePort(t), freePort(t)
	url := func(path string) *string { u := "https://127.0.0.1:" + strconv.Itoa(port) + path; return &u }
	require.NoError(t, c.Get(t.Context(), crclient.ObjectKeyFromObject(vwc), vwc))
	for i := range vwc.Webhooks {
		vwc.Webhooks[i].ClientConfig.Service, vwc.Webhooks[i].ClientConfig.URL = nil, url(server.PathValidate)
	}
	require.NoError(t, c.Update(t.Context(), vwc))
	require.NoError(t, c.Get(t.Context(), crclient.ObjectKeyFromObject(mwc), mwc))
	for i := range mwc.Webhooks {
		mwc.Webhooks[i].ClientConfig.Service, mwc.Webhooks[i].ClientConfig.URL = nil, url(server.PathMutate)
	}
	require.NoError(t, c.Update(t.Context(), mwc))

	dir := t.TempDir()
	configFile := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(configFile, []byte(config), 0o600))
	kubeconfig := serviceAccountKubeconfig(t, dir, ns, sa)
	args := slices.Clone(deploy.Spec.Template.Spec.Containers[0].Args)
	args = append(args,
		"--kubeconfig", kubeconfig,
		"--cert-dir", filepath.Join(dir, "tls"),
		"--config", configFile,
		"--host", "127.0.0.1", "--port", strconv.Itoa(port),
		"--health-probe-bind-address", "127.0.0.1:"+strconv.Itoa(health),
		"--metrics-bind-address", "0",
		"--shutdown-delay", "-1s",
		"--cert-host", "127.0.0.1",
	)
	stop, logs := startWebhook(t, args, health)

	// The Secret holds the CA; both configurations trust it.
	kc, err := kubernetes.NewForConfig(env.Config)
	require.NoError(t, err)
	secretName := release + "-webhook-tls"
	secret, err := kc.CoreV1().Secrets(ns).Get(t.Context(), secretName, metav1.GetOptions{})
	require.NoError(t, err)
	require.NotEmpty(t, secret.Data["ca.crt"])
	require.Eventually(t, func() bool {
		v, err := kc.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(t.Context(), vwc.Name, metav1.GetOptions{})
		if err != nil {
			return false
		}
		m, err := kc.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(t.Context(), mwc.Name, metav1.GetOptions{})
		return err == nil && bytes.Equal(v.Webhooks[0].ClientConfig.CABundle, secret.Data["ca.crt"]) && bytes.Equal(m.Webhooks[0].ClientConfig.CABundle, secret.Data["ca.crt"])
	}, 10*time.Second, 50*time.Millisecond, "the caBundle of both configurations is the Secret's CA")

	// A namespace only the chart's webhook judges (the suite's own webhook
	// skips meshguard.io/ignore).
	target := namespace(t, map[string]any{"meshguard.io/ignore": "true"})
	judge := func(logs *syncBuffer) {
		t.Helper()
		_, _, err := create(t, peerAuthentications, target, `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default}
spec:
  mtls: {mode: PERMISSIVE}
`, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		require.Error(t, err, "the chart's webhook did not deny a PERMISSIVE PeerAuthentication")
		assert.True(t, apierrors.IsForbidden(err), "%v", err)
		assert.Contains(t, err.Error(), "ISTIO-MTLS-001")
		assert.Contains(t, err.Error(), `admission webhook "validate.meshguard.io" denied the request`)

		out, _, err := create(t, virtualServices, target, `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: shop}
spec:
  hosts: [shop]
  http:
    - route: [{destination: {host: shop}}]
`, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		require.NoError(t, err)
		routes, _, _ := unstructured.NestedSlice(out.Object, "spec", "http")
		require.Len(t, routes, 1)
		assert.NotEmpty(t, routes[0].(map[string]any)["timeout"], "the chart's mutating webhook added the route timeout")
		// The decisions are in this webhook's log, not only the suite's.
		assert.Regexp(t, `"webhook":"validate".*"namespace":"`+target+`".*"verdict":"denied"`, logs.String())
		assert.Regexp(t, `"webhook":"mutate".*"namespace":"`+target+`".*"verdict":"mutated"`, logs.String())
	}
	judge(logs)

	// A restart (a new pod) reuses the Secret: same CA, nothing rewritten.
	// Before it, the ClusterRole loses a mesh API group: the webhook still
	// gets ready, without watching that group, and says so.
	stop()
	cr := &rbacv1.ClusterRole{}
	require.NoError(t, c.Get(t.Context(), crclient.ObjectKey{Name: release}, cr))
	for i, r := range cr.Rules {
		cr.Rules[i].APIGroups = slices.DeleteFunc(slices.Clone(r.APIGroups), func(g string) bool { return g == "telemetry.istio.io" })
	}
	require.NoError(t, c.Update(t.Context(), cr))
	args[slices.Index(args, filepath.Join(dir, "tls"))] = filepath.Join(dir, "tls-restarted")
	stop, logs = startWebhook(t, args, health)
	assert.Regexp(t, `not watching a mesh kind the webhook may not list and watch.*telemetries\.telemetry\.istio\.io`, logs.String())
	again, err := kc.CoreV1().Secrets(ns).Get(t.Context(), secretName, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, secret.ResourceVersion, again.ResourceVersion, "the Secret was rewritten on restart")
	crt, err := os.ReadFile(filepath.Join(dir, "tls-restarted", "tls.crt"))
	require.NoError(t, err)
	assert.Equal(t, secret.Data["tls.crt"], crt, "the restarted webhook serves the Secret's certificate")
	judge(logs)
	require.NoError(t, c.Delete(t.Context(), vwc))
	require.NoError(t, c.Delete(t.Context(), mwc))
	stop()
}

// startWebhook runs the webhook binary's command in process and waits until
// it is ready; the returned func stops it.
func startWebhook(t *testing.T, args []string, health int) (func(), *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		cmd := webhookcmd.NewCommand(logs, server.Run)
		cmd.SetArgs(args)
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		done <- cmd.ExecuteContext(ctx)
	}()
	var stopped bool
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("the webhook stopped with %v\n%s", err, logs.String())
			}
		case <-time.After(60 * time.Second):
			t.Error("the webhook did not stop within 60s")
		}
	}
	t.Cleanup(stop)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("webhook log:\n%s", logs.String())
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", health))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return stop, logs
			}
		}
		select {
		case err := <-done:
			stopped = true
			t.Fatalf("the webhook stopped before it was ready: %v\n%s", err, logs.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the webhook was not ready within 60s (with the chart's RBAC: a forbidden list keeps the inventory from syncing)\n%s", logs.String())
		}
	}
}

// serviceAccountKubeconfig reaches the API server as the chart's
// ServiceAccount (the administrator impersonating it).
func serviceAccountKubeconfig(t *testing.T, dir, ns, sa string) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["envtest"] = &clientcmdapi.Cluster{Server: env.Config.Host, CertificateAuthorityData: env.Config.CAData}
	cfg.AuthInfos["sa"] = &clientcmdapi.AuthInfo{
		ClientCertificateData: env.Config.CertData, ClientKeyData: env.Config.KeyData, Token: env.Config.BearerToken,
		Impersonate:       "system:serviceaccount:" + ns + ":" + sa,
		ImpersonateGroups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
	}
	cfg.Contexts["sa"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "sa"}
	cfg.CurrentContext = "sa"
	path := filepath.Join(dir, "kubeconfig")
	require.NoError(t, clientcmd.WriteToFile(*cfg, path))
	return path
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
