// Package testenv runs a real kube-apiserver and etcd (controller-runtime's
// envtest, with binaries built by `make envtest-bins` into bin/k8s) with the
// mesh CRDs installed and, optionally, the meshguard webhook serving in
// process behind real webhook configurations. The e2e tests and the demo use
// it.
package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	// The Istio and Gateway API modules are needed for their CRD files; these
	// imports keep them in go.mod.
	_ "istio.io/api/security/v1"
	_ "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/meshguard/meshguard/pkg/policy"
	"github.com/meshguard/meshguard/pkg/server"
)

// WebhookNamespace is where the webhook would run in a cluster; the webhook
// configurations never send its requests to meshguard.
const WebhookNamespace = "meshguard-system"

// Options configure Start.
type Options struct {
	// Webhook registers the webhook configurations and serves meshguard in
	// process behind them.
	Webhook bool
	// Server adjusts the webhook's options (policies, config) before it starts.
	Server func(*server.Options)
	// Logger receives the webhook's log.
	Logger logr.Logger
	// StopTimeout is how long a control-plane process may take to stop
	// gracefully before it is killed (default 30s).
	StopTimeout time.Duration
}

// Env is a running API server (and webhook).
type Env struct {
	// Config reaches the API server as an administrator.
	Config *rest.Config
	// CertDir is where the webhook's serving certificate is read from.
	CertDir string
	// WebhookAddr is the webhook's host:port.
	WebhookAddr string
	// HealthAddr serves the webhook's /healthz and /readyz.
	HealthAddr string

	env    *envtest.Environment
	cancel context.CancelFunc
	done   chan error
}

// RepoRoot is the directory of go.mod above the working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// BinDir is where `make envtest-bins` puts etcd and kube-apiserver; an error
// says how to build them when they are missing.
func BinDir() (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, "bin", "k8s")
	for _, b := range []string{"etcd", "kube-apiserver"} {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			return "", fmt.Errorf("%s is missing: run `make envtest-bins` (builds etcd and kube-apiserver from the Go module proxy, ~5 minutes once)", filepath.Join("bin", "k8s", b))
		}
	}
	return dir, nil
}

// moduleDir is the directory of a module of go.mod in the module cache.
func moduleDir(root, module string) (string, error) {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", module)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("locating module %s: %w", module, err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		return "", fmt.Errorf("module %s is not downloaded (run go mod download)", module)
	}
	return dir, nil
}

// CRDPaths are the upstream CRD files: Istio's from the istio.io/api module
// and Gateway API's standard channel from sigs.k8s.io/gateway-api.
func CRDPaths() ([]string, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	istio, err := moduleDir(root, "istio.io/api")
	if err != nil {
		return nil, err
	}
	gwapi, err := moduleDir(root, "sigs.k8s.io/gateway-api")
	if err != nil {
		return nil, err
	}
	return []string{
		filepath.Join(istio, "kubernetes", "customresourcedefinitions.gen.yaml"),
		filepath.Join(gwapi, "config", "crd", "standard"),
	}, nil
}

// CertManagerCRDPath is the directory of cert-manager's CRDs (deploy/crds
// of the github.com/cert-manager/cert-manager module), for tests that apply
// the chart's Issuers and Certificates.
func CertManagerCRDPath() (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	dir, err := moduleDir(root, "github.com/cert-manager/cert-manager")
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "deploy", "crds"), nil
}

// resource is the plural resource name of a kind, as its API serves it.
func resource(group, kind string) string {
	return policy.GroupKind{Group: group, Kind: kind}.Resource()
}

// meshCRD is a schemaless CRD for a Linkerd or Consul kind the rules read:
// enough for the API server to store and serve it.
func meshCRD(group, kind string, versions ...string) *apiextensionsv1.CustomResourceDefinition {
	return schemalessCRD(apiextensionsv1.NamespaceScoped, group, kind, versions...)
}

