package audit_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/rest"

	"github.com/meshguard/meshguard/pkg/audit"
	"github.com/meshguard/meshguard/pkg/policy"
)

// fakeCluster serves discovery and paged lists of Namespaces,
// PeerAuthentications and Deployments, and counts the list requests.
type fakeCluster struct {
	mu    sync.Mutex
	lists map[string]int // collection path -> list requests
	items map[string][]map[string]any
}

func newFakeCluster() *fakeCluster {
	c := &fakeCluster{lists: map[string]int{}, items: map[string][]map[string]any{}}
	for i := range 4 {
		labels := map[string]any{}
		if i%2 == 0 {
			labels["istio-injection"] = "enabled"
		}
		c.items["/api/v1/namespaces"] = append(c.items["/api/v1/namespaces"], map[string]any{
			"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": fmt.Sprintf("ns-%d", i), "labels": labels}})
	}
	for i := range 10 {
		ns := fmt.Sprintf("ns-%d", i%4)
		mode := "STRICT"
		if i%3 == 0 {
			mode = "PERMISSIVE"
		}
		c.items["/apis/security.istio.io/v1/peerauthentications"] = append(c.items["/apis/security.istio.io/v1/peerauthentications"], map[string]any{
			"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
			"metadata": map[string]any{"name": fmt.Sprintf("pa-%d", i), "namespace": ns, "managedFields": []any{map[string]any{"manager": "kubectl"}}},
			"spec":     map[string]any{"selector": map[string]any{"matchLabels": map[string]any{"app": fmt.Sprintf("a%d", i)}}, "mtls": map[string]any{"mode": mode}}})
		c.items["/apis/apps/v1/deployments"] = append(c.items["/apis/apps/v1/deployments"], map[string]any{
			"apiVersion": "apps/v1", "kind": "Deployment",
			"metadata": map[string]any{"name": fmt.Sprintf("web-%d", i), "namespace": ns},
			"spec": map[string]any{"selector": map[string]any{"matchLabels": map[string]any{"app": "web"}},
				"template": map[string]any{"metadata": map[string]any{"labels": map[string]any{"app": "web"}},
					"spec": map[string]any{"containers": []any{map[string]any{"name": "web", "image": "web:1"}}}}}})
	}
	return c
}

var discovery = map[string]any{
	"/api": map[string]any{"kind": "APIVersions", "versions": []any{"v1"}},
	"/api/v1": map[string]any{"kind": "APIResourceList", "groupVersion": "v1", "resources": []any{
		map[string]any{"name": "namespaces", "namespaced": false, "kind": "Namespace", "verbs": []any{"get", "list"}}}},
	"/apis": map[string]any{"kind": "APIGroupList", "apiVersion": "v1", "groups": []any{
		map[string]any{"name": "apps", "versions": []any{map[string]any{"groupVersion": "apps/v1", "version": "v1"}}, "preferredVersion": map[string]any{"groupVersion": "apps/v1", "version": "v1"}},
		map[string]any{"name": "security.istio.io", "versions": []any{map[string]any{"groupVersion": "security.istio.io/v1", "version": "v1"}}, "preferredVersion": map[string]any{"groupVersion": "security.istio.io/v1", "version": "v1"}},
	}},
	"/apis/apps/v1": map[string]any{"kind": "APIResourceList", "groupVersion": "apps/v1", "resources": []any{
		map[string]any{"name": "deployments", "namespaced": true, "kind": "Deployment", "verbs": []any{"get", "list"}}}},
	"/apis/security.istio.io/v1": map[string]any{"kind": "APIResourceList", "groupVersion": "security.istio.io/v1", "resources": []any{
		map[string]any{"name": "peerauthentications", "namespaced": true, "kind": "PeerAuthentication", "verbs": []any{"get", "list"}}}},
}

