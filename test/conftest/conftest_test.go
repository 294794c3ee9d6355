// Package conftest_test proves that the bundle gives the same verdicts under
// conftest as under meshguard: every fixture object, alone in its own file,
// is judged by the pinned conftest (`conftest test --all-namespaces -p
// policies`) and by `meshguard check`, and the deny and warn messages must
// be the same.
package conftest_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/meshguard/meshguard/internal/testutil"
	"github.com/meshguard/meshguard/pkg/check"
	"github.com/meshguard/meshguard/pkg/manifest"
	"github.com/meshguard/meshguard/pkg/policy"
)

type conftestResult struct {
	Filename string `json:"filename"`
	Failures []struct {
		Msg string `json:"msg"`
	} `json:"failures"`
	Warnings []struct {
		Msg string `json:"msg"`
	} `json:"warnings"`
}

// engineOnly says whether a document uses what only the meshguard engine
// does (excluded namespaces, exemption annotations, admission operations), so
// conftest cannot agree.
func engineOnly(obj map[string]any) bool {
	ref := policy.RefOf(obj)
	for _, ns := range policy.DefaultExcludedNamespaces {
		if ref.Namespace == ns {
			return true
		}
	}
	md, _ := obj["metadata"].(map[string]any)
	ann, _ := md["annotations"].(map[string]any)
	_, exempt := ann[policy.AnnotationExempt]
	// AdmissionReview fixtures are for rules that judge UPDATE and DELETE,
	// which only the webhook sees.
	return exempt || obj["kind"] == "AdmissionReview"
}

func TestSameVerdictsAsConftest(t *testing.T) {
	root := testutil.RepoRoot(t)
	conftest := filepath.Join(root, "bin", "conftest")
	if _, err := os.Stat(conftest); err != nil {
		t.Skip("bin/conftest is missing: `make bin/conftest` builds the pinned version (make test does)")
	}
	// One file per fixture object.
	dir := t.TempDir()
	files, _ := manifest.Expand([]string{filepath.Join(root, "test", "policies"), filepath.Join(root, "examples")})
	var written []string
	for _, f := range files {
		if strings.HasSuffix(f, "expected.yaml") {
			continue
		}
		for _, d := range manifest.ReadFile(f, nil).Docs {
			if engineOnly(d.Object) {
				continue
			}
			b, err := yaml.Marshal(d.Object)
			require.NoError(t, err)
			rel, _ := filepath.Rel(root, f)
			name := filepath.Join(dir, fmt.Sprintf("%s-%d.yaml", strings.NewReplacer("/", "_", ".yaml", "").Replace(rel), d.Index))
			require.NoError(t, os.WriteFile(name, b, 0o600))
			written = append(written, name)
		}
	}
	require.Greater(t, len(written), 50)

	cmd := exec.Command(conftest, "test", "--all-namespaces", "--no-color", "-o", "json", "-p", filepath.Join(root, "policies"), dir)
	out, err := cmd.Output()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
		t.Fatalf("conftest: %v\n%s", err, out)
	}
	var results []conftestResult
	require.NoError(t, json.Unmarshal(out, &results))
	theirs := map[string][]string{}
	for _, r := range results {
		for _, f := range r.Failures {
			theirs[r.Filename] = append(theirs[r.Filename], "deny "+f.Msg)
		}
		for _, w := range r.Warnings {
			theirs[r.Filename] = append(theirs[r.Filename], "warn "+w.Msg)
		}
	}

	e, err := policy.New(t.Context(), policy.Options{})
	require.NoError(t, err)
	compared, withFindings := 0, 0
	for _, f := range written {
		rep, err := check.Run(t.Context(), e, []string{f}, check.Options{})
		require.NoError(t, err)
		var ours []string
		for _, res := range rep.Results {
			for _, fd := range res.Findings {
				ours = append(ours, string(fd.Action)+" "+fd.Rule+": "+fd.Message)
			}
		}
		sort.Strings(ours)
		sort.Strings(theirs[f])
		assert.Equal(t, theirs[f], ours, "%s", filepath.Base(f))
		compared++
		if len(ours) > 0 {
			withFindings++
		}
	}
	t.Logf("%d objects compared, %d with findings", compared, withFindings)
	assert.Positive(t, withFindings)
}