// ReportCRDs are schemaless CRDs for the wgpolicyk8s.io reports that
// `meshguard audit --apply` writes.
func ReportCRDs() []*apiextensionsv1.CustomResourceDefinition {
	return []*apiextensionsv1.CustomResourceDefinition{
		schemalessCRD(apiextensionsv1.NamespaceScoped, "wgpolicyk8s.io", "PolicyReport", "v1alpha2"),
		schemalessCRD(apiextensionsv1.ClusterScoped, "wgpolicyk8s.io", "ClusterPolicyReport", "v1alpha2"),
	}
}

func schemalessCRD(scope apiextensionsv1.ResourceScope, group, kind string, versions ...string) *apiextensionsv1.CustomResourceDefinition {
	plural := resource(group, kind)
	preserve := true
	crd := &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: plural + "." + group},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: group,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Kind: kind, ListKind: kind + "List", Plural: plural, Singular: strings.ToLower(kind)},
			Scope: scope,
		},
	}
	for i, v := range versions {
		crd.Spec.Versions = append(crd.Spec.Versions, apiextensionsv1.CustomResourceDefinitionVersion{
			Name: v, Served: true, Storage: i == len(versions)-1,
			Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
				Type: "object", XPreserveUnknownFields: &preserve,
			}},
		})
	}
	return crd
}

// MeshCRDs are our own small CRDs for the Linkerd and Consul kinds, with the
// versions upstream serves.
func MeshCRDs() []*apiextensionsv1.CustomResourceDefinition {
	return []*apiextensionsv1.CustomResourceDefinition{
		meshCRD("policy.linkerd.io", "Server", "v1alpha1", "v1beta1", "v1beta2", "v1beta3"),
		meshCRD("policy.linkerd.io", "ServerAuthorization", "v1alpha1", "v1beta1"),
		meshCRD("policy.linkerd.io", "AuthorizationPolicy", "v1alpha1"),
		meshCRD("policy.linkerd.io", "MeshTLSAuthentication", "v1alpha1"),
		meshCRD("policy.linkerd.io", "NetworkAuthentication", "v1alpha1"),
		meshCRD("policy.linkerd.io", "HTTPRoute", "v1alpha1", "v1beta1", "v1beta2", "v1beta3"),
		meshCRD("policy.linkerd.io", "EgressNetwork", "v1alpha1"),
		meshCRD("linkerd.io", "ServiceProfile", "v1alpha1", "v1alpha2"),
		meshCRD("consul.hashicorp.com", "ServiceIntentions", "v1alpha1"),
		meshCRD("consul.hashicorp.com", "ServiceDefaults", "v1alpha1"),
		meshCRD("consul.hashicorp.com", "ProxyDefaults", "v1alpha1"),
		meshCRD("consul.hashicorp.com", "Mesh", "v1alpha1"),
		meshCRD("consul.hashicorp.com", "ServiceResolver", "v1alpha1"),
		meshCRD("consul.hashicorp.com", "ServiceRouter", "v1alpha1"),
		meshCRD("consul.hashicorp.com", "IngressGateway", "v1alpha1"),
		meshCRD("consul.hashicorp.com", "TerminatingGateway", "v1alpha1"),
		meshCRD("consul.hashicorp.com", "RouteRetryFilter", "v1alpha1"),
		meshCRD("consul.hashicorp.com", "RouteTimeoutFilter", "v1alpha1"),
	}
}

