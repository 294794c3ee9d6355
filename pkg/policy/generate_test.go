package policy_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshguard/meshguard/pkg/policy"
)

func namespace(name string, labels, annotations map[string]any) map[string]any {
	return map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": name, "labels": labels, "annotations": annotations}}
}

func TestGenerate(t *testing.T) {
	e := newEngine(t, policy.Options{})
	require.NotEmpty(t, e.Generators())
	assert.Equal(t, "ISTIO-GEN-001", e.Generators()[0].ID)

	gen, err := e.Generate(t.Context(), namespace("shop", map[string]any{"istio-injection": "enabled"}, nil))
	require.NoError(t, err)
	require.Len(t, gen, 2)
	var kinds []string
	for _, g := range gen {
		ref := policy.RefOf(g.Object)
		kinds = append(kinds, ref.Kind+" "+ref.Namespace+"/"+ref.Name)
		md := g.Object["metadata"].(map[string]any)
		assert.Equal(t, "meshguard", md["labels"].(map[string]any)["app.kubernetes.io/managed-by"])
		assert.Equal(t, "2026.12.0", md["annotations"].(map[string]any)["meshguard.io/bundle-revision"])
		assert.Equal(t, "ISTIO-GEN-001@1.1.0", md["annotations"].(map[string]any)["meshguard.io/generated-by"])
	}
	assert.Equal(t, []string{"AuthorizationPolicy shop/allow-nothing", "PeerAuthentication shop/default"}, kinds)

	// The generated objects pass every rule.
	for _, g := range gen {
		fs, err := e.Evaluate(t.Context(), g.Object)
		require.NoError(t, err)
		assert.Empty(t, fs, "%v", g.Object)
	}

	for name, ns := range map[string]map[string]any{
		"an opted-out namespace":    namespace("shop", map[string]any{"istio-injection": "enabled"}, map[string]any{"meshguard.io/defaults": "disabled"}),
		"an unmeshed namespace":     namespace("shop", nil, nil),
		"an excluded namespace":     namespace("kube-system", map[string]any{"istio-injection": "enabled"}, nil),
		"an object that is not one": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "shop"}},
	} {
		gen, err := e.Generate(t.Context(), ns)
		require.NoError(t, err, name)
		assert.Empty(t, gen, name)
	}
}

func TestGeneratorWithoutMetadataFailsToLoad(t *testing.T) {
	dir := t.TempDir()
	writePolicy(t, dir, "g.rego", "package meshguard.generate.mine\n\ngenerate contains {\"kind\": \"ConfigMap\"} if true\n")
	_, err := policy.New(t.Context(), policy.Options{Dirs: []string{dir}})
	require.ErrorContains(t, err, "data.meshguard.generate.mine defines generate but has no package METADATA")
}
