// Package server runs the meshguard admission webhook: the validating and
// mutating endpoints over HTTPS, health and metrics listeners, and (with a
// cluster) the informer cache that feeds the inventory. cmd/webhook is a thin
// flag layer over Run.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	cradmission "sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/meshguard/meshguard/pkg/admission"
	"github.com/meshguard/meshguard/pkg/audit"
	"github.com/meshguard/meshguard/pkg/certs"
	"github.com/meshguard/meshguard/pkg/defaults"
)

// Paths of the webhook endpoints.
const (
	PathValidate = "/validate"
	PathMutate   = "/mutate"
)

// Options configure Run. The zero value of every field has a safe default.
type Options struct {
	// CertDir holds tls.crt and tls.key; they are reloaded on change.
	CertDir string
	// Host and Port are where the HTTPS webhook listens (default port 9443).
	Host string
	Port int
	// MetricsAddr serves /metrics (default ":8080"; "0" turns it off).
	MetricsAddr string
	// HealthAddr serves /healthz and /readyz (default ":8081").
	HealthAddr string
	// Dirs are extra policy directories; NoBuiltin leaves the built-in bundle out.
	Dirs      []string
	NoBuiltin bool
	// ConfigFile is the meshguard config (thresholds, enforcement, exclusions).
	ConfigFile string
	// ReloadInterval is how often Dirs and ConfigFile are checked for
	// changes, which are then loaded without a restart (default 2s;
	// negative: never). A change that does not load is reported (log,
	// meshguard_bundle_reload_errors_total, an Event on the webhook's Pod)
	// and the last good bundle keeps serving.
	ReloadInterval time.Duration
	// InventoryStaleAfter is how long a watch of the inventory may stay
	// broken before verdicts say the inventory is stale (default 30s).
	InventoryStaleAfter time.Duration
	// RestConfig reaches the cluster whose Namespaces and mesh objects form the
	// inventory. Required unless Standalone.
	RestConfig *rest.Config
	// Standalone serves without a cluster: cross-object rules are off.
	Standalone bool
	// NoDefaults turns off the controller that keeps the default policies of
	// meshed namespaces (policies/generate) in place.
	NoDefaults bool
	// LeaderElection makes one replica at a time run the controller, with a
	// Lease in LeaderElectionNamespace (default $POD_NAMESPACE, else
	// meshguard-system).
	LeaderElection          bool
	LeaderElectionNamespace string
	// ShutdownDelay is how long the webhook keeps serving, unready, after it is
	// told to stop (SIGTERM), so that the API server stops sending before the
	// listener closes (default 5s; negative: none).
	ShutdownDelay time.Duration
	// EvalTimeout bounds the judgement of one request (default 9s: one
	// second below the webhook configurations' timeout).
	EvalTimeout time.Duration
	// AuditInterval runs an in-cluster audit this often (0: off), keeping
	// meshguard_audit_findings and, when the wgpolicyk8s.io CRDs are served,
	// the PolicyReports current.
	AuditInterval time.Duration
	// SelfSignedCerts, when set, provisions the serving certificate and its
	// CA (pkg/certs) into CertDir, kept in a Secret, instead of reading a
	// pair placed there (by cert-manager). Client, CertDir and Logger are
	// filled in by Run.
	SelfSignedCerts *certs.Options
	// Logger receives the decision log and server messages.
	Logger logr.Logger
}

func (o *Options) defaults() error {
	if o.Port == 0 {
		o.Port = 9443
	}
	if o.MetricsAddr == "" {
		o.MetricsAddr = ":8080"
	}
	if o.HealthAddr == "" {
		o.HealthAddr = ":8081"
	}
	if o.Logger.GetSink() == nil {
		o.Logger = logr.Discard()
	}
	if o.CertDir == "" {
		return errors.New("a certificate directory is required (--cert-dir with tls.crt and tls.key): the webhook serves HTTPS only")
	}
	if o.SelfSignedCerts == nil { // else the provisioner writes them
		for _, f := range []string{"tls.crt", "tls.key"} {
			if _, err := os.Stat(filepath.Join(o.CertDir, f)); err != nil {
				return fmt.Errorf("serving certificate: %w", err)
			}
		}
	}
	if !o.Standalone && o.RestConfig == nil {
		return errors.New("no cluster configuration: give --kubeconfig, run in a cluster, or use --standalone")
	}
	if o.SelfSignedCerts != nil && o.Standalone {
		return errors.New("self-signed certificates are kept in a Secret: they need a cluster")
	}
	return nil
}

