package mutate_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshguard/meshguard/internal/testutil"
	"github.com/meshguard/meshguard/pkg/mutate"
	"github.com/meshguard/meshguard/pkg/policy"
)

// The `mutate` rule of a user's own policy, as docs/mutation.md shows it
// (the example is read from the page, so the page cannot go stale), is
// applied like the built-in ones.
func TestObjectAppliesAUserPolicy(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(testutil.RepoRoot(t), "docs", "mutation.md"))
	require.NoError(t, err)
	_, after, found := strings.Cut(string(doc), "```rego\n")
	require.True(t, found, "docs/mutation.md has a rego example")
	example, _, found := strings.Cut(after, "```")
	require.True(t, found)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "job_001.rego"), []byte(example), 0o600))

	e, err := policy.New(t.Context(), policy.Options{Dirs: []string{dir}})
	require.NoError(t, err)
	r, ok := e.Rule("TEAM-JOB-001")
	require.True(t, ok)
	assert.True(t, r.Mutates)

	job := func(spec m) m {
		return m{"apiVersion": "batch/v1", "kind": "Job", "metadata": m{"name": "migrate", "namespace": "shop"}, "spec": spec}
	}
	tests := []struct {
		name    string
		obj     m
		want    m
		applied []string
	}{
		{
			name:    "a Job without ttlSecondsAfterFinished gets the default and the annotation",
			obj:     job(m{"template": m{}}),
			want:    m{"apiVersion": "batch/v1", "kind": "Job", "metadata": m{"name": "migrate", "namespace": "shop", "annotations": m{mutate.AnnotationMutated: "TEAM-JOB-001"}}, "spec": m{"template": m{}, "ttlSecondsAfterFinished": int64(86400)}},
			applied: []string{"TEAM-JOB-001"},
		},
		{
			name: "a value someone wrote, even 0, is kept",
			obj:  job(m{"ttlSecondsAfterFinished": int64(0)}),
			want: job(m{"ttlSecondsAfterFinished": int64(0)}),
		},
		{
			name: "another kind is left alone",
			obj:  m{"apiVersion": "batch/v1", "kind": "CronJob", "metadata": m{"name": "nightly", "namespace": "shop"}, "spec": m{}},
			want: m{"apiVersion": "batch/v1", "kind": "CronJob", "metadata": m{"name": "nightly", "namespace": "shop"}, "spec": m{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, applied, err := mutate.Object(t.Context(), e, tt.obj)
			require.NoError(t, err)
			assert.Equal(t, tt.want, out)
			assert.Equal(t, tt.applied, applied)

			findings, err := e.Evaluate(t.Context(), out)
			require.NoError(t, err)
			for _, f := range findings {
				assert.NotEqual(t, "TEAM-JOB-001", f.Rule, "the default satisfies the rule: %s", f.Message)
			}
		})
	}
}
