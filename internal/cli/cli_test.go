package cli_test

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spf13/cobra"

	"github.com/meshguard/meshguard/internal/cli"
	"github.com/meshguard/meshguard/internal/testutil"
)

type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	root := cli.NewRoot(cli.Streams{In: strings.NewReader(stdin), Out: &out, Err: &errb})
	root.SetContext(t.Context())
	code := cli.Execute(root, args)
	return result{code, out.String(), errb.String()}
}

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	return p
}

const (
	permissive = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: shop}\nspec:\n  mtls: {mode: PERMISSIVE}\n"
	strict     = "apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: shop}\nspec:\n  mtls: {mode: STRICT}\n"
	wildcard   = "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: any, namespace: shop}\nspec:\n  selector: {matchLabels: {app: a}}\n  rules:\n  - from:\n    - source: {namespaces: [\"*\"]}\n"
)

func TestCheckExitCodes(t *testing.T) {
	dir := t.TempDir()
	clean := write(t, dir, "clean.yaml", strict)
	denied := write(t, dir, "denied.yaml", permissive)
	warned := write(t, dir, "warned.yaml", wildcard)
	broken := write(t, dir, "broken.yaml", "apiVersion: v1\nkind: [\n")

	tests := []struct {
		name string
		args []string
		code int
		out  []string
	}{
		{"a clean file exits 0", []string{"check", clean}, 0, []string{"1 object in 1 file: 0 deny, 0 warn, 0 errors"}},
		{"a warning alone exits 0", []string{"check", warned}, 0, []string{"warned.yaml:8: ISTIO-AUTHZ-003 warn (medium)", "0 deny, 1 warn"}},
		{"a deny finding exits 1", []string{"check", denied}, 1, []string{"denied.yaml:5: ISTIO-MTLS-001 deny (high): PeerAuthentication shop/default sets mtls.mode PERMISSIVE", "[spec.mtls.mode]"}},
		{"a broken file exits 2 and the others are still checked", []string{"check", broken, denied, clean}, 2, []string{
			"error: " + broken + ":2: invalid YAML", "ISTIO-MTLS-001 deny", "2 objects in 3 files: 1 deny, 0 warn, 1 error",
		}},
		{"a missing file exits 2 and the others are still checked", []string{"check", filepath.Join(dir, "nope.yaml"), denied}, 2, []string{"nope.yaml: no such file or directory", "ISTIO-MTLS-001 deny"}},
		{"a directory is read recursively", []string{"check", dir}, 2, []string{"3 objects in 4 files: 1 deny, 1 warn, 1 error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, "", tt.args...)
			assert.Equal(t, tt.code, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			for _, want := range tt.out {
				assert.Contains(t, r.stdout, want)
			}
		})
	}
}

func TestCheckStdin(t *testing.T) {
	r := run(t, permissive+"---\n"+strict, "check", "-")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stdout, "<stdin>:5: ISTIO-MTLS-001 deny")
	assert.Contains(t, r.stdout, "2 objects in 1 file")
}

func TestCheckUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no path", []string{"check"}, "check needs at least one PATH"},
		{"an unknown output format is an error, not a fallback", []string{"check", "-o", "yaml", "x"}, `unknown output format "yaml" (want one of github, json, junit, sarif, table, tap, text)`},
		{"an unknown flag", []string{"check", "--nope", "x"}, "unknown flag: --nope"},
		{"a missing config file", []string{"check", "--config", "/nonexistent/c.yaml", "x"}, "reading config"},
		{"--no-builtin alone", []string{"check", "--no-builtin", "x"}, "--no-builtin needs at least one --policies"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, "", tt.args...)
			assert.Equal(t, 2, r.code)
			assert.Contains(t, r.stderr, tt.want)
		})
	}
}

