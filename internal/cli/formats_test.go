package cli_test

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshguard/meshguard/docs"
	"github.com/meshguard/meshguard/internal/testutil"
	"github.com/meshguard/meshguard/pkg/report"
)

// Every output format keeps check's exit codes, and writes its own format.
func TestCheckFormatsExitCodes(t *testing.T) {
	dir := t.TempDir()
	clean := write(t, dir, "clean.yaml", strict)
	denied := write(t, dir, "denied.yaml", permissive)
	warned := write(t, dir, "warned.yaml", wildcard)
	broken := write(t, dir, "broken.yaml", "apiVersion: v1\nkind: [\n")

	looksLike := map[string]func(t *testing.T, out string){
		"text":  func(t *testing.T, out string) { assert.Contains(t, out, "(bundle 2026.12.0)") },
		"table": func(t *testing.T, out string) { assert.True(t, strings.HasPrefix(out, "LOCATION "), out) },
		"json": func(t *testing.T, out string) {
			var v map[string]any
			assert.NoError(t, json.Unmarshal([]byte(out), &v), out)
		},
		"sarif": func(t *testing.T, out string) {
			var v struct {
				Version string
				Runs    []struct {
					Tool struct {
						Driver struct{ Name, Version string }
					}
				}
			}
			require.NoError(t, json.Unmarshal([]byte(out), &v), out)
			assert.Equal(t, "2.1.0", v.Version)
			assert.Equal(t, "meshguard", v.Runs[0].Tool.Driver.Name)
			assert.True(t, strings.HasPrefix(v.Runs[0].Tool.Driver.Version, "dev"), "the binary's version: %q", v.Runs[0].Tool.Driver.Version)
		},
		"github": func(t *testing.T, out string) { assert.Contains(t, out, "meshguard: ") },
		"junit": func(t *testing.T, out string) {
			var v struct{ XMLName xml.Name }
			require.NoError(t, xml.Unmarshal([]byte(out), &v), out)
			assert.Equal(t, "testsuites", v.XMLName.Local)
		},
		"tap": func(t *testing.T, out string) { assert.True(t, strings.HasPrefix(out, "TAP version 14\n1.."), out) },
	}
	formats := report.Formats()
	require.Len(t, looksLike, len(formats))
	for _, format := range formats {
		t.Run(format, func(t *testing.T) {
			for _, tt := range []struct {
				name string
				args []string
				code int
			}{
				{"clean", []string{clean}, 0},
				{"a warning", []string{warned}, 0},
				{"a warning with --fail-on-warn", []string{"--fail-on-warn", warned}, 1},
				{"a deny finding", []string{denied, clean}, 1},
				{"a broken file", []string{broken, denied}, 2},
			} {
				r := run(t, "", append([]string{"check", "-o", format}, tt.args...)...)
				assert.Equal(t, tt.code, r.code, "%s: stdout:\n%s\nstderr:\n%s", tt.name, r.stdout, r.stderr)
				looksLike[format](t, r.stdout)
			}
		})
	}

	t.Run("github annotations point at the file and line", func(t *testing.T) {
		r := run(t, "", "check", "-o", "github", denied, broken)
		assert.Contains(t, r.stdout, "::error file="+denied+",line=5,title=ISTIO-MTLS-001::deny (high): PeerAuthentication shop/default sets mtls.mode PERMISSIVE")
		assert.Contains(t, r.stdout, "::error file="+broken+",line=2,title=meshguard%3A input error::invalid YAML")
	})

	t.Run("MESHGUARD_OUTPUT chooses the format", func(t *testing.T) {
		t.Setenv("MESHGUARD_OUTPUT", "tap")
		r := run(t, "", "check", denied)
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stdout, "not ok 1 - ISTIO-MTLS-001 PeerAuthentication shop/default")
	})

	t.Run("an unknown format is a usage error", func(t *testing.T) {
		r := run(t, "", "check", "-o", "xml", clean)
		assert.Equal(t, 2, r.code)
		assert.Contains(t, r.stderr, `unknown output format "xml" (want one of github, json, junit, sarif, table, tap, text)`)
	})

	t.Run("the help lists every format", func(t *testing.T) {
		r := run(t, "", "check", "--help")
		for _, format := range formats {
			assert.Regexp(t, `(?m)^  `+format+` `, r.stdout)
		}
	})
}

