package cli

import (
	"context"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/meshguard/meshguard/internal/version"
	"github.com/meshguard/meshguard/pkg/check"
	"github.com/meshguard/meshguard/pkg/policy"
	"github.com/meshguard/meshguard/pkg/render"
	"github.com/meshguard/meshguard/pkg/report"
)

type checkOptions struct {
	engineFlags
	controls checkControls
	output   string
	workers  int
	fix      bool
	write    bool

	helm      []string
	values    []string
	set       []string
	helmNS    string
	kustomize []string
}

func newCheck(s Streams) *cobra.Command {
	o := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "check [flags] PATH...",
		Short: "Check Kubernetes manifests against the mesh policies (for CI)",
		Long: `Check reads YAML and JSON manifests from files, directories (recursively:
.yaml, .yml, .json) and standard input ("-"), and judges every object with the
policy bundle. Multi-document files and "kind: List" are unwrapped. Namespace
objects among the inputs tell rules which namespaces are in the mesh.

Controls (flag, else MESHGUARD_<NAME> in the environment, else the config
file: --config, $MESHGUARD_CONFIG, or ./.meshguard.yaml when present):
  --rule / --skip-rule       keep only / drop these rules' findings
  --severity-threshold S     keep only findings of severity S or worse
  --fail-on-warn             warn findings fail the check too
  --exclude-namespace NS     leave objects in NS unjudged
  -o / $MESHGUARD_OUTPUT     output format

Output formats (-o, docs/output.md):
  text    one line per finding with file and line (default)
  table   aligned columns
  json    the report model: results, errors, skipped, summary
  sarif   SARIF 2.1.0 for code scanning (GitHub, GitLab, IDEs)
  github  GitHub Actions annotations (::error file=...,line=...)
  junit   JUnit XML, one testsuite per file (CI test reports)
  tap     TAP 14 with YAML diagnostics
The exit codes are the same for every format.

Exit codes:
  0  no deny finding (and, with --fail-on-warn, no warn finding)
  1  at least one deny finding (or warn finding with --fail-on-warn)
  2  a usage error, or input that could not be read or parsed (every other
     file is still checked and reported)`,
		Example: `  # check a directory of manifests
  meshguard check deploy/

  # check rendered manifests from stdin, as JSON
  helm template ./chart | meshguard check -o json -

  # in CI: SARIF for code scanning, or annotations on the pull request
  meshguard check -o sarif deploy/ > meshguard.sarif
  meshguard check -o github deploy/

  # render a chart (no helm binary needed) or a kustomization, and check it
  meshguard check --helm ./chart -f values-prod.yaml --set mesh.enabled=true
  meshguard check --kustomize overlays/prod

  # add your own policies and thresholds
  meshguard check --policies ./team-policies --config .meshguard.yaml deploy/

  # gate CI on high and critical findings only, warnings included
  meshguard check --severity-threshold high --fail-on-warn deploy/

  # add the missing defaults, keeping comments; then check what is left
  meshguard check --fix --write deploy/

  # everything but one rule
  MESHGUARD_SKIP_RULE=ISTIO-TRAFFIC-002 meshguard check deploy/`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 && len(o.helm) == 0 && len(o.kustomize) == 0 {
				return usageError("check needs at least one PATH (a file, a directory, or - for stdin), --helm CHART or --kustomize DIR")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCheck(cmd.Context(), s, o, args)
		},
	}
	o.engineFlags.register(cmd)
	o.controls.register(cmd)
	cmd.Flags().StringVarP(&o.output, "output", "o", "text", "output format: "+strings.Join(report.Formats(), ", "))
	cmd.Flags().StringArrayVar(&o.helm, "helm", nil, "render this Helm chart directory (or .tgz) with the Helm library and check the result (repeatable)")
	cmd.Flags().StringArrayVarP(&o.values, "values", "f", nil, "with --helm: a values file (repeatable; later files win)")
	cmd.Flags().StringArrayVar(&o.set, "set", nil, "with --helm: set a value, key=value as in helm (repeatable)")
	cmd.Flags().StringVar(&o.helmNS, "helm-namespace", "", "with --helm: the release namespace (default \"default\")")
	cmd.Flags().StringArrayVar(&o.kustomize, "kustomize", nil, "build this kustomization directory with the kustomize library and check the result (repeatable)")
	cmd.Flags().BoolVar(&o.fix, "fix", false, "add the defaults the rules' mutations give (timeouts, retries, sidecar resources, STRICT mTLS) and print the fixed manifests; the remaining findings go to stderr")
	cmd.Flags().BoolVar(&o.write, "write", false, "with --fix: rewrite the files in place (comments and key order kept) instead of printing them")
	cmd.Flags().IntVar(&o.workers, "workers", 0, "parallel workers for decoding and evaluation (default: number of CPUs)")
	return cmd
}

