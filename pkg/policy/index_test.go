package policy_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshguard/meshguard/pkg/policy"
)

// teamIndexRule judges a ConfigMap by an index of the inventory: the
// namespaces that hold a PeerAuthentication.
const teamIndexRule = `# METADATA
# title: ConfigMaps only in namespaces with a PeerAuthentication
# description: test rule reading an inventory index
# custom:
#   id: TEAM-INDEX-001
#   version: 0.1.0
#   severity: low
#   action: warn
#   kinds:
#   - {group: "", kind: ConfigMap, versions: [v1]}
#   remediation: none
package team.index

# METADATA
# custom:
#   index: true
computed_pa_namespaces contains ns if {
	some ns, by_name in data.inventory.objects["PeerAuthentication.security.istio.io"]
	count(by_name) > 0
}

pa_namespaces := v if {
	v := data.meshguard.index.team.index.computed_pa_namespaces
} else := computed_pa_namespaces

warn contains {"msg": "TEAM-INDEX-001: no PeerAuthentication here", "path": ["metadata"]} if {
	not input.metadata.namespace in pa_namespaces
}
`

func TestIndexesFollowTheInventory(t *testing.T) {
	dir := t.TempDir()
	// The index lives under data.meshguard only when the package does: put
	// the rule's package there, as the built-in libraries are.
	src := strings.ReplaceAll(teamIndexRule, "package team.index", "package meshguard.team.index")
	writePolicy(t, dir, "index/policy.rego", src)
	e := newEngine(t, policy.Options{Dirs: []string{dir}, NoBuiltin: true})

	cm := map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "x", "namespace": "shop"}}
	warned := func() bool {
		fs, err := e.Evaluate(t.Context(), cm)
		require.NoError(t, err)
		return len(fs) == 1
	}
	assert.True(t, warned(), "empty inventory: no PeerAuthentication anywhere")

	paKey := []string{"objects", "PeerAuthentication.security.istio.io", "shop", "default"}
	require.NoError(t, e.PutInventory(t.Context(), paKey, map[string]any{"spec": map[string]any{}}))
	assert.False(t, warned(), "the index is recomputed after PutInventory")

	doc, err := e.IndexDocument(t.Context())
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"index": map[string]any{"computed_pa_namespaces": []any{"shop"}}}, doc["team"])

	require.NoError(t, e.DeleteInventory(t.Context(), paKey))
	assert.True(t, warned(), "the index is recomputed after DeleteInventory")

	require.NoError(t, e.SetInventory(t.Context(), map[string]any{"namespaces": map[string]any{}, "objects": map[string]any{
		"PeerAuthentication.security.istio.io": map[string]any{"shop": map[string]any{"default": map[string]any{}}},
	}}))
	assert.False(t, warned(), "the index is recomputed after SetInventory")
}

// The built-in Gateway API index gives the same verdicts as the rule computes
// without it: GWAPI-GW-001 on a public Gateway names the plaintext route
// attached to it, and stops when the route goes.
func TestBuiltinIndexGivesTheRuleItsRoutes(t *testing.T) {
	e := newEngine(t, policy.Options{})
	gw := map[string]any{"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": map[string]any{"name": "public", "namespace": "edge"},
		"spec": map[string]any{"gatewayClassName": "istio", "listeners": []any{map[string]any{"name": "http", "protocol": "HTTP", "port": int64(80)}}}}
	route := map[string]any{"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": map[string]any{"name": "shop", "namespace": "edge"},
		"spec": map[string]any{"parentRefs": []any{map[string]any{"name": "public"}}, "rules": []any{map[string]any{"backendRefs": []any{map[string]any{"name": "shop", "port": int64(80)}}}}}}
	messages := func() []string {
		fs, err := e.Evaluate(t.Context(), gw)
		require.NoError(t, err)
		var out []string
		for _, f := range fs {
			if f.Rule == "GWAPI-GW-001" {
				out = append(out, f.Message)
			}
		}
		return out
	}
	before := messages()
	key := []string{"objects", "HTTPRoute.gateway.networking.k8s.io", "edge", "shop"}
	require.NoError(t, e.PutInventory(t.Context(), key, route))
	with := messages()
	require.Len(t, with, len(before)+1)
	assert.Contains(t, strings.Join(with, "\n"), "serves 1 HTTPRoute(s) over plaintext HTTP (edge/shop)")
	require.NoError(t, e.DeleteInventory(t.Context(), key))
	assert.Equal(t, before, messages())
}

func TestIndexRuleOutsideMeshguardFailsToLoad(t *testing.T) {
	dir := t.TempDir()
	writePolicy(t, dir, "index/policy.rego", teamIndexRule)
	_, err := policy.New(t.Context(), policy.Options{Dirs: []string{dir}, NoBuiltin: true})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "data.team.index.computed_pa_namespaces: an index rule (METADATA custom.index) must be under data.meshguard")
}

func TestReadsInventoryNamesTheKindsPoliciesLookUp(t *testing.T) {
	e := newEngine(t, policy.Options{})
	for _, gk := range []policy.GroupKind{
		{Kind: "Namespace"},
		{Group: "security.istio.io", Kind: "PeerAuthentication"},
		{Group: "gateway.networking.k8s.io", Kind: "HTTPRoute"},
		{Group: "policy.linkerd.io", Kind: "Server"},
		{Group: "consul.hashicorp.com", Kind: "ServiceResolver"},
	} {
		assert.True(t, e.ReadsInventory(gk), gk.String())
	}
	// No built-in rule looks VirtualServices or Deployments up in the inventory.
	assert.False(t, e.ReadsInventory(policy.GroupKind{Group: "networking.istio.io", Kind: "VirtualService"}))
	assert.False(t, e.ReadsInventory(policy.GroupKind{Group: "apps", Kind: "Deployment"}))

	// A user policy that names a kind makes the engine keep it.
	dir := t.TempDir()
	writePolicy(t, dir, "vs/policy.rego", strings.ReplaceAll(teamRule, `not input.metadata.labels.team`,
		`not data.inventory.objects["VirtualService.networking.istio.io"][input.metadata.namespace]`))
	withUser := newEngine(t, policy.Options{Dirs: []string{dir}})
	assert.True(t, withUser.ReadsInventory(policy.GroupKind{Group: "networking.istio.io", Kind: "VirtualService"}))
}
