package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/meshguard/meshguard/pkg/inventory"
	"github.com/meshguard/meshguard/pkg/policy"
)

// clusterInventory keeps the engine's inventory equal to the cluster's
// Namespaces and mesh objects through informers, one change at a time.
type clusterInventory struct {
	client  dynamic.Interface
	log     logr.Logger
	synced  atomic.Bool
	kinds   []schema.GroupVersionResource
	nsStore cache.Store

	// emu guards engine and stores: handlers write to the engine under the
	// read lock, adopt swaps it under the write lock.
	emu    sync.RWMutex
	engine *policy.Engine
	stores []cache.Store

	mu      sync.Mutex
	fetched map[string]time.Time // namespaces fetched directly, to avoid refetching misses

	// staleAfter is how long a watch may stay broken before the inventory
	// counts as stale.
	staleAfter time.Duration
	wmu        sync.Mutex
	broken     map[string]time.Time // resource path -> start of its watch's outage
	tracked    map[string]bool      // the collection paths the informers list and watch
	now        func() time.Time
}

// watchedResources lists the served resources whose kinds the inventory
// tracks, one (preferred) version per kind.
func watchedResources(cfg *rest.Config) ([]schema.GroupVersionResource, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	lists, err := dc.ServerPreferredResources()
	if err != nil && len(lists) == 0 {
		return nil, fmt.Errorf("discovering served resources: %w", err)
	}
	var out []schema.GroupVersionResource
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range l.APIResources {
			if containsSlash(r.Name) || !hasVerbs(r.Verbs, "list", "watch") {
				continue
			}
			if inventory.Tracked(policy.GroupKind{Group: gv.Group, Kind: r.Kind}) {
				out = append(out, gv.WithResource(r.Name))
			}
		}
	}
	return out, nil
}

func containsSlash(s string) bool {
	for i := range len(s) {
		if s[i] == '/' {
			return true
		}
	}
	return false
}

func hasVerbs(have metav1.Verbs, want ...string) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			if h == w {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// permitted drops the resources the webhook may not list and watch (asked
// with SelfSubjectAccessReviews), each with a log line: an informer on a
// forbidden resource never syncs, and the webhook would never be ready.
func permitted(cfg *rest.Config, gvrs []schema.GroupVersionResource, log logr.Logger) ([]schema.GroupVersionResource, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 50, 100 // two reviews per resource, once at start
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []schema.GroupVersionResource
	for _, gvr := range gvrs {
		allowed := true
		for _, verb := range []string{"list", "watch"} {
			r, err := c.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
				Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: verb, Group: gvr.Group, Resource: gvr.Resource}},
			}, metav1.CreateOptions{})
			if err != nil {
				return nil, fmt.Errorf("asking whether the webhook may %s %s: %w", verb, gvr.GroupResource(), err)
			}
			allowed = allowed && r.Status.Allowed
		}
		if !allowed {
			log.Error(nil, "not watching a mesh kind the webhook may not list and watch: rules do not see these objects; grant get, list, watch on its API group (the chart's rbac.meshAPIGroups)", "resource", gvr.GroupResource().String())
			continue
		}
		out = append(out, gvr)
	}
	return out, nil
}

func newClusterInventory(cfg *rest.Config, engine *policy.Engine, staleAfter time.Duration, log logr.Logger) (*clusterInventory, error) {
	kinds, err := watchedResources(cfg)
	if err != nil {
		return nil, err
	}
	if kinds, err = permitted(cfg, kinds, log); err != nil {
		return nil, err
	}
	c := &clusterInventory{engine: engine, log: log, kinds: kinds, fetched: map[string]time.Time{},
		staleAfter: staleAfter, broken: map[string]time.Time{}, now: time.Now, tracked: map[string]bool{}}
	for _, gvr := range kinds {
		c.tracked[resourcePath(gvr)] = true
	}
	// Every successful LIST or WATCH of a resource ends its outage (the
	// reflector's relist after the API server is back).
	cfg = rest.CopyConfig(cfg)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return contactTracker{rt: rt, inv: c} })
	if c.client, err = dynamic.NewForConfig(cfg); err != nil {
		return nil, err
	}
	return c, nil
}