// checkHeapBeforeGC is how much heap a check allocates before its first
// garbage collection: the 11,576 objects of `make bench` peak at about
// 250 MB of RSS and never collect.
const checkHeapBeforeGC = 1 << 30

// collectLate sets the collector for a check, a short batch whose heap is
// mostly what it has read and will judge: no collection until the heap
// reaches limit, then GOGC 400 and no limit. Marking a heap that is nearly
// all live cost more than the memory saved: with GOGC 400 (the previous
// setting) `make bench` used about 0.3 s more CPU of 2.2 (docs/performance.md).
func collectLate(limit int64) {
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(limit)
	// The first collection, forced by the limit, runs this finalizer.
	runtime.SetFinalizer(new([16]byte), func(*[16]byte) {
		debug.SetGCPercent(400)
		debug.SetMemoryLimit(math.MaxInt64)
	})
}

// loadEngine loads the bundle with the check's controls.
func (o *checkOptions) loadEngine(ctx context.Context) (*policy.Engine, error) {
	var resolveErr error
	engine, err := o.engine(ctx, func(cfg *policy.Config) { resolveErr = o.controls.resolve(o.engineFlags.cmd, cfg) })
	if resolveErr != nil {
		return nil, resolveErr
	}
	if err != nil {
		return nil, err
	}
	if err := o.controls.checkRules(engine); err != nil {
		return nil, err
	}
	return engine, nil
}

func runCheck(ctx context.Context, s Streams, o *checkOptions, paths []string) error {
	switch _, limited := os.LookupEnv("GOMEMLIMIT"); {
	case os.Getenv("GOGC") != "": // the user's settings win
	case limited:
		debug.SetGCPercent(400)
	default:
		collectLate(checkHeapBeforeGC)
	}
	if !o.engineFlags.cmd.Flags().Changed("output") {
		if v, ok := os.LookupEnv("MESHGUARD_OUTPUT"); ok {
			o.output = v
		}
	}
	out, err := report.For(o.output)
	if err != nil {
		return usageError("%v", err)
	}
	if o.write && !o.fix {
		return usageError("--write needs --fix")
	}
	if (len(o.values) > 0 || len(o.set) > 0 || o.helmNS != "") && len(o.helm) == 0 {
		return usageError("--values, --set and --helm-namespace need --helm")
	}
	var sources []render.Source
	for _, c := range o.helm {
		srcs, err := render.Helm(c, render.HelmOptions{ValueFiles: o.values, Set: o.set, Namespace: o.helmNS})
		if err != nil {
			return &ExitError{Code: ExitBadInput, Err: err}
		}
		sources = append(sources, srcs...)
	}
	for _, d := range o.kustomize {
		src, err := render.Kustomize(d)
		if err != nil {
			return &ExitError{Code: ExitBadInput, Err: err}
		}
		sources = append(sources, src)
	}
	if o.fix && len(sources) > 0 {
		return usageError("--fix works on manifest files: fix the chart's templates or the kustomization's resources instead")
	}
	// The files are read while the bundle loads. Not with --fix (it
	// rewrites them first), nor from stdin: a bundle that fails to load
	// is reported at once, not after waiting for the end of the input.
	var input *check.Input
	early := !o.fix && !slices.Contains(paths, "-")
	if early {
		input = check.Start(ctx, paths, check.Options{Stdin: s.In, Workers: o.workers, Sources: sources})
	}
	engine, err := o.loadEngine(ctx)
	if err != nil {
		if input != nil {
			input.Stop()
		}
		return err
	}
	switch {
	case o.fix:
		paths, stdin, reportTo, err := runFix(ctx, s, engine, paths, o.write)
		if err != nil {
			return err
		}
		s.Out = reportTo
		input = check.Start(ctx, paths, check.Options{Stdin: stdin, Workers: o.workers})
	case !early:
		input = check.Start(ctx, paths, check.Options{Stdin: s.In, Workers: o.workers, Sources: sources})
	}
	r, err := input.Run(ctx, engine)
	if err != nil {
		return err
	}
	o.controls.filter(r)
	r.ToolVersion = version.String()
	if err := out.Output(s.Out, r); err != nil {
		return err
	}
	switch {
	case r.Summary.Errors > 0:
		return &ExitError{Code: ExitBadInput}
	case r.Summary.Deny > 0:
		return &ExitError{Code: ExitDeny}
	case o.controls.failOnWarn && r.Summary.Warn > 0:
		return &ExitError{Code: ExitDeny}
	}
	return nil
}
