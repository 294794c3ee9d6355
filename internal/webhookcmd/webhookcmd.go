// Package webhookcmd is the command line of the webhook binary: flags, the
// logger and the cluster configuration, over pkg/server.
package webhookcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"go.uber.org/zap/zapcore"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/meshguard/meshguard/internal/version"
	"github.com/meshguard/meshguard/pkg/certs"
	"github.com/meshguard/meshguard/pkg/server"
)

// RunFunc starts the server; tests replace it to check flag parsing without
// serving.
type RunFunc func(ctx context.Context, opts server.Options) error

// NewCommand returns the webhook's root command. stderr receives the log.
func NewCommand(stderr io.Writer, run RunFunc) *cobra.Command {
	var (
		opts       server.Options
		kubeconfig string
		logFormat  string
		verbosity  int
		selfSigned bool
		certOpts   certs.Options
		certSecret string
	)
	cmd := &cobra.Command{
		Use:   "webhook",
		Short: "Serve meshguard's validating and mutating admission webhooks",
		Long: `Serve meshguard's policy bundle to the Kubernetes API server.

The validating webhook (/validate) denies objects that break a deny rule,
returns warnings for warn rules and audit annotations for audit rules. The
mutating webhook (/mutate) adds the defaults the rules say an object lacks
(timeouts, sidecar resources, STRICT mTLS), never overwriting a value. Both
listen on HTTPS only (TLS 1.2 or later) with the certificate in --cert-dir,
which is reloaded when the files change.

With a cluster (in-cluster service account, or --kubeconfig) the Namespaces
and mesh objects are watched, so rules can read namespace labels and other
policies. --standalone serves without a cluster, with those rules off.

Without cert-manager, --self-signed-certs makes the webhook its own CA: the
CA and the serving certificate (for the --cert-host names) are kept in the
--cert-secret Secret, shared by every replica, written to --cert-dir, and the
CA is set as caBundle of both webhook configurations; both certificates are
renewed at two thirds of their lifetime.`,
		Example: `  # in a cluster (what the Helm chart runs)
  webhook --cert-dir /tls --config /etc/meshguard/config.yaml

  # without cert-manager: its own CA and certificate, kept in a Secret
  webhook --cert-dir /tls --self-signed-certs --cert-secret meshguard-system/meshguard-webhook-tls \
    --cert-host meshguard-webhook.meshguard-system.svc \
    --validating-webhook-configuration meshguard --mutating-webhook-configuration meshguard

  # on a laptop, no cluster: judge requests sent with curl
  webhook --standalone --cert-dir ./certs --health-probe-bind-address 127.0.0.1:8081`,
		Version:       version.String(),
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := newLogger(stderr, logFormat, verbosity)
			if err != nil {
				return err
			}
			opts.Logger = log
			if !opts.Standalone {
				cfg, err := restConfig(kubeconfig)
				if err != nil {
					return err
				}
				opts.RestConfig = cfg
			} else if kubeconfig != "" {
				return errors.New("--standalone and --kubeconfig exclude each other")
			}
			if selfSigned {
				if opts.Standalone {
					return errors.New("--self-signed-certs keeps the certificate in a Secret: it needs a cluster, not --standalone")
				}
				ns, name, err := secretRef(certSecret)
				if err != nil {
					return err
				}
				certOpts.Namespace, certOpts.Secret = ns, name
				opts.SelfSignedCerts = &certOpts
			} else if cmd.Flags().Changed("cert-secret") || len(certOpts.Hosts) > 0 {
				return errors.New("--cert-secret and --cert-host only apply with --self-signed-certs")
			}
			return run(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.CertDir, "cert-dir", "", "directory with tls.crt and tls.key (required; reloaded on change)")
	f.StringVar(&opts.Host, "host", "", "address the webhook listens on (default all)")
	f.IntVar(&opts.Port, "port", 9443, "HTTPS port of the webhook")
	f.StringVar(&opts.MetricsAddr, "metrics-bind-address", ":8080", `address of /metrics ("0" turns it off)`)
	f.StringVar(&opts.HealthAddr, "health-probe-bind-address", ":8081", "address of /healthz and /readyz")
	f.StringArrayVar(&opts.Dirs, "policies", nil, "directory of extra Rego policies, beside the built-in bundle (repeatable)")
	f.BoolVar(&opts.NoBuiltin, "no-builtin", false, "serve only the --policies directories, without the built-in bundle")
	f.StringVar(&opts.ConfigFile, "config", "", "meshguard config file: thresholds, per-rule enforcement, excluded namespaces")
	f.DurationVar(&opts.ReloadInterval, "policy-reload-interval", 2*time.Second, "check the --policies directories and --config this often and load changes without a restart (a change that does not load keeps the last good bundle serving); negative turns it off")
	f.DurationVar(&opts.InventoryStaleAfter, "inventory-stale-after", 30*time.Second, "with a cluster: after a watch of the inventory has been broken this long, verdicts warn that cross-object rules judged a stale inventory")
	f.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig of the cluster to watch (default: in-cluster, then $KUBECONFIG)")
	f.BoolVar(&opts.Standalone, "standalone", false, "serve without a cluster; rules that read other objects are off")
	var defaults bool
	f.BoolVar(&defaults, "defaults", true, "with a cluster: keep the default policies (STRICT PeerAuthentication, allow-nothing AuthorizationPolicy) of meshed namespaces in place")
	f.BoolVar(&opts.LeaderElection, "leader-elect", true, "run the defaults controller on one replica at a time (a Lease)")
	f.StringVar(&opts.LeaderElectionNamespace, "leader-election-namespace", "", "namespace of the leader-election Lease (default $POD_NAMESPACE, else meshguard-system)")
	cmd.PreRun = func(*cobra.Command, []string) { opts.NoDefaults = !defaults }
	f.DurationVar(&opts.ShutdownDelay, "shutdown-delay", 5*time.Second, "on SIGTERM, keep serving (unready) this long before draining, so the API server stops sending first")
	f.DurationVar(&opts.EvalTimeout, "eval-timeout", 9*time.Second, "deadline of one admission decision; keep it below the webhook configurations' timeoutSeconds")
	f.DurationVar(&opts.AuditInterval, "audit-interval", time.Hour, "with a cluster: audit it this often (leader-elected), keeping meshguard_audit_findings and the PolicyReports current; 0 turns it off")
	f.BoolVar(&selfSigned, "self-signed-certs", false, "provision the serving certificate and its CA (kept in --cert-secret, written to --cert-dir, set as caBundle of the webhook configurations), for clusters without cert-manager")
	f.StringVar(&certSecret, "cert-secret", "meshguard-webhook-tls", "with --self-signed-certs: the Secret, NAME or NAMESPACE/NAME (default namespace $POD_NAMESPACE, else meshguard-system)")
	f.StringArrayVar(&certOpts.Hosts, "cert-host", nil, "with --self-signed-certs: a DNS name or IP address of the serving certificate, e.g. the Service's <name>.<namespace>.svc (repeatable, at least one)")
	f.DurationVar(&certOpts.Validity, "cert-validity", 90*24*time.Hour, "with --self-signed-certs: lifetime of the serving certificate (renewed at two thirds)")
	f.DurationVar(&certOpts.CAValidity, "ca-validity", 5*365*24*time.Hour, "with --self-signed-certs: lifetime of the CA (renewed at two thirds; the previous CA stays trusted until it expires)")
	f.StringVar(&certOpts.ValidatingWebhookConfiguration, "validating-webhook-configuration", "", "with --self-signed-certs: the ValidatingWebhookConfiguration whose webhooks get the CA as caBundle")
	f.StringVar(&certOpts.MutatingWebhookConfiguration, "mutating-webhook-configuration", "", "with --self-signed-certs: the MutatingWebhookConfiguration whose webhooks get the CA as caBundle")
	f.StringVar(&logFormat, "log-format", "json", "log format: json or text")
	f.IntVarP(&verbosity, "v", "v", 0, "log verbosity (0 info, 1 debug, 5 per-request tracing)")
	return cmd
}

// secretRef splits NAME or NAMESPACE/NAME; the namespace defaults to the
// pod's.
func secretRef(ref string) (namespace, name string, err error) {
	namespace, name, found := strings.Cut(ref, "/")
	if !found {
		namespace, name = os.Getenv("POD_NAMESPACE"), ref
		if namespace == "" {
			namespace = "meshguard-system"
		}
	}
	if namespace == "" || name == "" || strings.Contains(name, "/") {
		return "", "", fmt.Errorf("--cert-secret %q: want NAME or NAMESPACE/NAME", ref)
	}
	return namespace, name, nil
}

func newLogger(w io.Writer, format string, v int) (logr.Logger, error) {
	o := []zap.Opts{zap.WriteTo(w), zap.Level(zapcore.Level(-v))}
	switch format {
	case "json":
		o = append(o, zap.JSONEncoder())
	case "text":
		o = append(o, zap.ConsoleEncoder())
	default:
		return logr.Logger{}, fmt.Errorf("--log-format %q: want json or text", format)
	}
	return zap.New(o...), nil
}

func restConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig != "" {
		cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("reading --kubeconfig %s: %w", kubeconfig, err)
		}
		return cfg, nil
	}
	if cfg, err := rest.InClusterConfig(); err == nil {
		return cfg, nil
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(clientcmd.NewDefaultClientConfigLoadingRules(), nil).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("no cluster found (not in a cluster, no usable $KUBECONFIG or ~/.kube/config): %w; use --kubeconfig or --standalone", err)
	}
	return cfg, nil
}
