package cli

import (
	"context"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/meshguard/meshguard/pkg/check"
	"github.com/meshguard/meshguard/pkg/report"
)

type checkOptions struct {
	engineFlags
	output  string
	workers int
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

Exit codes:
  0  no deny finding
  1  at least one deny finding
  2  a usage error, or input that could not be read or parsed (every other
     file is still checked and reported)`,
		Example: `  # check a directory of manifests
  meshguard check deploy/

  # check rendered manifests from stdin, as JSON
  helm template ./chart | meshguard check -o json -

  # add your own policies and thresholds
  meshguard check --policies ./team-policies --config .meshguard.yaml deploy/`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError("check needs at least one PATH (a file, a directory, or - for stdin)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCheck(cmd.Context(), s, o, args)
		},
	}
	o.engineFlags.register(cmd)
	cmd.Flags().StringVarP(&o.output, "output", "o", "text", "output format: "+strings.Join(report.Formats(), ", "))
	cmd.Flags().IntVar(&o.workers, "workers", 0, "parallel workers for decoding and evaluation (default: number of CPUs)")
	return cmd
}

func runCheck(ctx context.Context, s Streams, o *checkOptions, paths []string) error {
	if os.Getenv("GOGC") == "" {
		// A check is short-lived and allocation-heavy (YAML trees): trading
		// memory for fewer collections gave about a third more objects/s in
		// BenchmarkRunCorpus (GOGC=100 vs 400).
		debug.SetGCPercent(400)
	}
	out, err := report.For(o.output)
	if err != nil {
		return usageError("%v", err)
	}
	engine, err := o.engine(ctx)
	if err != nil {
		return err
	}
	r, err := check.Run(ctx, engine, paths, check.Options{Stdin: s.In, Workers: o.workers})
	if err != nil {
		return err
	}
	if err := out.Output(s.Out, r); err != nil {
		return err
	}
	switch {
	case r.Summary.Errors > 0:
		return &ExitError{Code: ExitBadInput}
	case r.Summary.Deny > 0:
		return &ExitError{Code: ExitDeny}
	}
	return nil
}
