package cli_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
)

// A deny (ISTIO-MTLS-001, high) and a warn (ISTIO-AUTHZ-003, medium) in one
// input, judged under each control.
func TestCheckControls(t *testing.T) {
	dir := t.TempDir()
	f := write(t, dir, "mixed.yaml", permissive+"---\n"+wildcard)
	warnOnly := write(t, dir, "warn.yaml", wildcard)
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		config   string // written to ./.meshguard.yaml in a fresh working directory
		code     int
		has, not []string
		stderr   string
	}{
		{name: "by default a deny fails and a warn does not", args: []string{f}, code: 1, has: []string{"ISTIO-MTLS-001", "ISTIO-AUTHZ-003"}},
		{name: "a warn alone passes", args: []string{warnOnly}, code: 0, has: []string{"ISTIO-AUTHZ-003 warn"}},
		{name: "--fail-on-warn fails on a warn", args: []string{"--fail-on-warn", warnOnly}, code: 1},
		{name: "MESHGUARD_FAIL_ON_WARN fails on a warn", args: []string{warnOnly}, env: map[string]string{"MESHGUARD_FAIL_ON_WARN": "true"}, code: 1},
		{name: "the config file's check.failOnWarn fails on a warn", args: []string{warnOnly}, config: "check:\n  failOnWarn: true\n", code: 1},
		{name: "the flag beats the environment", args: []string{"--fail-on-warn=false", warnOnly}, env: map[string]string{"MESHGUARD_FAIL_ON_WARN": "true"}, code: 0},
		{name: "the environment beats the file", args: []string{warnOnly}, env: map[string]string{"MESHGUARD_FAIL_ON_WARN": "false"}, config: "check:\n  failOnWarn: true\n", code: 0},
		{name: "--skip-rule drops a rule's findings", args: []string{"--skip-rule", "ISTIO-MTLS-001", f}, code: 0, has: []string{"ISTIO-AUTHZ-003"}, not: []string{"ISTIO-MTLS-001"}},
		{name: "--rule keeps only those rules", args: []string{"--rule", "ISTIO-AUTHZ-003", f}, code: 0, has: []string{"ISTIO-AUTHZ-003"}, not: []string{"ISTIO-MTLS-001"}},
		{name: "MESHGUARD_RULE takes a comma list", args: []string{f}, env: map[string]string{"MESHGUARD_RULE": "ISTIO-AUTHZ-003, ISTIO-MTLS-001"}, code: 1, has: []string{"ISTIO-AUTHZ-003", "ISTIO-MTLS-001"}},
		{name: "check.skipRules in the file", args: []string{f}, config: "check:\n  skipRules: [ISTIO-MTLS-001]\n", code: 0, not: []string{"ISTIO-MTLS-001"}},
		{name: "--severity-threshold high drops the medium warn", args: []string{"--severity-threshold", "high", f}, code: 1, has: []string{"ISTIO-MTLS-001"}, not: []string{"ISTIO-AUTHZ-003"}},
		{name: "MESHGUARD_SEVERITY_THRESHOLD critical drops both", args: []string{f}, env: map[string]string{"MESHGUARD_SEVERITY_THRESHOLD": "critical"}, code: 0, not: []string{"ISTIO-MTLS-001", "ISTIO-AUTHZ-003"}},
		{name: "--exclude-namespace leaves a namespace unjudged", args: []string{"--exclude-namespace", "shop", f}, code: 0, not: []string{"ISTIO-MTLS-001", "ISTIO-AUTHZ-003"}},
		{name: "MESHGUARD_OUTPUT picks the format", args: []string{f}, env: map[string]string{"MESHGUARD_OUTPUT": "json"}, code: 1, has: []string{`"rule": "ISTIO-MTLS-001"`}},
		{name: "an unknown --rule is a usage error", args: []string{"--rule", "ISTIO-NOPE-001", f}, code: 2, stderr: `unknown rule "ISTIO-NOPE-001"`},
		{name: "an unknown severity is a usage error", args: []string{"--severity-threshold", "severe", f}, code: 2, stderr: `severity threshold "severe"`},
		{name: "a bad MESHGUARD_FAIL_ON_WARN is a usage error", args: []string{f}, env: map[string]string{"MESHGUARD_FAIL_ON_WARN": "maybe"}, code: 2, stderr: "MESHGUARD_FAIL_ON_WARN"},
		{name: "an unknown rule in the file's check section is an error naming the file", args: []string{f}, config: "check:\n  rules: [ISTIO-NOPE-001]\n", code: 2, stderr: `check.rules: unknown rule "ISTIO-NOPE-001"`},
		{name: "an unknown key in the file's check section is an error", args: []string{f}, config: "check:\n  failOnWarning: true\n", code: 2, stderr: ".meshguard.yaml"},
		{name: "MESHGUARD_CONFIG names the file", args: []string{warnOnly}, env: map[string]string{"MESHGUARD_CONFIG": filepath.Join(dir, "ci.yaml")}, code: 1},
	}
	write(t, dir, "ci.yaml", "check:\n  failOnWarn: true\n")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wd := t.TempDir()
			t.Chdir(wd)
			for _, k := range []string{"MESHGUARD_FAIL_ON_WARN", "MESHGUARD_SEVERITY_THRESHOLD", "MESHGUARD_RULE", "MESHGUARD_SKIP_RULE", "MESHGUARD_EXCLUDE_NAMESPACE", "MESHGUARD_OUTPUT", "MESHGUARD_CONFIG"} {
				t.Setenv(k, "")
				unsetenv(t, k)
			}
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			if tt.config != "" {
				write(t, wd, ".meshguard.yaml", tt.config)
			}
			r := run(t, "", append([]string{"check"}, tt.args...)...)
			assert.Equal(t, tt.code, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			for _, s := range tt.has {
				assert.Contains(t, r.stdout, s)
			}
			for _, s := range tt.not {
				assert.NotContains(t, r.stdout, s)
			}
			if tt.stderr != "" {
				assert.Contains(t, r.stderr, tt.stderr)
			}
		})
	}
}