// provisionCerts starts the self-signed certificate provisioner and waits
// until it has written the serving pair (errors are logged and retried: the
// webhook cannot serve without a certificate).
func provisionCerts(ctx context.Context, wg *sync.WaitGroup, opts Options, log logr.Logger) error {
	co := *opts.SelfSignedCerts
	client, err := kubernetes.NewForConfig(opts.RestConfig)
	if err != nil {
		return err
	}
	co.Client, co.CertDir, co.Logger = client, opts.CertDir, log.WithName("certs")
	p, err := certs.New(co)
	if err != nil {
		return err
	}
	wg.Go(func() { _ = p.Start(ctx) })
	select {
	case <-p.Ready():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// TLSConfig is applied to the webhook listener: TLS 1.2 or later and, for
// TLS 1.2, AEAD cipher suites with forward secrecy only (TLS 1.3 suites are
// all AEAD).
func TLSConfig(c *tls.Config) {
	c.MinVersion = tls.VersionTLS12
	c.CipherSuites = []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
		tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	}
}

// Run serves until ctx is cancelled, then drains in-flight requests.
func Run(ctx context.Context, opts Options) error {
	if err := opts.defaults(); err != nil {
		return err
	}
	log := opts.Logger

	// Go runtime and process metrics come from controller-runtime's registry,
	// which /metrics serves beside this one.
	reg := prometheus.NewRegistry()
	metrics, err := admission.NewMetrics(reg)
	if err != nil {
		return err
	}
	b := &bundle{opts: opts, audit: !opts.Standalone && opts.AuditInterval > 0, log: log.WithName("bundle"), metrics: metrics}
	if err := b.load(ctx); err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	if opts.SelfSignedCerts != nil {
		if err := provisionCerts(ctx, &wg, opts, log); err != nil {
			return fmt.Errorf("self-signed certificates: %w", err)
		}
	}

	hopts := admission.Options{
		Engine:      b.engine.Load,
		Metrics:     metrics,
		Logger:      log.WithName("decision"),
		EvalTimeout: opts.EvalTimeout,
	}
	var inv *clusterInventory
	if opts.Standalone {
		log.Info("standalone: no cluster, so rules that judge an object by other objects (namespace labels, inherited mTLS modes) are off")
	} else {
		staleAfter := opts.InventoryStaleAfter
		if staleAfter <= 0 {
			staleAfter = 30 * time.Second
		}
		if inv, err = newClusterInventory(opts.RestConfig, b.engine.Load(), staleAfter, log.WithName("inventory")); err != nil {
			return fmt.Errorf("watching the cluster: %w", err)
		}
		hopts.Namespaces = inv
		hopts.InventoryStale = inv.Stale
		b.adopt = inv.adopt
		b.events = newEventSink(ctx, opts.RestConfig, log.WithName("events"))
		if err := reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "meshguard_inventory_stale",
			Help: "1 when a watch of the inventory has been broken longer than --inventory-stale-after: cross-object rules judge from the last state seen.",
		}, func() float64 {
			if stale, _ := inv.Stale(); stale {
				return 1
			}
			return 0
		})); err != nil {
			return err
		}
	}
	validator, err := admission.NewValidator(hopts)
	if err != nil {
		return err
	}
	mutator, err := admission.NewMutator(hopts)
	if err != nil {
		return err
	}

	wh := webhook.NewServer(webhook.Options{
		Host:    opts.Host,
		Port:    opts.Port,
		CertDir: opts.CertDir,
		TLSOpts: []func(*tls.Config){TLSConfig},
	})
	logc := func(base logr.Logger, req *cradmission.Request) logr.Logger { return log.WithName("webhook") }
	wh.Register(PathValidate, &cradmission.Webhook{Handler: validator, LogConstructor: logc})
	wh.Register(PathMutate, &cradmission.Webhook{Handler: mutator, LogConstructor: logc})
	started := wh.StartedChecker()
	var stopping atomic.Bool
	delay := opts.ShutdownDelay
	if delay == 0 {
		delay = 5 * time.Second
	}
	// The webhook listener outlives ctx by the shutdown delay; then it drains
	// the requests in flight.
	whCtx, whCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer whCancel()
	go func() {
		<-ctx.Done()
		stopping.Store(true)
		if delay > 0 {
			log.Info("stopping: unready, serving for the shutdown delay before draining", "delay", delay.String())
			time.Sleep(delay)
		}
		whCancel()
	}()

	health := http.NewServeMux()
	health.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	health.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		if stopping.Load() {
			http.Error(w, "not ready: shutting down", http.StatusServiceUnavailable)
			return
		}
		if err := started(r); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		if inv != nil && !inv.synced.Load() {
			http.Error(w, "not ready: the inventory cache has not synced", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok"))
	})

	errs := make(chan error, 4)
	serve := func(name, addr string, h http.Handler) {
		if addr == "0" {
			return
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			errs <- fmt.Errorf("%s listener: %w", name, err)
			cancel()
			return
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		wg.Go(func() {
			<-whCtx.Done() // health and metrics stay up through the shutdown delay
			sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer scancel()
			_ = srv.Shutdown(sctx)
		})
		wg.Go(func() {
			log.Info("serving "+name, "address", ln.Addr().String())
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errs <- fmt.Errorf("%s server: %w", name, err)
				cancel()
			}
		})
	}
	serve("health probes", opts.HealthAddr, health)
	metricsMux := http.NewServeMux()
	metricsMux.Handle("/metrics", promhttp.HandlerFor(prometheus.Gatherers{reg, crmetrics.Registry}, promhttp.HandlerOpts{}))
	serve("metrics", opts.MetricsAddr, metricsMux)

	if inv != nil {
		wg.Go(func() {
			if err := inv.run(ctx); err != nil && ctx.Err() == nil {
				errs <- fmt.Errorf("inventory: %w", err)
				cancel()
			}
		})
	}
	if inv != nil && (!opts.NoDefaults || opts.AuditInterval > 0) {
		reloaded := make(chan struct{}, 1)
		b.reloaded = reloaded
		mgr, err := clusterManager(ctx, opts, b, reloaded, reg, log)
		if err != nil {
			cancel()
			wg.Wait()
			return fmt.Errorf("the cluster controllers: %w", err)
		}
		wg.Go(func() {
			if err := mgr.Start(ctx); err != nil && ctx.Err() == nil {
				errs <- fmt.Errorf("the cluster controllers: %w", err)
				cancel()
			}
		})
	}
	// The watcher starts once the bundle is wired up (adopt, events,
	// reloaded): it is the only goroutine that changes the bundle.
	interval := opts.ReloadInterval
	if interval == 0 {
		interval = 2 * time.Second
	}
	if interval > 0 && b.watched() {
		wg.Go(func() { b.watch(ctx, interval) })
	}
	wg.Go(func() {
		if err := wh.Start(whCtx); err != nil {
			errs <- fmt.Errorf("webhook server: %w", err)
			cancel()
		}
	})

	<-ctx.Done()
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return errors.Join(all...)
}

