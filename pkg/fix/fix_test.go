package fix_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshguard/meshguard/pkg/fix"
	"github.com/meshguard/meshguard/pkg/policy"
)

const vs = `# Reviews routing. Owned by team-reviews.
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews   # the public name
  namespace: shop
spec:
  hosts: [reviews]
  http:
  - route:            # v1 only for now
    - destination:
        host: reviews
  - timeout: 3s
    route:
    - destination:
        host: reviews
---
# not an object: kept as is
values: {a: 1}
`

func TestFixKeepsCommentsAndOrder(t *testing.T) {
	e, err := policy.New(t.Context(), policy.Options{})
	require.NoError(t, err)
	out, changes, err := fix.File(t.Context(), e, "vs.yaml", []byte(vs))
	require.NoError(t, err)
	require.Len(t, changes, 1)
	assert.Equal(t, []string{"ISTIO-TRAFFIC-001", "ISTIO-TRAFFIC-002"}, changes[0].Rules)
	assert.Contains(t, changes[0].Paths, "spec.http[0].timeout")
	got := string(out)
	for _, keep := range []string{"# Reviews routing. Owned by team-reviews.", "# the public name", "# v1 only for now", "timeout: 3s", "# not an object: kept as is", "values: {a: 1}"} {
		assert.Contains(t, got, keep)
	}
	assert.Contains(t, got, "timeout: 15s")
	assert.Contains(t, got, "meshguard.io/mutated: ISTIO-TRAFFIC-001,ISTIO-TRAFFIC-002")
	assert.Less(t, strings.Index(got, "apiVersion"), strings.Index(got, "kind:"), "key order is kept")
	assert.Less(t, strings.Index(got, "kind:"), strings.Index(got, "metadata:"))

	again, changes, err := fix.File(t.Context(), e, "vs.yaml", out)
	require.NoError(t, err)
	assert.Empty(t, changes, "fixing a fixed file changes nothing")
	assert.Equal(t, string(out), string(again))
}

func TestFixQuotesNumericStrings(t *testing.T) {
	cfg, err := policy.ParseConfig("c.yaml", []byte("params:\n  sidecar: {cpuRequest: \"1\"}\n"))
	require.NoError(t, err)
	e, err := policy.New(t.Context(), policy.Options{Config: cfg})
	require.NoError(t, err)
	ns := map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "shop", "labels": map[string]any{"istio-injection": "enabled"}}}
	require.NoError(t, e.PutInventory(t.Context(), []string{"namespaces", "shop"}, ns))
	src := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: shop\nspec:\n  containers: [{name: a, image: a}]\n"
	out, changes, err := fix.File(t.Context(), e, "pod.yaml", []byte(src))
	require.NoError(t, err)
	require.Len(t, changes, 1)
	assert.Contains(t, string(out), `sidecar.istio.io/proxyCPU: "1"`, "a string that looks like a number stays a string")
}

func TestFixBrokenYAMLIsAnError(t *testing.T) {
	e, err := policy.New(t.Context(), policy.Options{})
	require.NoError(t, err)
	_, _, err = fix.File(t.Context(), e, "bad.yaml", []byte("a: [\n"))
	require.ErrorContains(t, err, "bad.yaml")
}
