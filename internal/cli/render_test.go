package cli_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCheckHelm(t *testing.T) {
	chart := filepath.Join("testdata", "chart")
	r := run(t, "", "check", "--helm", chart)
	assert.Equal(t, 1, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, filepath.Join(chart, "templates", "vs.yaml")+":", "findings point at the template file")
	assert.Contains(t, r.stdout, "ISTIO-TRAFFIC-001")
	assert.NotContains(t, r.stdout, "NOTES.txt")

	r = run(t, "", "check", "--helm", chart, "--values", filepath.Join(chart, "prod-values.yaml"))
	assert.Equal(t, 0, r.code, "a values file sets the timeout:\n"+r.stdout+r.stderr)

	r = run(t, "", "check", "--helm", chart, "--set", "timeout=10s", "--set", "mtlsMode=DISABLE", "--helm-namespace", "payments")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stdout, "PeerAuthentication payments/default sets mtls.mode DISABLE")
	assert.NotContains(t, r.stdout, "ISTIO-TRAFFIC-001")
}

func TestCheckKustomize(t *testing.T) {
	r := run(t, "", "check", "--kustomize", filepath.Join("testdata", "kustomize", "overlay"))
	assert.Equal(t, 1, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "(kustomize build)")
	assert.Contains(t, r.stdout, "PeerAuthentication payments/default sets mtls.mode PERMISSIVE")

	r = run(t, "", "check", "--kustomize", filepath.Join("testdata", "kustomize", "base"))
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
}

func TestCheckRenderErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"a chart that does not exist", []string{"check", "--helm", "testdata/nochart"}, "testdata/nochart"},
		{"a values file that does not exist", []string{"check", "--helm", "testdata/chart", "--values", "testdata/none.yaml"}, "none.yaml"},
		{"a bad --set", []string{"check", "--helm", "testdata/chart", "--set", "a"}, "values"},
		{"a kustomization that does not exist", []string{"check", "--kustomize", "testdata/nokustomize"}, "testdata/nokustomize"},
		{"--values without --helm", []string{"check", "--values", "v.yaml", "x.yaml"}, "need --helm"},
		{"--fix on a chart", []string{"check", "--fix", "--helm", "testdata/chart"}, "--fix works on manifest files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, "", tt.args...)
			assert.Equal(t, 2, r.code, r.stdout)
			assert.Contains(t, r.stderr, tt.want)
		})
	}
}
