// Package policies_test runs every rule's fixtures through the whole engine,
// the way `meshguard check` does: test/policies/<RULE-ID>/violating.yaml must
// give exactly the findings listed in expected.yaml, and compliant.yaml must
// give none at all.
package policies_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/meshguard/meshguard/pkg/policy"
	"github.com/meshguard/meshguard/pkg/report"
)

type expectation struct {
	Object   string `json:"object"`
	Rule     string `json:"rule"`
	Action   string `json:"action"`
	Severity string `json:"severity"`
	Path     string `json:"path"`
	Line     int    `json:"line"`
}

func (e expectation) String() string {
	return fmt.Sprintf("%s %s %s %s %s line %d", e.Object, e.Rule, e.Action, e.Severity, e.Path, e.Line)
}

func findings(r *report.Report) []string {
	var out []string
	for _, res := range r.Results {
		for _, f := range res.Findings {
			out = append(out, expectation{
				Object: res.Object.String(), Rule: f.Rule, Action: string(f.Action),
				Severity: f.Severity, Path: f.Path, Line: f.Line,
			}.String())
		}
	}
	sort.Strings(out)
	return out
}

func newEngine(t *testing.T) *policy.Engine {
	t.Helper()
	e, err := policy.New(t.Context(), policy.Options{})
	require.NoError(t, err)
	return e
}

func TestEveryRuleHasFixtures(t *testing.T) {
	for _, r := range newEngine(t).Rules() {
		for _, f := range []string{"violating.yaml", "compliant.yaml", "expected.yaml"} {
			assert.FileExists(t, filepath.Join(r.ID, f), "rule %s needs test/policies/%s/%s", r.ID, r.ID, f)
		}
	}
}

func TestFixtures(t *testing.T) {
	e := newEngine(t)
	dirs, err := filepath.Glob("*-*-*")
	require.NoError(t, err)
	require.NotEmpty(t, dirs)
	for _, dir := range dirs {
		t.Run(dir, func(t *testing.T) {
			_, known := e.Rule(dir)
			require.True(t, known, "fixture directory %s names no rule of the bundle", dir)

			b, err := os.ReadFile(filepath.Join(dir, "expected.yaml"))
			require.NoError(t, err)
			var want []expectation
			require.NoError(t, yaml.UnmarshalStrict(b, &want), "expected.yaml")
			wantStrings := make([]string, len(want))
			ruleSeen := false
			for i, w := range want {
				wantStrings[i] = w.String()
				ruleSeen = ruleSeen || w.Rule == dir
			}
			sort.Strings(wantStrings)
			require.True(t, ruleSeen, "expected.yaml lists no finding of %s itself", dir)

			got := judge(t, e, filepath.Join(dir, "violating.yaml"))
			assert.Equal(t, wantStrings, findings(got), "findings of violating.yaml")

			clean := judge(t, e, filepath.Join(dir, "compliant.yaml"))
			assert.NotZero(t, clean.Summary.Objects, "compliant.yaml holds no object")
			assert.Empty(t, findings(clean), "compliant.yaml must give no finding of any rule")
		})
	}
}
