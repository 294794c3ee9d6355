package policy

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"sort"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/cover"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"
)

// TestOptions configure RunTests.
type TestOptions struct {
	// Run keeps only the tests whose "package.name" matches this regular
	// expression.
	Run string
	// Coverage measures which lines of the policies the tests evaluate.
	Coverage bool
	// Timeout bounds each test (default 5s).
	Timeout time.Duration
}

// TestResult is the outcome of one Rego test rule.
type TestResult struct {
	Package  string        `json:"package"`
	Name     string        `json:"name"`
	File     string        `json:"file"`
	Line     int           `json:"line"`
	Pass     bool          `json:"pass"`
	Skip     bool          `json:"skip,omitempty"`
	Error    string        `json:"error,omitempty"`
	Duration time.Duration `json:"duration"`
	Output   string        `json:"output,omitempty"`
}

// FileCoverage is the coverage of one policy file.
type FileCoverage struct {
	File       string  `json:"file"`
	Covered    int     `json:"covered"`
	NotCovered int     `json:"notCovered"`
	Percent    float64 `json:"percent"`
}

// TestReport is what RunTests found.
type TestReport struct {
	Results []TestResult `json:"results"`
	Passed  int          `json:"passed"`
	Failed  int          `json:"failed"`
	Skipped int          `json:"skipped"`
	// Coverage is per file and in total, when asked for.
	Coverage        []FileCoverage `json:"coverage,omitempty"`
	CoveragePercent float64        `json:"coveragePercent,omitempty"`
}

// RunTests runs the Rego unit tests (test_ rules in *_test.rego) of the
// built-in bundle (unless opts.NoBuiltin) and of opts.Dirs, compiled with the
// same restricted capabilities as the engine, as `opa test` would.
func RunTests(ctx context.Context, opts Options, topts TestOptions) (*TestReport, error) {
	var modules []*ast.Module
	mods, _, err := builtinModules(opts, true)
	if err != nil {
		return nil, err
	}
	modules = append(modules, mods...)
	for _, dir := range opts.Dirs {
		st, err := os.Stat(dir)
		if err != nil {
			return nil, fmt.Errorf("loading policies: %w", err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("loading policies: %s is not a directory", dir)
		}
		mods, _, err := loadFSWith(os.DirFS(dir), dir, true)
		if err != nil {
			return nil, fmt.Errorf("loading policies from %s: %w", dir, err)
		}
		modules = append(modules, mods...)
	}
	if topts.Run != "" {
		if _, err := regexp.Compile(topts.Run); err != nil {
			return nil, fmt.Errorf("--run %q: %w", topts.Run, err)
		}
	}
	byName := make(map[string]*ast.Module, len(modules))
	for _, m := range modules {
		byName[m.Package.Location.File] = m
	}
	timeout := topts.Timeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	compiler := ast.NewCompiler().WithCapabilities(capabilities()).WithEnablePrintStatements(true)
	runner := tester.NewRunner().
		SetCompiler(compiler).
		SetStore(inmem.New()).
		SetTimeout(timeout).
		CapturePrintOutput(true).
		SetDefaultRegoVersion(ast.RegoV1).
		Filter(topts.Run)
	var cov *cover.Cover
	if topts.Coverage {
		cov = cover.New()
		runner = runner.SetCoverageQueryTracer(cov)
	}
	ch, err := runner.Run(ctx, byName)
	if err != nil {
		return nil, fmt.Errorf("compiling the tests: %w", err)
	}
	rep := &TestReport{}
	for r := range ch {
		tr := TestResult{Package: r.Package, Name: r.Name, Pass: !r.Fail && r.Error == nil && !r.Skip, Skip: r.Skip, Duration: r.Duration, Output: string(r.Output)}
		if r.Location != nil {
			tr.File, tr.Line = r.Location.File, r.Location.Row
		}
		if r.Error != nil {
			tr.Error = r.Error.Error()
		}
		switch {
		case tr.Skip:
			rep.Skipped++
		case tr.Pass:
			rep.Passed++
		default:
			rep.Failed++
		}
		rep.Results = append(rep.Results, tr)
	}
	if cov != nil {
		cr := cov.Report(byName)
		for file, f := range cr.Files {
			rep.Coverage = append(rep.Coverage, FileCoverage{File: file, Covered: f.CoveredLines, NotCovered: f.NotCoveredLines, Percent: f.Coverage})
		}
		sort.Slice(rep.Coverage, func(i, j int) bool { return rep.Coverage[i].File < rep.Coverage[j].File })
		rep.CoveragePercent = cr.Coverage
	}
	return rep, nil
}
