// Package defaults keeps the default policies of meshed namespaces in
// place: a controller watches Namespaces and the kinds it generates, asks
// the engine's generators (policies/generate) what each Namespace should
// have, creates what is missing, recreates what was deleted and updates the
// managed objects whose template changed with a new bundle. Objects a user
// owns are never touched. See RULES.md §3.2: generation is a controller, not a
// side effect of admission.
package defaults

import (
	"context"
	"fmt"
	"reflect"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/meshguard/meshguard/pkg/policy"
)

// Reconciler reconciles one Namespace's default policies.
type Reconciler struct {
	Client client.Client
	// Engine returns the engine to ask (the served bundle).
	Engine func() *policy.Engine
	// Reloaded, when not nil, is told of each new bundle: every Namespace is
	// then reconciled again, so managed defaults follow changed templates.
	Reloaded <-chan struct{}
	Log      logr.Logger
}

// Reconcile creates the Namespace's missing defaults and updates managed
// ones whose template changed.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	ns := &unstructured.Unstructured{}
	ns.SetGroupVersionKind(schema.GroupVersionKind{Version: "v1", Kind: "Namespace"})
	if err := r.Client.Get(ctx, types.NamespacedName{Name: req.Name}, ns); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if ns.GetDeletionTimestamp() != nil {
		return reconcile.Result{}, nil
	}
	gen, err := r.Engine().Generate(ctx, ns.Object)
	if err != nil {
		return reconcile.Result{}, fmt.Errorf("generating the defaults of namespace %s: %w", req.Name, err)
	}
	for _, g := range gen {
		want := &unstructured.Unstructured{Object: g.Object}
		key := client.ObjectKeyFromObject(want)
		have := &unstructured.Unstructured{}
		have.SetGroupVersionKind(want.GroupVersionKind())
		err := r.Client.Get(ctx, key, have)
		switch {
		case apierrors.IsNotFound(err):
			if err := r.Client.Create(ctx, want); err != nil && !apierrors.IsAlreadyExists(err) {
				return reconcile.Result{}, fmt.Errorf("creating %s %s: %w", want.GetKind(), key, err)
			}
			r.Log.Info("created a default policy", "namespace", req.Name, "kind", want.GetKind(), "name", want.GetName(), "generator", g.Generator)
		case err != nil:
			return reconcile.Result{}, err
		case have.GetLabels()[policy.LabelManagedBy] != policy.ManagedByMeshguard:
			// The user's own object: never touched.
		case changed(have, want):
			want.SetResourceVersion(have.GetResourceVersion())
			if err := r.Client.Update(ctx, want); err != nil {
				return reconcile.Result{}, fmt.Errorf("updating %s %s: %w", want.GetKind(), key, err)
			}
			r.Log.Info("updated a managed default policy", "namespace", req.Name, "kind", want.GetKind(), "name", want.GetName(), "generator", g.Generator)
		}
	}
	return reconcile.Result{}, nil
}

// changed reports whether the managed object differs from the template in
// what meshguard manages: spec, labels and annotations it sets.
func changed(have, want *unstructured.Unstructured) bool {
	if !reflect.DeepEqual(have.Object["spec"], want.Object["spec"]) {
		if !(isEmpty(have.Object["spec"]) && isEmpty(want.Object["spec"])) {
			return true
		}
	}
	for k, v := range want.GetAnnotations() {
		if have.GetAnnotations()[k] != v {
			return true
		}
	}
	for k, v := range want.GetLabels() {
		if have.GetLabels()[k] != v {
			return true
		}
	}
	return false
}

func isEmpty(v any) bool {
	m, ok := v.(map[string]any)
	return v == nil || (ok && len(m) == 0)
}

// Kinds are the kinds the generators produce; the controller watches them
// to recreate deleted defaults and to react to users' own equivalents.
var Kinds = []schema.GroupVersionKind{
	{Group: "security.istio.io", Version: "v1", Kind: "PeerAuthentication"},
	{Group: "security.istio.io", Version: "v1", Kind: "AuthorizationPolicy"},
}

// SetupWithManager registers the controller: it watches Namespaces, and the
// generated kinds that the cluster serves (a mesh whose CRDs are absent is
// skipped).
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	b := ctrl.NewControllerManagedBy(mgr).Named("meshguard-defaults").For(&corev1.Namespace{})
	toNamespace := handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: o.GetNamespace()}}}
	})
	for _, gvk := range Kinds {
		if _, err := mgr.GetRESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version); err != nil {
			if meta.IsNoMatchError(err) {
				r.Log.Info("not watching a kind the cluster does not serve", "kind", gvk.String())
				continue
			}
			return err
		}
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(gvk)
		b = b.Watches(u, toNamespace)
	}
	if r.Reloaded != nil {
		events := make(chan event.GenericEvent)
		if err := mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
			for {
				select {
				case <-ctx.Done():
					return nil
				case <-r.Reloaded:
					select {
					case events <- event.GenericEvent{Object: &corev1.Namespace{}}:
					case <-ctx.Done():
						return nil
					}
				}
			}
		})); err != nil {
			return err
		}
		all := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, _ client.Object) []reconcile.Request {
			var list corev1.NamespaceList
			if err := mgr.GetClient().List(ctx, &list); err != nil {
				r.Log.Error(err, "listing the Namespaces to reconcile with the new bundle")
				return nil
			}
			reqs := make([]reconcile.Request, 0, len(list.Items))
			for _, ns := range list.Items {
				reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Name: ns.Name}})
			}
			return reqs
		})
		b = b.WatchesRawSource(source.Channel(events, all))
	}
	return b.Complete(r)
}