func (c *fakeCluster) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if d, ok := discovery[r.URL.Path]; ok {
		_ = json.NewEncoder(w).Encode(d)
		return
	}
	// A collection, cluster-wide or in one namespace:
	// /apis/<g>/<v>/namespaces/<ns>/<resource> is /apis/<g>/<v>/<resource> filtered.
	path, ns := r.URL.Path, ""
	if parts := strings.Split(path, "/"); len(parts) == 7 && parts[4] == "namespaces" {
		ns = parts[5]
		path = strings.Join(append(parts[:4], parts[6]), "/")
	}
	all, ok := c.items[path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	c.mu.Lock()
	c.lists[r.URL.Path]++
	c.mu.Unlock()
	var items []map[string]any
	for _, it := range all {
		if ns == "" || it["metadata"].(map[string]any)["namespace"] == ns {
			items = append(items, it)
		}
	}
	start, _ := strconv.Atoi(r.URL.Query().Get("continue"))
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	end, cont := len(items), ""
	if limit > 0 && start+limit < len(items) {
		end, cont = start+limit, strconv.Itoa(start+limit)
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"kind": "List", "apiVersion": "v1", "metadata": map[string]any{"continue": cont}, "items": items[start:end]})
}

// The mesh objects are listed once, for the inventory, and judged from it;
// workloads are judged page by page; the report keeps the listing order and
// is the same whatever the number of workers and the page size.
func TestLiveJudgesInventoryObjectsWithoutListingThemAgain(t *testing.T) {
	e, err := policy.New(t.Context(), policy.Options{})
	require.NoError(t, err)
	var first []string
	for _, o := range []audit.Options{{Workers: 1, PageSize: 500}, {Workers: 4, PageSize: 3}} {
		c := newFakeCluster()
		srv := httptest.NewServer(c)
		r, err := audit.Live(t.Context(), e, &rest.Config{Host: srv.URL}, "fake", o)
		srv.Close()
		require.NoError(t, err)
		assert.Equal(t, 24, r.Summary.Objects, "every Namespace (LINKERD-AUTHZ-001 judges them), PeerAuthentication and Deployment is judged")
		pages := func(n int) int { return (n + int(o.PageSize) - 1) / int(o.PageSize) }
		assert.Equal(t, pages(4), c.lists["/api/v1/namespaces"], "Namespaces are listed once")
		assert.Equal(t, pages(10), c.lists["/apis/security.istio.io/v1/peerauthentications"], "PeerAuthentications are listed once")
		assert.Equal(t, pages(10), c.lists["/apis/apps/v1/deployments"])
		var got []string
		for _, res := range r.Results {
			for _, f := range res.Findings {
				got = append(got, res.Object.String()+" "+f.Rule)
			}
		}
		assert.Contains(t, got, "PeerAuthentication ns-0/pa-0 ISTIO-MTLS-001", "a PERMISSIVE policy is found")
		assert.Contains(t, got, "Deployment ns-0/web-0 ISTIO-RES-001", "a workload of an enrolled namespace (from the inventory) without proxy resources is found")
		assert.NotContains(t, got, "Deployment ns-1/web-1 ISTIO-RES-001", "no sidecar outside enrolled namespaces")
		if first == nil {
			first = got
			continue
		}
		assert.Equal(t, first, got, "same findings in the same order with 4 workers and pages of 3")
	}
}

// -n keeps the judged objects to the namespaces; the inventory still holds
// every Namespace.
func TestLiveNamespaces(t *testing.T) {
	e, err := policy.New(t.Context(), policy.Options{})
	require.NoError(t, err)
	c := newFakeCluster()
	srv := httptest.NewServer(c)
	defer srv.Close()
	r, err := audit.Live(t.Context(), e, &rest.Config{Host: srv.URL}, "fake", audit.Options{Namespaces: []string{"ns-2"}, PageSize: 2})
	require.NoError(t, err)
	assert.Equal(t, 4, r.Summary.Objects, "pa-2, pa-6, web-2 and web-6")
	var rules []string
	for _, res := range r.Results {
		assert.Equal(t, "ns-2", res.Object.Namespace)
		for _, f := range res.Findings {
			rules = append(rules, res.Object.Name+" "+f.Rule)
		}
	}
	assert.ElementsMatch(t, []string{"pa-6 ISTIO-MTLS-001", "web-2 ISTIO-RES-001", "web-2 ISTIO-INJ-004", "web-6 ISTIO-RES-001", "web-6 ISTIO-INJ-004"}, rules)
	assert.Equal(t, 1, c.lists["/apis/apps/v1/namespaces/ns-2/deployments"], "workloads are listed in the namespace only")
}
