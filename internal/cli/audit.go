package cli

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/meshguard/meshguard/internal/version"
	"github.com/meshguard/meshguard/pkg/audit"
	"github.com/meshguard/meshguard/pkg/check"
	"github.com/meshguard/meshguard/pkg/report"
)

type auditOptions struct {
	engineFlags
	kubeconfig string
	context    string
	namespaces []string
	output     string
	apply      bool
	pageSize   int64
	// memoryLimit is --memory-limit, a quantity.
	memoryLimit string
}

func newAudit(s Streams) *cobra.Command {
	o := &auditOptions{}
	cmd := &cobra.Command{
		Use:   "audit [flags] [PATH...]",
		Short: "Report what already breaks the rules: in a live cluster, or in files",
		Long: `Audit finds the violations that exist today, which admission never saw
(objects created before meshguard, or while the webhook failed open).

Without PATH it audits the cluster of the current kubeconfig context (or
--kubeconfig/--context): it finds which kinds the bundle covers are served (a
kind whose CRD is absent is skipped, with a note), lists them page by page,
builds the inventory, judges every object and reports. It only reads (get,
list). With PATH it audits files, like check (a GitOps repository).

Only objects with findings are listed; the totals count findings by rule,
namespace and severity. Formats: json (check's finding shape plus totals),
markdown, html (one self-contained page), policyreport (wgpolicyk8s.io
PolicyReports as YAML; --apply writes them to the cluster instead, and removes
meshguard's reports for namespaces that are now clean), sarif (as check's:
cluster objects have a logical location, files a file and line) and table.

Exit codes: 0 the audit ran (findings or not), 2 a usage error or input that
could not be read, listed or judged.`,
		Example: `  # the current cluster, as a Markdown summary
  meshguard audit

  # two namespaces, as a self-contained HTML page
  meshguard audit -n shop -n payments -o html > audit.html

  # keep PolicyReports in the cluster current
  meshguard audit -o policyreport --apply

  # a GitOps repository, as JSON
  meshguard audit -o json clusters/prod/`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAudit(cmd.Context(), s, o, args)
		},
	}
	o.engineFlags.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig file (default $KUBECONFIG, then ~/.kube/config)")
	fl.StringVar(&o.context, "context", "", "kubeconfig context (default: the current one)")
	fl.StringArrayVarP(&o.namespaces, "namespace", "n", nil, "audit only the objects of this namespace (repeatable; default all)")
	fl.StringVarP(&o.output, "output", "o", "markdown", "output format: "+strings.Join(report.AuditFormats(), ", "))
	fl.BoolVar(&o.apply, "apply", false, "with -o policyreport on a live cluster: write the PolicyReports to the cluster (create, update, remove stale)")
	fl.Int64Var(&o.pageSize, "page-size", 500, "objects per list request")
	fl.StringVar(&o.memoryLimit, "memory-limit", defaultAuditMemoryLimit, "soft limit of the Go heap (a Kubernetes quantity such as 250Mi; 0 for none): the garbage collector works harder near it, so a large audit stays within its pod's memory; GOMEMLIMIT, when set, wins")
	return cmd
}

// defaultAuditMemoryLimit keeps an audit of 50,000 objects under 300 MiB of
// RSS (docs/performance.md). Go caps the collector at about half the CPU when
// the live heap exceeds the limit, so a larger inventory costs time, never a
// stall.
const defaultAuditMemoryLimit = "230Mi"

func runAudit(ctx context.Context, s Streams, o *auditOptions, paths []string) error {
	out, err := report.ForAudit(o.output)
	if err != nil {
		return usageError("%v", err)
	}
	limit, err := resource.ParseQuantity(o.memoryLimit)
	if err != nil || limit.Sign() < 0 {
		return usageError("--memory-limit %q: want a quantity such as 250Mi, or 0 for none", o.memoryLimit)
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set && limit.Sign() > 0 {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(limit.Value()))
	}
	if o.apply && (o.output != "policyreport" || len(paths) > 0) {
		return usageError("--apply needs -o policyreport and a live cluster (no PATH)")
	}
	if len(paths) > 0 && (o.kubeconfig != "" || o.context != "") {
		return usageError("--kubeconfig and --context are for a live audit: give them or PATHs, not both")
	}
	e, err := o.engine(ctx)
	if err != nil {
		return err
	}
	opts := audit.Options{Namespaces: o.namespaces, PageSize: o.pageSize}
	var r *report.Report
	if len(paths) > 0 {
		checked, err := check.Run(ctx, e, paths, check.Options{Stdin: s.In})
		if err != nil {
			return err
		}
		r = audit.Files(checked, e, strings.Join(paths, " "), opts)
	} else {
		rules := clientcmd.NewDefaultClientConfigLoadingRules()
		if o.kubeconfig != "" {
			rules.ExplicitPath = o.kubeconfig
		}
		cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: o.context})
		cfg, err := cc.ClientConfig()
		if err != nil {
			return &ExitError{Code: ExitBadInput, Err: fmt.Errorf("no cluster to audit (give PATHs to audit files): %w", err)}
		}
		source := cfg.Host
		if raw, err := cc.RawConfig(); err == nil {
			name := o.context
			if name == "" {
				name = raw.CurrentContext
			}
			if name != "" {
				source = "context " + name + " (" + cfg.Host + ")"
			}
		}
		if r, err = audit.Live(ctx, e, cfg, source, opts); err != nil {
			return &ExitError{Code: ExitBadInput, Err: err}
		}
		if o.apply {
			a, err := audit.Apply(ctx, cfg, r)
			if err != nil {
				return &ExitError{Code: ExitBadInput, Err: err}
			}
			fmt.Fprintf(s.Out, "PolicyReports: %d created, %d updated, %d stale removed\n", a.Created, a.Updated, a.Deleted)
			return nil
		}
	}
	r.ToolVersion = version.String()
	if err := out.Output(s.Out, r); err != nil {
		return err
	}
	if r.Summary.Errors > 0 {
		return &ExitError{Code: ExitBadInput}
	}
	return nil
}
