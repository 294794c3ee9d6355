package policies_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var yamlBlock = regexp.MustCompile("(?s)```yaml\n(.*?)```")

// section returns the text under a "## name" heading, up to the next one.
func section(page, name string) string {
	i := strings.Index(page, "\n## "+name+"\n")
	if i < 0 {
		return ""
	}
	rest := page[i+len(name)+5:]
	if j := strings.Index(rest, "\n## "); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

// Every rule has a doc page, docs/rules/<ID>.md, with what, why, how to fix
// and a violating and a compliant example, and the examples are true: the
// violating one gives a finding of the rule and the compliant one none (each
// example block is checked as one input, so it may carry the Namespace or
// other objects the rule reads). The index lists every rule.
func TestEveryRuleHasADocPage(t *testing.T) {
	e := newEngine(t)
	index, err := os.ReadFile(filepath.Join("..", "..", "docs", "rules", "README.md"))
	require.NoError(t, err, "docs/rules/README.md lists the rules")
	for _, r := range e.Rules() {
		t.Run(r.ID, func(t *testing.T) {
			assert.Contains(t, string(index), "["+r.ID+"]("+r.ID+".md)", "docs/rules/README.md links the page")
			b, err := os.ReadFile(filepath.Join("..", "..", "docs", "rules", r.ID+".md"))
			require.NoError(t, err, "rule %s needs docs/rules/%s.md", r.ID, r.ID)
			page := string(b)
			assert.True(t, strings.HasPrefix(page, "# "+r.ID+": "), "the page starts with `# %s: <title>`", r.ID)
			assert.Contains(t, page, filepath.ToSlash(filepath.Dir(r.File)), "the page links the rule's directory")
			for _, s := range []string{"What", "Why", "How to fix", "Violating", "Compliant"} {
				assert.NotEmpty(t, strings.TrimSpace(section(page, s)), "section ## %s", s)
			}
			for _, tc := range []struct {
				section string
				want    bool
			}{{"Violating", true}, {"Compliant", false}} {
				blocks := yamlBlock.FindAllStringSubmatch(section(page, tc.section), -1)
				require.NotEmpty(t, blocks, "## %s has a ```yaml block", tc.section)
				for _, m := range blocks {
					dir := t.TempDir()
					f := filepath.Join(dir, "example.yaml")
					require.NoError(t, os.WriteFile(f, []byte(m[1]), 0o600))
					rep := judge(t, e, f)
					found := false
					for _, res := range rep.Results {
						for _, fd := range res.Findings {
							found = found || fd.Rule == r.ID
						}
					}
					assert.Equal(t, tc.want, found, "the %s example of %s:\n%s", tc.section, r.ID, m[1])
				}
			}
		})
	}
}
