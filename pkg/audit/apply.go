package audit

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/meshguard/meshguard/pkg/policy"
	"github.com/meshguard/meshguard/pkg/report"
)

var (
	policyReports        = schema.GroupVersionResource{Group: "wgpolicyk8s.io", Version: "v1alpha2", Resource: "policyreports"}
	clusterPolicyReports = schema.GroupVersionResource{Group: "wgpolicyk8s.io", Version: "v1alpha2", Resource: "clusterpolicyreports"}
)

// Applied counts what Apply did.
type Applied struct {
	Created, Updated, Deleted int
}

// Apply writes the reports to the cluster: each is created or updated, and
// meshguard's reports that no longer have findings (a namespace now clean)
// are deleted, so no stale result stays. It needs the wgpolicyk8s.io CRDs.
func Apply(ctx context.Context, cfg *rest.Config, r *report.Report) (Applied, error) {
	var a Applied
	c, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return a, err
	}
	want := map[string]bool{}
	for _, pr := range report.PolicyReports(r) {
		u := &unstructured.Unstructured{Object: pr}
		gvr := policyReports
		var ri dynamic.ResourceInterface = c.Resource(gvr).Namespace(u.GetNamespace())
		if u.GetKind() == "ClusterPolicyReport" {
			gvr = clusterPolicyReports
			ri = c.Resource(gvr)
		}
		want[gvr.Resource+"/"+u.GetNamespace()+"/"+u.GetName()] = true
		have, err := ri.Get(ctx, u.GetName(), metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			if _, err := ri.Create(ctx, u, metav1.CreateOptions{}); err != nil {
				return a, fmt.Errorf("creating %s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
			}
			a.Created++
		case err != nil:
			return a, fmt.Errorf("reading %s %s/%s (are the wgpolicyk8s.io CRDs installed?): %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
		default:
			u.SetResourceVersion(have.GetResourceVersion())
			if _, err := ri.Update(ctx, u, metav1.UpdateOptions{}); err != nil {
				return a, fmt.Errorf("updating %s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
			}
			a.Updated++
		}
	}
	sel := policy.LabelManagedBy + "=" + policy.ManagedByMeshguard
	for _, gvr := range []schema.GroupVersionResource{policyReports, clusterPolicyReports} {
		l, err := c.Resource(gvr).List(ctx, metav1.ListOptions{LabelSelector: sel})
		if err != nil {
			return a, fmt.Errorf("listing meshguard's %s: %w", gvr.Resource, err)
		}
		for _, u := range l.Items {
			if want[gvr.Resource+"/"+u.GetNamespace()+"/"+u.GetName()] {
				continue
			}
			var ri dynamic.ResourceInterface = c.Resource(gvr).Namespace(u.GetNamespace())
			if u.GetNamespace() == "" {
				ri = c.Resource(gvr)
			}
			if err := ri.Delete(ctx, u.GetName(), metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				return a, fmt.Errorf("deleting the stale %s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
			}
			a.Deleted++
		}
	}
	return a, nil
}
