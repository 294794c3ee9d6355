package inventory_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/meshguard/meshguard/pkg/inventory"
	"github.com/meshguard/meshguard/pkg/policy"
)

func obj(apiVersion, kind, ns, name string) map[string]any {
	return map[string]any{"apiVersion": apiVersion, "kind": kind, "metadata": map[string]any{"name": name, "namespace": ns}}
}

func TestForKeepsOnlyTheKindsRead(t *testing.T) {
	reads := func(gk policy.GroupKind) bool { return gk.Kind != "VirtualService" }
	inv := inventory.For(reads)
	assert.True(t, inv.Add(obj("security.istio.io/v1", "PeerAuthentication", "shop", "default")))
	assert.False(t, inv.Add(obj("networking.istio.io/v1", "VirtualService", "shop", "web")), "a kind no rule reads is not kept")
	assert.False(t, inv.Add(obj("apps/v1", "Deployment", "shop", "web")), "workloads are never kept")
	assert.True(t, inv.Add(obj("v1", "Namespace", "", "shop")))
	doc := inv.Document()
	assert.Contains(t, doc["objects"], "PeerAuthentication.security.istio.io")
	assert.NotContains(t, doc["objects"], "VirtualService.networking.istio.io")
	assert.Contains(t, doc["namespaces"], "shop")

	all := inventory.New()
	assert.True(t, all.Add(obj("networking.istio.io/v1", "VirtualService", "shop", "web")), "New keeps every tracked kind")
}