// WebhookConfigurations are the webhook configurations for the kinds the
// engine covers (mutating: the kinds it has defaults for), as the chart
// registers them: a namespaceSelector that always excludes kube-system and
// the webhook's own namespace and honours the meshguard.io/ignore opt-out
// label, sideEffects None, a timeout, matchPolicy Equivalent, v1 reviews
// only and failurePolicy Fail. The client config names a service with the
// given paths; envtest turns it into a local URL.
func WebhookConfigurations(e *policy.Engine, namespace string) (*admissionregistrationv1.ValidatingWebhookConfiguration, *admissionregistrationv1.MutatingWebhookConfiguration) {
	type key struct{ group, resource string }
	validate := map[key]*admissionregistrationv1.RuleWithOperations{}
	mutate := map[key]*admissionregistrationv1.RuleWithOperations{}
	var order []key
	for _, r := range e.Rules() {
		for _, k := range r.Kinds {
			res := resource(k.Group, k.Kind)
			kk := key{k.Group, res}
			if validate[kk] == nil {
				order = append(order, kk)
				validate[kk] = &admissionregistrationv1.RuleWithOperations{Rule: admissionregistrationv1.Rule{APIGroups: []string{k.Group}, Resources: []string{res}}}
			}
			rule := validate[kk]
			rule.APIVersions = appendMissing(rule.APIVersions, k.Versions...)
			for _, op := range []string{policy.OpCreate, policy.OpUpdate, policy.OpDelete} {
				if e.CoversOp(k.GroupKind, op) {
					rule.Operations = appendOp(rule.Operations, op)
				}
			}
			if e.Mutates(k.GroupKind) {
				if mutate[kk] == nil {
					mutate[kk] = &admissionregistrationv1.RuleWithOperations{
						Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
						Rule:       admissionregistrationv1.Rule{APIGroups: []string{k.Group}, Resources: []string{res}},
					}
				}
				mutate[kk].APIVersions = appendMissing(mutate[kk].APIVersions, k.Versions...)
			}
		}
	}
	var vrules, mrules []admissionregistrationv1.RuleWithOperations
	for _, k := range order {
		vrules = append(vrules, *validate[k])
		if m := mutate[k]; m != nil {
			mrules = append(mrules, *m)
		}
	}
	selector := &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
		{Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"kube-system", namespace}},
		{Key: "meshguard.io/ignore", Operator: metav1.LabelSelectorOpDoesNotExist},
	}}
	none := admissionregistrationv1.SideEffectClassNone
	fail := admissionregistrationv1.Fail
	equivalent := admissionregistrationv1.Equivalent
	timeout := int32(10)
	client := func(path string) admissionregistrationv1.WebhookClientConfig {
		return admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{Name: "meshguard-webhook", Namespace: namespace, Path: &path}}
	}
	v := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "meshguard"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name: "validate.meshguard.io", ClientConfig: client(strings.TrimPrefix(server.PathValidate, "/")), Rules: vrules,
			NamespaceSelector: selector, SideEffects: &none, FailurePolicy: &fail, MatchPolicy: &equivalent,
			TimeoutSeconds: &timeout, AdmissionReviewVersions: []string{"v1"},
		}},
	}
	m := &admissionregistrationv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "meshguard"},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{
			Name: "mutate.meshguard.io", ClientConfig: client(strings.TrimPrefix(server.PathMutate, "/")), Rules: mrules,
			NamespaceSelector: selector, SideEffects: &none, FailurePolicy: &fail, MatchPolicy: &equivalent,
			TimeoutSeconds: &timeout, AdmissionReviewVersions: []string{"v1"},
		}},
	}
	return v, m
}

func appendMissing(ss []string, add ...string) []string {
	for _, a := range add {
		found := false
		for _, s := range ss {
			found = found || s == a
		}
		if !found {
			ss = append(ss, a)
		}
	}
	return ss
}

func appendOp(ops []admissionregistrationv1.OperationType, op string) []admissionregistrationv1.OperationType {
	for _, o := range ops {
		if string(o) == op {
			return ops
		}
	}
	return append(ops, admissionregistrationv1.OperationType(op))
}

