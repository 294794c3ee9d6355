// Command rule-cost measures what each rule costs per object: for every rule
// and every kind of its METADATA, the rule's deny and warn alone are
// evaluated on the corpus objects of that kind (the corpus as inventory, the
// engine's data), and the best CPU time of -runs passes and the heap
// allocations per evaluation are printed. Allocations do not depend on the
// load of the machine; CPU time does.
//
// Each rule alone and -profile are evaluated by OPA's topdown, where the
// profiler works: they rank rules against each other. -kinds measures the
// engine as the front doors run it (OPA's plan, pkg/policy/vm.go, unless
// MESHGUARD_EVALUATOR=topdown).
//
//	go run ./hack/rule-cost [-runs 10] [corpus dir]
//	go run ./hack/rule-cost -kinds [-runs 3] [corpus dir]    (the engine per kind)
//	go run ./hack/rule-cost -profile Deployment.apps [corpus dir]    (time per Rego expression)
package main

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/profiler"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"github.com/meshguard/meshguard/pkg/inventory"
	"github.com/meshguard/meshguard/pkg/manifest"
	"github.com/meshguard/meshguard/pkg/policy"
	"github.com/meshguard/meshguard/policies"
)

func main() {
	runs := flag.Int("runs", 10, "passes over the objects of a kind (the best counts)")
	kinds := flag.Bool("kinds", false, "measure the whole engine per kind (what an object of the kind pays, every rule of the kind together) instead of each rule alone")
	profile := flag.String("profile", "", "print OPA's profile (time per Rego expression, top 40) of evaluating every corpus object of this kind, for example Deployment.apps")
	flag.Parse()
	corpus := "../shared/corpus"
	if flag.NArg() > 0 {
		corpus = flag.Arg(0)
	}
	do := run
	if *kinds {
		do = runKinds
	}
	if *profile != "" {
		do = func(corpus string, _ int) error { return runProfile(corpus, *profile) }
	}
	if err := do(corpus, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "rule-cost:", err)
		os.Exit(1)
	}
}

// measure calls each for every index below n, in runs passes: the best
// pass's CPU time and the heap allocations per call.
// A first pass is not counted: the engine plans a kind on first use.
func measure(runs, n int, each func(i int) error) (time.Duration, uint64, error) {
	for i := range n {
		if err := each(i); err != nil {
			return 0, 0, err
		}
	}
	best := time.Duration(1 << 62)
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for range runs {
		c0 := cpuTime()
		for i := range n {
			if err := each(i); err != nil {
				return 0, 0, err
			}
		}
		best = min(best, cpuTime()-c0)
	}
	runtime.ReadMemStats(&m1)
	return best, (m1.Mallocs - m0.Mallocs) / uint64(runs*n), nil
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// load reads the corpus and returns the engine, a compiler of the bundle,
// a store with the engine's data (the corpus as inventory) and the objects.
func load(ctx context.Context, corpus string) (*policy.Engine, *ast.Compiler, storage.Store, []map[string]any, error) {
	e, err := policy.New(ctx, policy.Options{})
	if err != nil {
		return nil, nil, nil, nil, err
	}
	files, errs := manifest.Expand([]string{corpus})
	if len(errs) > 0 {
		return nil, nil, nil, nil, errs[0]
	}
	var objs []map[string]any
	inv := inventory.New()
	for _, f := range files {
		for _, d := range manifest.ReadFile(f, nil).Docs {
			objs = append(objs, d.Object)
			inv.Add(d.Object)
		}
	}
	// The data the engine serves (see policy.New), with the indexes of this
	// inventory (see pkg/policy/index.go).
	if err := e.SetInventory(ctx, inv.Document()); err != nil {
		return nil, nil, nil, nil, err
	}
	index, err := e.IndexDocument(ctx)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	data := map[string]any{
		"meshguard": map[string]any{"config": map[string]any{}, "params": e.Params(), "engine": map[string]any{"indexed": true, "inventory": true}, "index": index},
		"inventory": inv.Document(),
	}
	store := inmem.NewFromObjectWithOpts(data, inmem.OptRoundTripOnWrite(false), inmem.OptReturnASTValuesOnRead(true))
	mods := map[string]string{}
	err = fs.WalkDir(policies.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".rego") || strings.HasSuffix(p, "_test.rego") {
			return err
		}
		b, err := fs.ReadFile(policies.FS, p)
		mods[p] = string(b)
		return err
	})
	if err != nil {
		return nil, nil, nil, nil, err
	}
	c, err := ast.CompileModulesWithOpt(mods, ast.CompileOpts{ParserOptions: ast.ParserOptions{ProcessAnnotation: true, RegoVersion: ast.RegoV1}})
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return e, c, store, objs, nil
}

