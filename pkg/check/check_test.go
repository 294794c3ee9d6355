package check_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshguard/meshguard/pkg/check"
	"github.com/meshguard/meshguard/pkg/policy"
)

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: web:1
`

const meshedNamespace = `apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    istio-injection: enabled
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
data: {a: b}
`

// A Namespace in one file decides the verdict on a Deployment in another:
// objects of kinds no rule covers still reach the inventory, and every object
// gets a result in input order with its line.
func TestRunInventoryAcrossFiles(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a-deploy.yaml"), []byte(deployment), 0o600))
	e, err := policy.New(t.Context(), policy.Options{})
	require.NoError(t, err)

	alone, err := check.Run(t.Context(), e, []string{dir}, check.Options{})
	require.NoError(t, err)
	require.Len(t, alone.Results, 1)
	assert.Empty(t, alone.Results[0].Findings, "no sidecar without a meshed namespace")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "b-namespace.yaml"), []byte(meshedNamespace), 0o600))
	r, err := check.Run(t.Context(), e, []string{dir}, check.Options{})
	require.NoError(t, err)
	require.Len(t, r.Results, 3)
	assert.Equal(t, "Deployment", r.Results[0].Object.Kind)
	assert.Equal(t, "Namespace", r.Results[1].Object.Kind)
	assert.Equal(t, "ConfigMap", r.Results[2].Object.Kind)
	assert.Equal(t, 8, r.Results[2].Line)
	// The meshed Namespace lacks its zero-trust baseline (the inputs hold no
	// PeerAuthentication or AuthorizationPolicy): warnings, nothing else.
	var nsRules []string
	for _, f := range r.Results[1].Findings {
		assert.Equal(t, policy.ActionWarn, f.Action, f.Rule)
		nsRules = append(nsRules, f.Rule)
	}
	assert.ElementsMatch(t, []string{"ISTIO-MTLS-003", "ISTIO-AUTHZ-004"}, nsRules)
	assert.Empty(t, r.Results[2].Findings)

	var rules []string
	for _, f := range r.Results[0].Findings {
		rules = append(rules, f.Rule)
		assert.Positive(t, f.Line, "a finding on a covered kind keeps its line")
	}
	assert.Contains(t, rules, "ISTIO-RES-001")
	assert.Equal(t, 3, r.Summary.Objects)
}
