package cli_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const teamPolicy = `# METADATA
# title: Team label required
# custom:
#   id: TEAM-LABEL-001
#   version: 1.0.0
#   severity: low
#   action: warn
#   kinds: [{group: apps, kind: Deployment, versions: [v1]}]
package team.label

import data.meshguard.lib.kube

warn contains "no team label" if not kube.obj.metadata.labels.team
`

const teamTests = `package team.label_test

import data.team.label

test_warn_without_team if {
	label.warn == {"no team label"} with input as {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a"}}
}

test_quiet_with_team if {
	count(label.warn) == 0 with input as {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a", "labels": {"team": "x"}}}
}
`

func TestTestCommand(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "policy.rego", teamPolicy)
	write(t, dir, "policy_test.rego", teamTests)

	r := run(t, "", "test", "--no-builtin", "-v", dir)
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "PASS: ")
	assert.Contains(t, r.stdout, "team.label_test.test_warn_without_team")
	assert.Contains(t, r.stdout, "2 passed, 0 failed, 0 skipped")

	r = run(t, "", "test", "--coverage", dir)
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "policy.rego")
	assert.Contains(t, r.stdout, "total coverage")
	assert.Regexp(t, `\d{3,} passed, 0 failed`, r.stdout, "the built-in bundle's tests run too")

	r = run(t, "", "test", "--no-builtin", "--run", "quiet", "-o", "json", dir)
	require.Equal(t, 0, r.code, r.stderr)
	var rep struct {
		Results []struct{ Name string } `json:"results"`
		Passed  int                     `json:"passed"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep))
	assert.Equal(t, 1, rep.Passed)
	require.Len(t, rep.Results, 1)
	assert.Equal(t, "test_quiet_with_team", rep.Results[0].Name)

	write(t, dir, "broken_test.rego", "package team.broken_test\n\nimport data.team.label\n\ntest_wrong if {\n\tcount(label.warn) == 5 with input as {}\n}\n")
	r = run(t, "", "test", "--no-builtin", dir)
	assert.Equal(t, 1, r.code, "a failing test fails the command")
	assert.Contains(t, r.stdout, "FAIL: ")
	assert.Contains(t, r.stdout, "team.broken_test.test_wrong")

	r = run(t, "", "test", "--no-builtin", "--coverage", "--threshold", "101", "--run", "label", dir)
	assert.Equal(t, 1, r.code, "coverage under the threshold fails")
	assert.Contains(t, r.stderr, "below the threshold")
}

func TestTestCommandErrors(t *testing.T) {
	empty := t.TempDir()
	write(t, empty, "policy.rego", teamPolicy)
	bad := t.TempDir()
	write(t, bad, "policy.rego", "package x\n\ndeny contains \"x\" if http.send({})\n")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no tests at all", []string{"test", "--no-builtin", empty}, "no tests found"},
		{"--no-builtin without a directory", []string{"test", "--no-builtin"}, "needs at least one policy directory"},
		{"--threshold without --coverage", []string{"test", "--threshold", "50"}, "--threshold needs --coverage"},
		{"a bad --run expression", []string{"test", "--run", "(", empty}, "--run"},
		{"policies that use a forbidden builtin", []string{"test", "--no-builtin", bad}, "http.send"},
		{"a directory that does not exist", []string{"test", "/nonexistent/policies"}, "/nonexistent/policies"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, "", tt.args...)
			assert.Equal(t, 2, r.code, r.stdout)
			assert.Contains(t, r.stderr, tt.want)
		})
	}
}