func run(corpus string, runs int) error {
	ctx := context.Background()
	e, c, store, objs, err := load(ctx, corpus)
	if err != nil {
		return err
	}
	type row struct {
		rule, kind string
		n          int
		cpu        time.Duration
		allocs     uint64
	}
	var rows []row
	for _, r := range e.Rules() {
		var decisions []string
		for _, d := range []string{"deny", "warn"} {
			if c.RuleTree.Find(ast.MustParseRef(r.Package+"."+d)) != nil {
				decisions = append(decisions, fmt.Sprintf("%s := %s.%s", d, r.Package, d))
			}
		}
		pq, err := rego.New(rego.Query(strings.Join(decisions, "; ")), rego.Compiler(c), rego.Store(store)).PrepareForEval(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", r.ID, err)
		}
		for _, k := range r.Kinds {
			var in []ast.Value
			for _, o := range objs {
				if policy.RefOf(o).GroupKind() == k.GroupKind {
					v, err := ast.InterfaceToValue(o)
					if err != nil {
						return err
					}
					in = append(in, v)
				}
			}
			if len(in) == 0 {
				continue
			}
			best, allocs, err := measure(runs, len(in), func(i int) error {
				_, err := pq.Eval(ctx, rego.EvalParsedInput(in[i]))
				return err
			})
			if err != nil {
				return fmt.Errorf("%s on %s: %w", r.ID, k.GroupKind, err)
			}
			rows = append(rows, row{r.ID, k.GroupKind.String(), len(in), best / time.Duration(len(in)), allocs})
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].allocs > rows[j].allocs })
	fmt.Println("| rule | kind | corpus objects | CPU per object | allocations per object |")
	fmt.Println("|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Printf("| %s | %s | %d | %.0f µs | %d |\n", r.rule, r.kind, r.n, float64(r.cpu.Nanoseconds())/1000, r.allocs)
	}
	return nil
}

// runProfile evaluates every corpus object of one kind with all the rules of
// that kind in one query, as the engine does, under OPA's profiler, and prints
// the 40 Rego expressions that took the most time (the profiler's own overhead
// included, so only a ranking).
func runProfile(corpus, kind string) error {
	ctx := context.Background()
	e, c, store, objs, err := load(ctx, corpus)
	if err != nil {
		return err
	}
	var in []ast.Value
	for _, o := range objs {
		if policy.RefOf(o).GroupKind().String() == kind {
			v, err := ast.InterfaceToValue(o)
			if err != nil {
				return err
			}
			in = append(in, v)
		}
	}
	if len(in) == 0 {
		return fmt.Errorf("no corpus object is of kind %s (write Kind.group, as -kinds prints it)", kind)
	}
	var qs []string
	for i, r := range e.Rules() {
		for _, k := range r.Kinds {
			if k.GroupKind.String() != kind {
				continue
			}
			for _, d := range []string{"deny", "warn"} {
				if c.RuleTree.Find(ast.MustParseRef(r.Package+"."+d)) != nil {
					qs = append(qs, fmt.Sprintf("%s%d := %s.%s", d, i, r.Package, d))
				}
			}
		}
	}
	p := profiler.New()
	pq, err := rego.New(rego.Query(strings.Join(qs, "; ")), rego.Compiler(c), rego.Store(store), rego.QueryTracer(p)).PrepareForEval(ctx)
	if err != nil {
		return err
	}
	for _, v := range in {
		if _, err := pq.Eval(ctx, rego.EvalParsedInput(v), rego.EvalQueryTracer(p)); err != nil {
			return err
		}
	}
	fmt.Printf("%d objects of %s; location :1 is the query itself (reading each package's deny and warn)\n", len(in), kind)
	for _, s := range p.ReportTopNResults(40, []string{"total_time_ns"}) {
		fmt.Printf("%8.1f µs per object  %7d evals %7d redos  %s:%d\n", float64(s.ExprTimeNs)/1000/float64(len(in)), s.NumEval, s.NumRedo, s.Location.File, s.Location.Row)
	}
	return nil
}

// runKinds evaluates every corpus object of a covered kind through the engine
// (Evaluate, as check does, after SetInventory with the corpus) and prints,
// per kind, the CPU per object, the allocations per object and the kind's
// share of the whole evaluation.
func runKinds(corpus string, runs int) error {
	ctx := context.Background()
	e, _, _, objs, err := load(ctx, corpus) // load sets the corpus as the engine's inventory
	if err != nil {
		return err
	}
	byKind := map[string][]map[string]any{}
	for _, o := range objs {
		if gk := policy.RefOf(o).GroupKind(); e.Covers(gk) {
			byKind[gk.String()] = append(byKind[gk.String()], o)
		}
	}
	total := len(objs)
	type row struct {
		kind   string
		n      int
		cpu    time.Duration
		allocs uint64
	}
	var rows []row
	var sum time.Duration
	covered := 0
	for k, objs := range byKind {
		best, allocs, err := measure(runs, len(objs), func(i int) error {
			_, err := e.Evaluate(ctx, objs[i])
			return err
		})
		if err != nil {
			return err
		}
		rows = append(rows, row{k, len(objs), best, allocs})
		sum += best
		covered += len(objs)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].cpu > rows[j].cpu })
	fmt.Printf("%d objects, %d of a covered kind; evaluation %.0f ms of CPU in all, %.0f µs per object read\n\n", total, covered, float64(sum.Microseconds())/1000, float64(sum.Microseconds())/float64(total))
	fmt.Println("| kind | corpus objects | CPU per object | allocations per object | share of evaluation |")
	fmt.Println("|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Printf("| %s | %d | %.0f µs | %d | %.1f%% |\n", r.kind, r.n, float64(r.cpu.Nanoseconds())/1000/float64(r.n), r.allocs, 100*float64(r.cpu)/float64(sum))
	}
	return nil
}
