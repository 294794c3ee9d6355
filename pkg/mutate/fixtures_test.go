package mutate_test

import (
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
// asked for it: the mutated object has no deny finding of those rules.
func TestMutationIsIdempotentAndSatisfiesItsRules(t *testing.T) {
	e, err := policy.New(t.Context(), policy.Options{})
	require.NoError(t, err)
	root := testutil.RepoRoot(t)
	paths := []string{filepath.Join(root, "test", "policies"), filepath.Join(root, "examples")}
	docs := objects(t, e, paths...)
	require.NotEmpty(t, docs)
	mutatedObjects := 0
	for _, d := range docs {
		out, applied, err := mutate.Object(t.Context(), e, d.Object)
		require.NoError(t, err, "%s:%d", d.File, d.Line)
		if len(applied) == 0 {
			continue
		}
		mutatedObjects++
		again, appliedAgain, err := mutate.Object(t.Context(), e, out)
		require.NoError(t, err)
		assert.Empty(t, appliedAgain, "%s:%d: a second pass applied %v", d.File, d.Line, appliedAgain)
		assert.Equal(t, out, again, "%s:%d", d.File, d.Line)

		findings, err := e.Evaluate(t.Context(), out)
		require.NoError(t, err)
		for _, f := range findings {
			for _, id := range applied {
				if f.Rule == id && f.Action == policy.ActionDeny {
					// A deny that no default can fix (e.g. an explicit 0s
					// timeout, a partial resource set) may remain, but never
					// one about a field the mutation added.
					for _, m := range mustMutations(t, e, d.Object) {
						if m.Rule == id {
							assert.NotEqual(t, policy.FormatPath(m.Path), f.Path, "%s:%d: %s still denies %s after the default was added", d.File, d.Line, id, f.Path)
						}
					}
				}
			}
		}
	}
	assert.Positive(t, mutatedObjects, "the fixtures exercise the mutations")

}

// The same property over every object of the corpus (skipped without it).
func TestMutationIsIdempotentOnTheCorpus(t *testing.T) {
	corpus := testutil.Corpus(t)
	e, err := policy.New(t.Context(), policy.Options{})
	require.NoError(t, err)
	mutated := 0
	for _, d := range objects(t, e, corpus) {
		out, applied, err := mutate.Object(t.Context(), e, d.Object)
		require.NoError(t, err, "%s:%d", d.File, d.Line)
		if len(applied) == 0 {
			continue
		}
		mutated++
		_, appliedAgain, err := mutate.Object(t.Context(), e, out)
		require.NoError(t, err)
		assert.Empty(t, appliedAgain, "%s:%d", d.File, d.Line)
	}
	t.Logf("%d corpus objects mutated", mutated)
	assert.Positive(t, mutated)
}

func mustMutations(t *testing.T, e *policy.Engine, obj map[string]any) []policy.Mutation {
	t.Helper()
	ms, err := e.Mutations(t.Context(), obj)
	require.NoError(t, err)
	return ms
}