// resourcePath is the collection path the informers list and watch.
func resourcePath(gvr schema.GroupVersionResource) string {
	if gvr.Group == "" {
		return "/api/" + gvr.Version + "/" + gvr.Resource
	}
	return "/apis/" + gvr.Group + "/" + gvr.Version + "/" + gvr.Resource
}

// contactTracker watches the inventory's requests to the API server: a LIST
// or WATCH of a tracked collection that fails (connection refused, 5xx) or
// a watch stream that breaks starts that resource's outage; one that
// succeeds ends it. The reflector's own error handler is not enough: it
// retries a refused watch quietly, forever.
type contactTracker struct {
	rt  http.RoundTripper
	inv *clusterInventory
}

func (t contactTracker) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.rt.RoundTrip(req)
	path := req.URL.Path
	if req.Method != http.MethodGet || !t.inv.tracked[path] {
		return resp, err
	}
	switch {
	case err != nil:
		if req.Context().Err() == nil {
			t.inv.watchBroke(path, err)
		}
	case resp.StatusCode == http.StatusOK:
		t.inv.contact(path)
		if req.URL.Query().Get("watch") != "" {
			resp.Body = &watchBody{ReadCloser: resp.Body, path: path, req: req, inv: t.inv}
		}
	case resp.StatusCode >= http.StatusInternalServerError:
		t.inv.watchBroke(path, fmt.Errorf("%s", resp.Status))
	}
	return resp, err
}

// watchBody notices a watch stream that breaks (the API server gone), as
// opposed to one that ends (io.EOF) or that the informer stops.
type watchBody struct {
	io.ReadCloser
	path string
	req  *http.Request
	inv  *clusterInventory
}

func (b *watchBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && b.req.Context().Err() == nil {
		b.inv.watchBroke(b.path, err)
	}
	return n, err
}

func (c *clusterInventory) contact(path string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if since, ok := c.broken[path]; ok {
		delete(c.broken, path)
		c.log.Info("the inventory watch is back", "resource", path, "brokenFor", c.now().Sub(since).Round(time.Second).String())
	}
}

func (c *clusterInventory) watchBroke(path string, err error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if _, ok := c.broken[path]; !ok {
		c.broken[path] = c.now()
		c.log.Info("the inventory watch broke: the cache keeps the last state it saw", "resource", path, "error", err.Error())
	}
}

// Stale says whether the inventory is stale: the watch of some resource has
// been broken (failed, and not listed or watched successfully since) for
// longer than staleAfter. since is how long the oldest outage has lasted.
func (c *clusterInventory) Stale() (stale bool, since time.Duration) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	now := c.now()
	for _, t := range c.broken {
		if d := now.Sub(t); d > since {
			since = d
		}
	}
	return since > c.staleAfter, since
}

// adopt makes e the engine the informers keep current, after filling its
// inventory from their caches (a reloaded bundle starts empty). Events the
// handlers have not delivered yet are applied to e afterwards; they are
// idempotent, so e converges on the caches.
func (c *clusterInventory) adopt(ctx context.Context, e *policy.Engine) error {
	c.emu.Lock()
	defer c.emu.Unlock()
	for _, st := range c.stores {
		for _, o := range st.List() {
			u, ok := o.(*unstructured.Unstructured)
			if !ok {
				continue
			}
			key, ok := inventory.KeyOf(policy.RefOf(u.Object))
			if !ok {
				continue
			}
			if err := e.PutInventory(ctx, key, u.Object); err != nil {
				return fmt.Errorf("%s: %w", policy.RefOf(u.Object), err)
			}
		}
	}
	c.engine = e
	return nil
}