func TestAuditSARIF(t *testing.T) {
	dir := t.TempDir()
	denied := write(t, dir, "denied.yaml", permissive)
	r := run(t, "", "audit", "-o", "sarif", denied)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"ruleId": "ISTIO-MTLS-001"`)
	assert.Contains(t, r.stdout, `"startLine": 5`)
}

func TestPoliciesExplain(t *testing.T) {
	root := testutil.RepoRoot(t)

	t.Run("a built-in rule prints its page", func(t *testing.T) {
		want, err := os.ReadFile(filepath.Join(root, "docs", "rules", "ISTIO-MTLS-001.md"))
		require.NoError(t, err)
		r := run(t, "", "policies", "explain", "ISTIO-MTLS-001")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, string(want), r.stdout)
		r = run(t, "", "policies", "explain", "istio-mtls-001")
		assert.Equal(t, string(want), r.stdout, "ids are case-insensitive")
	})

	t.Run("the binary carries every page of docs/rules", func(t *testing.T) {
		files, err := filepath.Glob(filepath.Join(root, "docs", "rules", "*-*.md"))
		require.NoError(t, err)
		var want []string
		for _, f := range files {
			want = append(want, strings.TrimSuffix(filepath.Base(f), ".md"))
		}
		sort.Strings(want)
		assert.Equal(t, want, docs.RulePageIDs())
	})

	t.Run("every rule of the bundle is explained", func(t *testing.T) {
		var list struct {
			Rules []struct{ ID, Title string }
		}
		require.NoError(t, json.Unmarshal([]byte(run(t, "", "policies", "list", "-o", "json").stdout), &list))
		require.NotEmpty(t, list.Rules)
		for _, rule := range list.Rules {
			r := run(t, "", "policies", "explain", rule.ID)
			assert.Equal(t, 0, r.code, r.stderr)
			assert.True(t, strings.HasPrefix(r.stdout, "# "+rule.ID+": "), "%s: %.80q", rule.ID, r.stdout)
		}
	})

	t.Run("a user rule without a page is described from its METADATA", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, "label.rego", strings.Replace(teamPolicy, "# custom:", "# description: Every Deployment names its owning team.\n# custom:\n#   remediation: Add a `team` label.", 1))
		r := run(t, "", "policies", "explain", "--policies", dir, "TEAM-LABEL-001")
		require.Equal(t, 0, r.code, r.stderr)
		for _, want := range []string{
			"# TEAM-LABEL-001: Team label required\n",
			"| Version | 1.0.0 |", "| Severity | low |", "| Default action | warn |",
			"| Kinds | `apps` Deployment (`v1`) |",
			"## What\n\nEvery Deployment names its owning team.\n",
			"## How to fix\n\nAdd a `team` label.\n",
			"no page in docs/rules",
		} {
			assert.Contains(t, r.stdout, want)
		}
	})

	t.Run("an unknown id is an error with the closest ids", func(t *testing.T) {
		r := run(t, "", "policies", "explain", "ISTIO-MTLS-01")
		assert.Equal(t, 2, r.code)
		assert.Empty(t, r.stdout)
		assert.Contains(t, r.stderr, `unknown rule "ISTIO-MTLS-01"; did you mean ISTIO-MTLS-001, ISTIO-MTLS-002`)

		r = run(t, "", "policies", "explain", "NOTHING-LIKE-IT")
		assert.Equal(t, 2, r.code)
		assert.Contains(t, r.stderr, `unknown rule "NOTHING-LIKE-IT" (meshguard policies list shows the rules)`)
		assert.NotContains(t, r.stderr, "did you mean")
	})

	t.Run("explain needs one id", func(t *testing.T) {
		r := run(t, "", "policies", "explain")
		assert.Equal(t, 2, r.code)
		assert.Contains(t, r.stderr, "explain needs exactly one RULE-ID")
	})
}
