// Command rule-cost measures what each rule costs per object: for every rule
// and every kind of its METADATA, the rule's deny and warn alone are
// evaluated on the corpus objects of that kind (the corpus as inventory, the
// engine's data), and the best CPU time of -runs passes and the heap
// allocations per evaluation are printed. Allocations do not depend on the
// load of the machine; CPU time does.
//
//	go run ./hack/rule-cost [-runs 10] [corpus dir]
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
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"github.com/meshguard/meshguard/pkg/inventory"
	"github.com/meshguard/meshguard/pkg/manifest"
	"github.com/meshguard/meshguard/pkg/policy"
	"github.com/meshguard/meshguard/policies"
)

func main() {
	runs := flag.Int("runs", 10, "passes over the objects of a kind (the best counts)")
	flag.Parse()
	corpus := "../shared/corpus"
	if flag.NArg() > 0 {
		corpus = flag.Arg(0)
	}
	if err := run(corpus, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "rule-cost:", err)
		os.Exit(1)
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func run(corpus string, runs int) error {
	ctx := context.Background()
	e, err := policy.New(ctx, policy.Options{})
	if err != nil {
		return err
	}
	files, errs := manifest.Expand([]string{corpus})
	if len(errs) > 0 {
		return errs[0]
	}
	var objs []map[string]any
	inv := inventory.New()
	for _, f := range files {
		for _, d := range manifest.ReadFile(f, nil).Docs {
			objs = append(objs, d.Object)
			inv.Add(d.Object)
		}
	}
	// The data the engine serves (see policy.New).
	data := map[string]any{
		"meshguard": map[string]any{"config": map[string]any{}, "params": e.Params(), "engine": map[string]any{"indexed": true, "inventory": true}},
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
		return err
	}
	c, err := ast.CompileModulesWithOpt(mods, ast.CompileOpts{ParserOptions: ast.ParserOptions{ProcessAnnotation: true, RegoVersion: ast.RegoV1}})
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
			best := time.Duration(1 << 62)
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			for range runs {
				c0 := cpuTime()
				for _, v := range in {
					if _, err := pq.Eval(ctx, rego.EvalParsedInput(v)); err != nil {
						return fmt.Errorf("%s on %s: %w", r.ID, k.GroupKind, err)
					}
				}
				best = min(best, cpuTime()-c0)
			}
			runtime.ReadMemStats(&m1)
			rows = append(rows, row{r.ID, k.GroupKind.String(), len(in), best / time.Duration(len(in)), (m1.Mallocs - m0.Mallocs) / uint64(runs*len(in))})
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
