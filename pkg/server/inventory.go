package server

import (
	"context"
	"fmt"
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
	engine  *policy.Engine
	client  dynamic.Interface
	log     logr.Logger
	synced  atomic.Bool
	kinds   []schema.GroupVersionResource
	nsStore cache.Store

	mu      sync.Mutex
	fetched map[string]time.Time // namespaces fetched directly, to avoid refetching misses
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

func newClusterInventory(cfg *rest.Config, engine *policy.Engine, log logr.Logger) (*clusterInventory, error) {
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	kinds, err := watchedResources(cfg)
	if err != nil {
		return nil, err
	}
	if kinds, err = permitted(cfg, kinds, log); err != nil {
		return nil, err
	}
	return &clusterInventory{engine: engine, client: client, log: log, kinds: kinds, fetched: map[string]time.Time{}}, nil
}

// run starts the informers and returns once their caches have synced (or
// ctx ends); the informers stop with ctx.
func (c *clusterInventory) run(ctx context.Context) error {
	factory := dynamicinformer.NewDynamicSharedInformerFactory(c.client, 0)
	var resources []string
	for _, gvr := range c.kinds {
		inf := factory.ForResource(gvr).Informer()
		if err := inf.SetTransform(strip); err != nil {
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
	}
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
