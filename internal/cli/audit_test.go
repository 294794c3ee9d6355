package cli_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAuditFiles(t *testing.T) {
	dir := t.TempDir()
	f := write(t, dir, "mixed.yaml", permissive+"---\n"+wildcard+"---\n"+strict)
	r := run(t, "", "audit", "-o", "json", f)
	assert.Equal(t, 0, r.code, "findings do not fail an audit:\n"+r.stderr)
	var got struct {
		Results []struct {
			Object map[string]string `json:"object"`
		} `json:"results"`
		Summary map[string]int `json:"summary"`
		Audit   struct {
			Source string `json:"source"`
			Totals struct {
				ByRule     map[string]int `json:"byRule"`
				BySeverity map[string]int `json:"bySeverity"`
			} `json:"totals"`
		} `json:"audit"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &got), r.stdout)
	assert.Len(t, got.Results, 2, "only objects with findings are listed")
	assert.Equal(t, 3, got.Summary["objects"], "but every object is counted")
	assert.Equal(t, map[string]int{"ISTIO-MTLS-001": 1, "ISTIO-AUTHZ-003": 1}, got.Audit.Totals.ByRule)
	assert.Equal(t, f, got.Audit.Source)

	r = run(t, "", "audit", f)
	assert.Equal(t, 0, r.code)
	assert.Contains(t, r.stdout, "# meshguard audit", "markdown by default")

	r = run(t, "", "audit", "-o", "html", f)
	assert.Equal(t, 0, r.code)
	assert.Contains(t, r.stdout, "<svg id=\"chart\"")

	r = run(t, "", "audit", "-o", "policyreport", "-n", "other", f)
	assert.Equal(t, 0, r.code)
	assert.NotContains(t, r.stdout, "kind: PolicyReport", "-n keeps other namespaces out")

	for name, args := range map[string][]string{
		"an unknown format":            {"audit", "-o", "junit", f},
		"--apply on files":             {"audit", "-o", "policyreport", "--apply", f},
		"--apply without policyreport": {"audit", "--apply"},
		"--kubeconfig with files":      {"audit", "--kubeconfig", "k", f},
		"a bad --memory-limit":         {"audit", "--memory-limit", "lots", f},
		"a negative --memory-limit":    {"audit", "--memory-limit", "-1Mi", f},
	} {
		r := run(t, "", args...)
		assert.Equal(t, 2, r.code, name)
	}
	r = run(t, "", "audit", "--memory-limit", "lots", f)
	assert.Contains(t, r.stderr, `--memory-limit "lots": want a quantity such as 250Mi, or 0 for none`)
	for _, limit := range []string{"0", "512Mi"} {
		r = run(t, "", "audit", "-o", "json", "--memory-limit", limit, f)
		assert.Equal(t, 0, r.code, "--memory-limit %s", limit)
	}
}