// run starts the informers and returns once their caches have synced (or
// ctx ends); the informers stop with ctx.
func (c *clusterInventory) run(ctx context.Context) error {
	factory := dynamicinformer.NewDynamicSharedInformerFactory(c.client, 0)
	var resources []string
	var stores []cache.Store
	for _, gvr := range c.kinds {
		inf := factory.ForResource(gvr).Informer()
		if err := inf.SetTransform(strip); err != nil {
			return err
		}
		path := resourcePath(gvr)
		if err := inf.SetWatchErrorHandlerWithContext(func(_ context.Context, _ *cache.Reflector, err error) { c.watchBroke(path, err) }); err != nil {
			return err
		}
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    func(o any) { c.put(ctx, o) },
			UpdateFunc: func(_, o any) { c.put(ctx, o) },
			DeleteFunc: func(o any) { c.remove(ctx, o) },
		}); err != nil {
			return err
		}
		if gvr.Group == "" && gvr.Resource == "namespaces" {
			c.nsStore = inf.GetStore()
		}
		resources = append(resources, gvr.String())
		stores = append(stores, inf.GetStore())
	}
	c.emu.Lock()
	c.stores = stores
	c.emu.Unlock()
	c.log.Info("watching the inventory", "resources", resources)
	factory.Start(ctx.Done())
	for gvr, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fmt.Errorf("the inventory cache of %s did not sync", gvr)
		}
	}
	c.synced.Store(true)
	go func() { <-ctx.Done(); factory.Shutdown() }()
	return nil
}

// strip drops what no rule reads and what costs memory.
func strip(o any) (any, error) {
	if u, ok := o.(*unstructured.Unstructured); ok {
		u.SetManagedFields(nil)
		if a := u.GetAnnotations(); a != nil {
			delete(a, "kubectl.kubernetes.io/last-applied-configuration")
			u.SetAnnotations(a)
		}
	}
	return o, nil
}

func (c *clusterInventory) put(ctx context.Context, o any) {
	u, ok := o.(*unstructured.Unstructured)
	if !ok {
		return
	}
	key, ok := inventory.KeyOf(policy.RefOf(u.Object))
	if !ok {
		return
	}
	c.emu.RLock()
	defer c.emu.RUnlock()
	if err := c.engine.PutInventory(ctx, key, u.Object); err != nil {
		c.log.Error(err, "updating the inventory", "object", policy.RefOf(u.Object).String())
	}
}

func (c *clusterInventory) remove(ctx context.Context, o any) {
	if t, ok := o.(cache.DeletedFinalStateUnknown); ok {
		o = t.Obj
	}
	u, ok := o.(*unstructured.Unstructured)
	if !ok {
		return
	}
	key, ok := inventory.KeyOf(policy.RefOf(u.Object))
	if !ok {
		return
	}
	c.emu.RLock()
	defer c.emu.RUnlock()
	if err := c.engine.DeleteInventory(ctx, key); err != nil {
		c.log.Error(err, "updating the inventory", "object", policy.RefOf(u.Object).String())
	}
}

// Ensure fetches a Namespace the informer has not delivered yet (created a
// moment before the object being admitted), so that its labels decide.
func (c *clusterInventory) Ensure(ctx context.Context, namespace string) {
	if c.nsStore == nil {
		return
	}
	if _, exists, _ := c.nsStore.GetByKey(namespace); exists {
		return
	}
	if _, since := c.Stale(); since > 0 {
		return // the API server is not reachable: no request waits for it
	}
	c.mu.Lock()
	last, seen := c.fetched[namespace]
	if seen && time.Since(last) < 2*time.Second {
		c.mu.Unlock()
		return
	}
	c.fetched[namespace] = time.Now()
	c.mu.Unlock()

	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	u, err := c.client.Resource(schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}).Get(ctx, namespace, metav1.GetOptions{})
	if err != nil {
		if !apierrors.IsNotFound(err) {
			c.log.Error(err, "fetching a namespace missing from the inventory", "namespace", namespace)
		}
		return
	}
	if _, err := strip(u); err == nil {
		c.put(ctx, u)
	}
}
