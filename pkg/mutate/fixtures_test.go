package mutate_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshguard/meshguard/internal/testutil"
	"github.com/meshguard/meshguard/pkg/inventory"
	"github.com/meshguard/meshguard/pkg/manifest"
	"github.com/meshguard/meshguard/pkg/mutate"
	"github.com/meshguard/meshguard/pkg/policy"
)

// objects reads every document under the paths, with the Namespaces among
// them put into the engine's inventory (as check does).
func objects(t *testing.T, e *policy.Engine, paths ...string) []manifest.Document {
	t.Helper()
	files, _ := manifest.Expand(paths)
	var docs []manifest.Document
	inv := inventory.New()
	for _, f := range files {
		file := manifest.ReadFile(f, nil)
		for _, d := range file.Docs {
			inv.Add(d.Object)
			docs = append(docs, d)
		}
	}
	require.NoError(t, e.SetInventory(t.Context(), inv.Document()))
	return docs
}

// Mutation is idempotent: a second pass over a mutated object changes
// nothing, for every fixture and example (and every corpus object when the
// corpus is there). And what the mutations add satisfies the rules that
// asked for it: a finding of such a rule about a field it filled in (the
// route whose timeout was missing, the annotations that were absent, the
// mtls block without a mode) is gone after one pass, no finding of the rule
// appears about a field it added (the default retries fit the timeout), and
// an object whose findings of the rule were all about missing defaults has
// none left.
func TestMutationIsIdempotentAndSatisfiesItsRules(t *testing.T) {
	e, err := policy.New(t.Context(), policy.Options{})
	require.NoError(t, err)
	root := testutil.RepoRoot(t)
	paths := []string{filepath.Join(root, "test", "policies"), filepath.Join(root, "examples")}
	docs := objects(t, e, paths...)
	require.NotEmpty(t, docs)
	var st stats
	for _, d := range docs {
		st.check(t, e, d)
	}
	t.Logf("objects mutated by rule: %v; findings fixed: %v; objects cleaned: %v", st.mutatedBy, st.fixed, st.cleaned)
	for _, id := range []string{"ISTIO-INJ-004", "ISTIO-MTLS-001", "ISTIO-RES-001", "ISTIO-TRAFFIC-001", "ISTIO-TRAFFIC-002",
		"CONSUL-MESH-001", "CONSUL-RES-001", "CONSUL-TRAFFIC-001", "GWAPI-ROUTE-001", "GWAPI-ROUTE-003", "LINKERD-RES-001"} {
		assert.Positive(t, st.mutatedBy[id], "the fixtures exercise the mutations of %s", id)
	}
	for _, id := range []string{"ISTIO-INJ-004", "ISTIO-MTLS-001", "ISTIO-RES-001", "ISTIO-TRAFFIC-001", "CONSUL-RES-001", "GWAPI-ROUTE-001", "GWAPI-ROUTE-003", "LINKERD-RES-001"} {
		assert.Positive(t, st.fixed[id], "the fixtures have findings of %s that its mutation fixes", id)
		assert.Positive(t, st.cleaned[id], "the fixtures have objects that lack only %s's defaults", id)
	}
}

// stats counts, by rule, what the mutations did over a set of objects.
type stats struct {
	objects   int
	mutatedBy map[string]int // objects the rule changed
	fixed     map[string]int // findings its defaults removed
	cleaned   map[string]int // objects left without its findings
}

// check mutates one object twice and asserts the properties above.
func (st *stats) check(t *testing.T, e *policy.Engine, d manifest.Document) {
	t.Helper()
	if st.mutatedBy == nil {
		st.mutatedBy, st.fixed, st.cleaned = map[string]int{}, map[string]int{}, map[string]int{}
	}
	at := fmt.Sprintf("%s:%d", d.File, d.Line)
	ms := mustMutations(t, e, d.Object)
	out, applied, err := mutate.Object(t.Context(), e, d.Object)
	require.NoError(t, err, at)
	if len(applied) == 0 {
		return
	}
	st.objects++
	again, appliedAgain, err := mutate.Object(t.Context(), e, out)
	require.NoError(t, err, at)
	assert.Empty(t, appliedAgain, "%s: a second pass applied %v", at, appliedAgain)
	assert.Equal(t, out, again, at)

	before := mustEvaluate(t, e, d.Object)
	after := mustEvaluate(t, e, out)
	for _, id := range applied {
		st.mutatedBy[id]++
		var added [][]any
		for _, m := range ms {
			if m.Rule == id {
				added = append(added, m.Path)
			}
		}
		allAboutDefaults := true
		for _, f := range before {
			if f.Rule != id {
				continue
			}
			if touches(f, added) {
				st.fixed[id]++
			} else {
				allAboutDefaults = false
			}
		}
		for _, f := range after {
			if f.Rule == id && touches(f, added) {
				assert.Fail(t, "a default does not satisfy its rule", "%s: after %s's defaults were added, it still reports %s %s: %s", at, id, f.Action, f.Path, f.Message)
			}
		}
		if allAboutDefaults {
			for _, f := range after {
				if f.Rule == id {
					assert.Fail(t, "an object missing only defaults is not clean after one pass", "%s: %s %s %s: %s", at, id, f.Action, f.Path, f.Message)
				}
			}
			st.cleaned[id]++
		}
	}
}

// touches reports whether the finding is about one of the paths: its path is
// a prefix of one (the route or annotations map that lacked the field) or
// lies under one (a field inside what was added).
func touches(f policy.Finding, paths [][]any) bool {
	fp := f.PathParts
	if fp == nil {
		fp = policy.ParsePath(f.Path)
	}
	for _, p := range paths {
		n := min(len(fp), len(p))
		same := true
		for i := range n {
			if fmt.Sprint(fp[i]) != fmt.Sprint(p[i]) {
				same = false
				break
			}
		}
		if same {
			return true
		}
	}
	return false
}

// The same properties over every object of the corpus (skipped without it).
func TestMutationIsIdempotentOnTheCorpus(t *testing.T) {
	corpus := testutil.Corpus(t)
	e, err := policy.New(t.Context(), policy.Options{})
	require.NoError(t, err)
	var st stats
	for _, d := range objects(t, e, corpus) {
		st.check(t, e, d)
	}
	t.Logf("%d corpus objects mutated; by rule: %v; findings fixed: %v; objects cleaned: %v", st.objects, st.mutatedBy, st.fixed, st.cleaned)
	assert.Positive(t, st.objects)
}

func mustEvaluate(t *testing.T, e *policy.Engine, obj map[string]any) []policy.Finding {
	t.Helper()
	fs, err := e.Evaluate(t.Context(), obj)
	require.NoError(t, err)
	return fs
}

func mustMutations(t *testing.T, e *policy.Engine, obj map[string]any) []policy.Mutation {
	t.Helper()
	ms, err := e.Mutations(t.Context(), obj)
	require.NoError(t, err)
	return ms
}