// clusterManager runs, leader-elected and never on the admission path, the
// defaults controller and the periodic audit in a controller-runtime manager.
func clusterManager(ctx context.Context, opts Options, b *bundle, reloaded <-chan struct{}, reg prometheus.Registerer, log logr.Logger) (ctrl.Manager, error) {
	ns := opts.LeaderElectionNamespace
	if ns == "" {
		ns = os.Getenv("POD_NAMESPACE")
	}
	if ns == "" {
		ns = "meshguard-system"
	}
	mgr, err := ctrl.NewManager(opts.RestConfig, ctrl.Options{
		Logger:                  log.WithName("controllers"),
		Metrics:                 metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress:  "0",
		LeaderElection:          opts.LeaderElection,
		LeaderElectionID:        "meshguard-controllers",
		LeaderElectionNamespace: ns,
	})
	if err != nil {
		return nil, err
	}
	if !opts.NoDefaults {
		r := &defaults.Reconciler{Client: mgr.GetClient(), Engine: b.engine.Load, Reloaded: reloaded, Log: log.WithName("defaults")}
		if err := r.SetupWithManager(mgr); err != nil {
			return nil, err
		}
	}
	if opts.AuditInterval > 0 {
		gauge, err := audit.NewFindingsGauge(reg)
		if err != nil {
			return nil, err
		}
		_, reportsErr := mgr.GetRESTMapper().RESTMapping(schema.GroupKind{Group: "wgpolicyk8s.io", Kind: "PolicyReport"}, "v1alpha2")
		// The audit has an engine of its own (the bundle's second one): its
		// inventory snapshots never disturb the webhook's.
		p := &audit.Periodic{Engine: b.auditEngine.Load, Config: opts.RestConfig, Interval: opts.AuditInterval, Log: log.WithName("audit"), Findings: gauge, Apply: reportsErr == nil}
		if reportsErr != nil {
			log.Info("the wgpolicyk8s.io PolicyReport CRD is not served: the periodic audit keeps only the meshguard_audit_findings metric")
		}
		if err := mgr.Add(manager.RunnableFunc(p.Start)); err != nil {
			return nil, err
		}
	}
	return mgr, nil
}