// Start runs the API server with the CRDs and, with Options.Webhook, the
// webhook. Stop it with Stop.
func Start(ctx context.Context, opts Options) (*Env, error) {
	bins, err := BinDir()
	if err != nil {
		return nil, err
	}
	paths, err := CRDPaths()
	if err != nil {
		return nil, err
	}
	te := &envtest.Environment{
		BinaryAssetsDirectory: bins,
		CRDInstallOptions: envtest.CRDInstallOptions{
			Paths:              paths,
			CRDs:               append(MeshCRDs(), ReportCRDs()...),
			ErrorIfPathMissing: true,
		},
		ControlPlaneStopTimeout: 30 * time.Second,
	}
	if opts.StopTimeout > 0 {
		te.ControlPlaneStopTimeout = opts.StopTimeout
	}
	var engine *policy.Engine
	if opts.Webhook {
		sopts := server.Options{}
		if opts.Server != nil {
			opts.Server(&sopts)
		}
		var cfg *policy.Config
		if sopts.ConfigFile != "" {
			if cfg, err = policy.LoadConfig(sopts.ConfigFile); err != nil {
				return nil, err
			}
		}
		if engine, err = policy.New(ctx, policy.Options{Dirs: sopts.Dirs, NoBuiltin: sopts.NoBuiltin, Config: cfg}); err != nil {
			return nil, err
		}
		v, m := WebhookConfigurations(engine, WebhookNamespace)
		te.WebhookInstallOptions = envtest.WebhookInstallOptions{
			ValidatingWebhooks: []*admissionregistrationv1.ValidatingWebhookConfiguration{v},
			MutatingWebhooks:   []*admissionregistrationv1.MutatingWebhookConfiguration{m},
			LocalServingHost:   "127.0.0.1",
		}
	}
	cfg, err := te.Start()
	if err != nil {
		return nil, fmt.Errorf("starting the API server: %w", err)
	}
	e := &Env{Config: cfg, env: te, done: make(chan error, 1)}
	if !opts.Webhook {
		return e, nil
	}

	wio := te.WebhookInstallOptions
	e.CertDir = wio.LocalServingCertDir
	e.WebhookAddr = net.JoinHostPort(wio.LocalServingHost, strconv.Itoa(wio.LocalServingPort))
	health, err := freeAddr()
	if err != nil {
		_ = te.Stop()
		return nil, err
	}
	sopts := server.Options{}
	if opts.Server != nil {
		opts.Server(&sopts)
	}
	sopts.CertDir, sopts.Host, sopts.Port = wio.LocalServingCertDir, wio.LocalServingHost, wio.LocalServingPort
	sopts.HealthAddr = health
	e.HealthAddr = health
	if sopts.MetricsAddr == "" {
		sopts.MetricsAddr = "0" // Options.Server may ask for metrics
	}
	sopts.ShutdownDelay = -1
	sopts.RestConfig, sopts.Standalone, sopts.Logger = cfg, false, opts.Logger
	sopts.LeaderElection, sopts.LeaderElectionNamespace = true, WebhookNamespace
	if err := createNamespace(cfg, WebhookNamespace); err != nil {
		_ = te.Stop()
		return nil, err
	}
	sctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	go func() { e.done <- server.Run(sctx, sopts) }()

	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + health + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-e.done:
			_ = te.Stop()
			return nil, fmt.Errorf("the webhook stopped before it was ready: %w", err)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			e.Stop()
			return nil, errors.New("the webhook did not become ready within 60s")
		}
	}
	return e, nil
}

// Stop stops the webhook (draining it) and the API server.
func (e *Env) Stop() error {
	var errs []error
	if e.cancel != nil {
		e.cancel()
		select {
		case err := <-e.done:
			if err != nil {
				errs = append(errs, fmt.Errorf("webhook: %w", err))
			}
		case <-time.After(90 * time.Second):
			errs = append(errs, errors.New("the webhook did not stop within 90s"))
		}
		e.cancel = nil
	}
	if err := e.env.Stop(); err != nil {
		errs = append(errs, fmt.Errorf("API server: %w", err))
	}
	return errors.Join(errs...)
}

// StopAPIServer stops kube-apiserver only (etcd and the webhook go on), to
// test what the webhook does without it; Stop still stops everything. An
// API server that does not stop within Options.StopTimeout is killed, as in
// a crash; that is not an error here.
func (e *Env) StopAPIServer() error {
	err := e.env.ControlPlane.APIServer.Stop()
	if err != nil && strings.Contains(err.Error(), "timeout waiting for process") {
		return nil // killed
	}
	return err
}

// CAData is the CA bundle that the webhook configurations trust.
func (e *Env) CAData() []byte { return e.env.WebhookInstallOptions.LocalServingCAData }

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func createNamespace(cfg *rest.Config, name string) error {
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	_, err = c.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", name, err)
	}
	return nil
}
