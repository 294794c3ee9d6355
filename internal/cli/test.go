package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/meshguard/meshguard/pkg/policy"
)

type testOptions struct {
	policies  []string
	noBuiltin bool
	run       string
	coverage  bool
	verbose   bool
	output    string
	threshold float64
}

func newTest(s Streams) *cobra.Command {
	o := &testOptions{}
	cmd := &cobra.Command{
		Use:   "test [DIR...]",
		Short: "Run the Rego unit tests of the built-in bundle and of your own policies",
		Long: `Test runs the test_ rules of every *_test.rego file, like 'opa test', for the
built-in bundle and for each DIR (or --policies directory) of your own
policies, compiled with the same restrictions as 'meshguard check' (no
network or host builtins). Your policies can import meshguard's libraries
(data.meshguard.lib.*).

Exit codes: 0 all tests pass (and coverage is at least --threshold),
1 a test failed or coverage is below the threshold, 2 a usage error or
policies that do not compile.`,
		Example: `  # the built-in bundle and a team's policies, with coverage
  meshguard test --coverage ./team-policies

  # only your own policies, only the tests about timeouts, each listed
  meshguard test --no-builtin -v --run timeout ./team-policies

  # fail CI under 90% coverage
  meshguard test --coverage --threshold 90 ./team-policies`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTest(cmd.Context(), s, o, args)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&o.policies, "policies", nil, "directory of your own Rego policies and tests (repeatable; same as a DIR argument)")
	fl.BoolVar(&o.noBuiltin, "no-builtin", false, "run only the tests of your directories")
	fl.StringVar(&o.run, "run", "", "run only the tests whose package.name matches this regular expression")
	fl.BoolVar(&o.coverage, "coverage", false, "report the share of policy lines the tests evaluate, per file and in total")
	fl.Float64Var(&o.threshold, "threshold", 0, "with --coverage: fail when total coverage is below this percentage")
	fl.BoolVarP(&o.verbose, "verbose", "v", false, "list every test, not only failures")
	fl.StringVarP(&o.output, "output", "o", "text", "output format: text, json")
	return cmd
}

func runTest(ctx context.Context, s Streams, o *testOptions, args []string) error {
	if o.output != "text" && o.output != "json" {
		return usageError("unknown output format %q (want one of json, text)", o.output)
	}
	dirs := append(append([]string{}, o.policies...), args...)
	if o.noBuiltin && len(dirs) == 0 {
		return usageError("--no-builtin needs at least one policy directory")
	}
	if o.threshold != 0 && !o.coverage {
		return usageError("--threshold needs --coverage")
	}
	rep, err := policy.RunTests(ctx, policy.Options{Dirs: dirs, NoBuiltin: o.noBuiltin}, policy.TestOptions{Run: o.run, Coverage: o.coverage})
	if err != nil {
		return &ExitError{Code: ExitBadInput, Err: err}
	}
	if o.output == "json" {
		enc := json.NewEncoder(s.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		for _, r := range rep.Results {
			status := "PASS"
			switch {
			case r.Skip:
				status = "SKIP"
			case r.Error != "":
				status = "ERROR"
			case !r.Pass:
				status = "FAIL"
			}
			if status == "PASS" && !o.verbose {
				continue
			}
			fmt.Fprintf(s.Out, "%s: %s:%d: %s.%s (%s)\n", status, filepath.ToSlash(r.File), r.Line, r.Package, r.Name, r.Duration.Round(1000))
			if r.Error != "" {
				fmt.Fprintf(s.Out, "  %s\n", r.Error)
			}
			if r.Output != "" && status != "PASS" {
				fmt.Fprintf(s.Out, "  output: %s\n", r.Output)
			}
		}
		if o.coverage {
			for _, c := range rep.Coverage {
				fmt.Fprintf(s.Out, "%6.1f%%  %s\n", c.Percent, filepath.ToSlash(c.File))
			}
			fmt.Fprintf(s.Out, "%6.1f%%  total coverage\n", rep.CoveragePercent)
		}
		fmt.Fprintf(s.Out, "%d passed, %d failed, %d skipped\n", rep.Passed, rep.Failed, rep.Skipped)
	}
	if len(rep.Results) == 0 {
		return &ExitError{Code: ExitBadInput, Err: fmt.Errorf("no tests found (test rules are named test_* in *_test.rego files)")}
	}
	if rep.Failed > 0 {
		return &ExitError{Code: ExitDeny}
	}
	if o.coverage && rep.CoveragePercent < o.threshold {
		return &ExitError{Code: ExitDeny, Err: fmt.Errorf("coverage %.1f%% is below the threshold %.1f%%", rep.CoveragePercent, o.threshold)}
	}
	return nil
}
