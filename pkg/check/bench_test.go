package check_test

import (
	"io"
	"testing"

	"github.com/meshguard/meshguard/internal/testutil"
	"github.com/meshguard/meshguard/pkg/check"
	"github.com/meshguard/meshguard/pkg/policy"
)

// BenchmarkRunCorpus is `meshguard check` on the whole corpus, end to end
// (expanding, decoding, inventory, evaluation), after the engine is loaded.
func BenchmarkRunCorpus(b *testing.B) {
	corpus := testutil.Corpus(b)
	e, err := policy.New(b.Context(), policy.Options{})
	if err != nil {
		b.Fatal(err)
	}
	var objects int
	for b.Loop() {
		r, err := check.Run(b.Context(), e, []string{corpus}, check.Options{Stdin: io.NopCloser(nil)})
		if err != nil {
			b.Fatal(err)
		}
		objects = r.Summary.Objects
	}
	b.ReportMetric(float64(objects*b.N)/b.Elapsed().Seconds(), "objects/s")
}
