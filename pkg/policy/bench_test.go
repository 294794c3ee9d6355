package policy_test

import (
	"testing"

	"github.com/meshguard/meshguard/internal/testutil"
	"github.com/meshguard/meshguard/pkg/inventory"
	"github.com/meshguard/meshguard/pkg/manifest"
	"github.com/meshguard/meshguard/pkg/policy"
)

// corpusObjects decodes every object of the corpus once.
func corpusObjects(b *testing.B) []map[string]any {
	b.Helper()
	files, _ := manifest.Expand([]string{testutil.Corpus(b)})
	var objs []map[string]any
	for _, f := range files {
		for _, d := range manifest.ReadFile(f, nil).Docs {
			objs = append(objs, d.Object)
		}
	}
	return objs
}

// BenchmarkEvaluateCorpus evaluates every corpus object (decoded beforehand)
// on parallel goroutines, with the corpus as inventory: the engine alone.
func BenchmarkEvaluateCorpus(b *testing.B) {
	objs := corpusObjects(b)
	e, err := policy.New(b.Context(), policy.Options{})
	if err != nil {
		b.Fatal(err)
	}
	inv := inventory.New()
	covered := 0
	for _, o := range objs {
		inv.Add(o)
		if e.Covers(policy.RefOf(o).GroupKind()) {
			covered++
		}
	}
	if err := e.SetInventory(b.Context(), inv.Document()); err != nil {
		b.Fatal(err)
	}
	for _, o := range objs { // every kind is planned on first use: not timed
		if _, err := e.Evaluate(b.Context(), o); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := e.Evaluate(b.Context(), objs[i%len(objs)]); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "objects/s")
	b.ReportMetric(float64(covered)/float64(len(objs))*100, "%covered")
}

// BenchmarkEvaluateKind evaluates one object of each covered kind.
func BenchmarkEvaluateKind(b *testing.B) {
	objs := corpusObjects(b)
	e, err := policy.New(b.Context(), policy.Options{})
	if err != nil {
		b.Fatal(err)
	}
	seen := map[policy.GroupKind]bool{}
	for _, o := range objs {
		gk := policy.RefOf(o).GroupKind()
		if !e.Covers(gk) || seen[gk] {
			continue
		}
		seen[gk] = true
		b.Run(gk.String(), func(b *testing.B) {
			for b.Loop() {
				if _, err := e.Evaluate(b.Context(), o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
