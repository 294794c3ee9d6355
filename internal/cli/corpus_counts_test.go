package cli_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meshguard/meshguard/internal/testutil"
)

var updateCorpusCounts = flag.Bool("update-corpus-counts", false, "rewrite testdata/corpus-counts.txt from the current bundle")

const corpusCountsFile = "testdata/corpus-counts.txt"

// The number of findings per rule and action over the whole corpus is pinned,
// so that a change of any rule's reach shows up as a diff of
// testdata/corpus-counts.txt (docs/corpus.md explains the figures). After an
// intended change: go test ./internal/cli -run TestCorpusCountsPerRule -update-corpus-counts
func TestCorpusCountsPerRule(t *testing.T) {
	corpus := testutil.Corpus(t)
	r := run(t, "", "check", "-o", "json", corpus)
	require.Equal(t, 2, r.code, r.stderr) // the two broken files
	var got struct {
		Results []struct {
			Findings []struct{ Rule, Action string }
		}
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &got))
	counts := map[string]int{}
	for _, res := range got.Results {
		for _, f := range res.Findings {
			counts[f.Rule+" "+f.Action]++
		}
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("# rule action findings, over the corpus (see docs/corpus.md; regenerate with -update-corpus-counts)\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "%s %d\n", k, counts[k])
	}
	if *updateCorpusCounts {
		require.NoError(t, os.WriteFile(filepath.FromSlash(corpusCountsFile), []byte(b.String()), 0o644))
		return
	}
	want, err := os.ReadFile(filepath.FromSlash(corpusCountsFile))
	require.NoError(t, err, "run with -update-corpus-counts once to create it")
	require.Equal(t, string(want), b.String(), "the findings per rule on the corpus changed: check docs/corpus.md, then run with -update-corpus-counts")
}