func TestCheckJSON(t *testing.T) {
	dir := t.TempDir()
	denied := write(t, dir, "denied.yaml", permissive+"---\n"+strict)
	broken := write(t, dir, "broken.yaml", "a: [\n")
	write(t, dir, "values.yaml", "replicaCount: 2\n")
	r := run(t, "", "check", "-o", "json", dir)
	assert.Equal(t, 2, r.code)

	var got struct {
		Bundle struct {
			Revision string `json:"revision"`
		} `json:"bundle"`
		Results []struct {
			File     string            `json:"file"`
			Line     int               `json:"line"`
			Object   map[string]string `json:"object"`
			Findings []struct {
				Rule, Version, Severity, Action, Message, Path, Remediation string
				Line                                                        int
			} `json:"findings"`
		} `json:"results"`
		Errors []struct {
			File    string `json:"file"`
			Line    int    `json:"line"`
			Message string `json:"message"`
		} `json:"errors"`
		Skipped []struct {
			File string `json:"file"`
		} `json:"skipped"`
		Summary map[string]int `json:"summary"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &got), r.stdout)
	assert.Equal(t, "2026.12.0", got.Bundle.Revision)
	require.Len(t, got.Results, 2, "objects without findings are listed too")
	assert.Equal(t, denied, got.Results[0].File)
	assert.Equal(t, map[string]string{"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication", "namespace": "shop", "name": "default"}, got.Results[0].Object)
	require.Len(t, got.Results[0].Findings, 1)
	f := got.Results[0].Findings[0]
	assert.Equal(t, "ISTIO-MTLS-001", f.Rule)
	assert.Equal(t, "1.1.0", f.Version)
	assert.Equal(t, "high", f.Severity)
	assert.Equal(t, "deny", f.Action)
	assert.Equal(t, "spec.mtls.mode", f.Path)
	assert.Equal(t, 5, f.Line)
	assert.NotEmpty(t, f.Remediation)
	assert.NotEmpty(t, f.Message)
	assert.Empty(t, got.Results[1].Findings)
	require.Len(t, got.Errors, 1)
	assert.Equal(t, broken, got.Errors[0].File)
	assert.Equal(t, 1, got.Errors[0].Line)
	require.Len(t, got.Skipped, 1)
	assert.Equal(t, map[string]int{"files": 3, "objects": 2, "deny": 1, "warn": 0, "audit": 0, "exempted": 0, "errors": 1, "skipped": 1}, got.Summary)
}

func TestCheckConfigFile(t *testing.T) {
	dir := t.TempDir()
	cfg := write(t, dir, "meshguard.yaml", "enforcement:\n  ISTIO-MTLS-001: warn\n")
	f := write(t, dir, "pa.yaml", permissive)
	r := run(t, "", "check", "--config", cfg, f)
	assert.Equal(t, 0, r.code, r.stdout)
	assert.Contains(t, r.stdout, "ISTIO-MTLS-001 warn (high)")

	bad := write(t, dir, "bad.yaml", "enforcement:\n  ISTIO-MTLS-999: warn\n")
	r = run(t, "", "check", "--config", bad, f)
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, `unknown rule "ISTIO-MTLS-999"`)
}

func TestPoliciesList(t *testing.T) {
	r := run(t, "", "policies", "list")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "ID ")
	assert.Regexp(t, `ISTIO-MTLS-001\s+1\.1\.0\s+high\s+deny\s+PeerAuthentication\.security\.istio\.io\s+PeerAuthentication must not weaken mTLS`, r.stdout)

	r = run(t, "", "policies", "list", "-o", "json")
	require.Equal(t, 0, r.code, r.stderr)
	var got struct {
		Bundle struct{ Revision string }
		Rules  []struct {
			ID, Version, Severity, Action, Title string
			Kinds                                []struct{ Group, Kind string }
		}
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &got))
	assert.Equal(t, "2026.12.0", got.Bundle.Revision)
	require.NotEmpty(t, got.Rules)
	ids := map[string]bool{}
	for _, rule := range got.Rules {
		ids[rule.ID] = true
		assert.NotEmpty(t, rule.Kinds, rule.ID)
	}
	for _, id := range []string{"ISTIO-MTLS-001", "ISTIO-MTLS-002", "ISTIO-TLS-001", "ISTIO-AUTHZ-001", "ISTIO-AUTHZ-002", "ISTIO-AUTHZ-003", "ISTIO-TRAFFIC-001", "ISTIO-TRAFFIC-002", "ISTIO-RES-001", "ISTIO-INJ-001"} {
		assert.True(t, ids[id], "%s is listed", id)
	}

	r = run(t, "", "policies", "list", "-o", "yaml")
	assert.Equal(t, 2, r.code)
}

func TestVersion(t *testing.T) {
	r := run(t, "", "version")
	require.Equal(t, 0, r.code)
	assert.Regexp(t, `(?m)^meshguard dev`, r.stdout)
	assert.Contains(t, r.stdout, "bundle 2026.12.0")
}

func TestHelpHasExamples(t *testing.T) {
	r := run(t, "", "check", "--help")
	require.Equal(t, 0, r.code)
	assert.Contains(t, r.stdout, "Examples:")
	assert.Contains(t, r.stdout, "Exit codes:")
}

// TestCorpus runs `meshguard check` over the whole shared corpus: it must
// finish, report exactly the two deliberately broken files as parse errors,
// and judge every other object.
func TestCorpus(t *testing.T) {
	corpus := testutil.Corpus(t)
	r := run(t, "", "check", "-o", "json", corpus)
	require.Equal(t, 2, r.code, r.stderr)
	var got struct {
		Errors []struct {
			File, Message string
			Line          int
		}
		Summary map[string]int
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &got))
	var broken []string
	for _, e := range got.Errors {
		rel, err := filepath.Rel(corpus, e.File)
		require.NoError(t, err)
		broken = append(broken, rel)
		assert.Contains(t, e.Message, "invalid YAML")
		assert.Positive(t, e.Line)
	}
	assert.ElementsMatch(t, []string{
		"linkerd2/cli/cmd/testdata/inject_gettest_deployment.bad.input.yml",
		"linkerd2/test/integration/deep/dualstack/testdata/ipfamilies-policy.yml",
	}, broken)
	assert.Greater(t, got.Summary["objects"], 2500)
	assert.Greater(t, got.Summary["deny"], 0)
}

// An exemption on the Namespace among the inputs silences a deny: exit 0,
// and the finding is still reported, as exempted, with the reason and date.
func TestCheckExemption(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  annotations:\n    meshguard.io/exempt: ISTIO-MTLS-001\n    meshguard.io/exempt-reason: legacy billing migration, TICKET-7\n    meshguard.io/exempt-until: \"2999-12-31\"\n")
	write(t, dir, "pa.yaml", permissive)
	r := run(t, "", "check", dir)
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "ISTIO-MTLS-001 exempted (high)")
	assert.Contains(t, r.stdout, "(exempted by the namespace shop until 2999-12-31: legacy billing migration, TICKET-7)")

	r = run(t, "", "check", "-o", "json", dir)
	assert.Equal(t, 0, r.code)
	assert.Contains(t, r.stdout, `"action": "exempted"`)
	assert.Contains(t, r.stdout, `"exemption": {`)
	assert.Contains(t, r.stdout, `"from": "namespace shop"`)
	assert.Contains(t, r.stdout, `"exempted": 1`)

	// Expired: the deny stands and says why the exemption did not apply.
	write(t, dir, "ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  annotations:\n    meshguard.io/exempt: ISTIO-MTLS-001\n    meshguard.io/exempt-reason: old\n    meshguard.io/exempt-until: \"2001-01-01\"\n")
	r = run(t, "", "check", dir)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stdout, "the exemption on the namespace shop does not apply: it expired on 2001-01-01")
}

// Every command's --help has examples (cobra's own help and completion
// commands aside).
func TestEveryCommandHasExamples(t *testing.T) {
	root := cli.NewRoot(cli.Streams{})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Name() == "help" || c.Name() == "completion" || (c.Parent() != nil && c.Parent().Name() == "completion") {
			return
		}
		assert.NotEmpty(t, c.Example, "meshguard %s has no examples", c.CommandPath())
		assert.NotEmpty(t, c.Short, "meshguard %s has no short help", c.CommandPath())
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	walk(root)
	r := run(t, "", "completion", "bash")
	assert.Equal(t, 0, r.code)
	assert.Contains(t, r.stdout, "bash completion", "shell completion works")
}

// TestCheckBadBundleDoesNotWaitForStdin: a bundle that fails to load is
// reported at once even when the input is a standard input that has not
// ended (files are read while the bundle loads, but not stdin).
func TestCheckBadBundleDoesNotWaitForStdin(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "broken.rego", "package broken\n\ndeny contains x if {\n")
	pr, pw := io.Pipe() // never written to, never closed: a terminal nobody types in
	defer pw.Close()
	var out, errb bytes.Buffer
	root := cli.NewRoot(cli.Streams{In: pr, Out: &out, Err: &errb})
	root.SetContext(t.Context())
	done := make(chan int, 1)
	go func() { done <- cli.Execute(root, []string{"check", "--policies", dir, "-"}) }()
	select {
	case code := <-done:
		require.Equal(t, cli.ExitBadInput, code, errb.String())
		require.Contains(t, errb.String(), "broken.rego")
	case <-time.After(30 * time.Second):
		t.Fatal("check waited for standard input before reporting the broken bundle")
	}
}
