// Package audit finds the violations that already exist: in a live cluster
// (listing every served kind the bundle covers, with paging, into the
// inventory and through the engine) or in files (a GitOps repository). It
// fills the one report model; pkg/report writes it (json, markdown, html,
// policyreport).
package audit

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/meshguard/meshguard/pkg/inventory"
	"github.com/meshguard/meshguard/pkg/policy"
	"github.com/meshguard/meshguard/pkg/report"
)

// Options configure an audit.
type Options struct {
	// Namespaces limits the objects judged (the inventory still holds the
	// whole cluster, so cross-object rules see the root namespace). Empty
	// means every namespace and the cluster-scoped objects.
	Namespaces []string
	// PageSize is the list page size (default 500).
	PageSize int64
	// Now is the audit time (default time.Now).
	Now func() time.Time
	// Workers is how many objects are judged at once (default GOMAXPROCS).
	Workers int
}

func (o *Options) defaults() {
	if o.PageSize <= 0 {
		o.PageSize = 500
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
}

// finish keeps the objects with findings, totals and stamps the report.
func finish(r *report.Report, e *policy.Engine, source string, now time.Time, notes []string) {
	objects := r.Summary.Objects
	r.Results = slices.DeleteFunc(r.Results, func(res report.Result) bool { return len(res.Findings) == 0 })
	files := r.Summary.Files
	r.Tally()
	r.Summary.Objects, r.Summary.Files = objects, files
	r.Audit = &report.Audit{Source: source, Time: now.UTC(), Notes: notes}
	r.ComputeTotals(e.Rules())
}

// Files turns the report of `check` on manifests (files, directories, "-")
// into an audit of them: only the objects with findings are kept, and
// source names what was audited. The caller runs check (pkg/check), so this
// package, which the webhook links for its periodic audit, does not link
// the Helm and kustomize renderers.
func Files(r *report.Report, e *policy.Engine, source string, o Options) *report.Report {
	o.defaults()
	if len(o.Namespaces) > 0 {
		r.Results = slices.DeleteFunc(r.Results, func(res report.Result) bool {
			return !slices.Contains(o.Namespaces, res.Object.Namespace)
		})
		r.Tally()
	}
	finish(r, e, source, o.Now(), nil)
	return r
}

// resource is a served kind to list.
type resource struct {
	gvr        schema.GroupVersionResource
	gk         policy.GroupKind
	namespaced bool
	tracked    bool // goes into the inventory
	covered    bool // judged by a rule
}

// discover finds the served kinds the audit needs (those a rule covers and
// those inv keeps), and notes the covered kinds that are not served.
func discover(cfg *rest.Config, e *policy.Engine, inv *inventory.Inventory) ([]resource, []string, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	lists, err := dc.ServerPreferredResources()
	if err != nil && len(lists) == 0 {
		return nil, nil, fmt.Errorf("discovering the served kinds: %w", err)
	}
	var out []resource
	served := map[policy.GroupKind]bool{}
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range l.APIResources {
			if strings.Contains(r.Name, "/") || !slices.Contains(r.Verbs, "list") {
				continue
			}
			gk := policy.GroupKind{Group: gv.Group, Kind: r.Kind}
			res := resource{gvr: gv.WithResource(r.Name), gk: gk, namespaced: r.Namespaced, tracked: inv.Tracks(gk), covered: e.Covers(gk)}
			if res.tracked || res.covered {
				served[gk] = true
				out = append(out, res)
			}
		}
	}
	var notes []string
	seen := map[policy.GroupKind]bool{}
	for _, rule := range e.Rules() {
		for _, k := range rule.Kinds {
			if !served[k.GroupKind] && !seen[k.GroupKind] {
				seen[k.GroupKind] = true
				notes = append(notes, fmt.Sprintf("%s is not served by this cluster (its CRD is absent): skipped", k.GroupKind))
			}
		}
	}
	sort.Strings(notes)
	sort.Slice(out, func(i, j int) bool { return out[i].gvr.String() < out[j].gvr.String() })
	return out, notes, nil
}

// serverFields are the metadata fields the API server keeps for itself, which
// no rule reads: dropped from every listed object, so that the inventory of a
// large cluster holds what rules judge by (metadata.deletionTimestamp and
// status stay: rules read them).
var serverFields = []string{"managedFields", "uid", "resourceVersion", "generation", "creationTimestamp", "selfLink"}

// list pages through a resource (in one namespace, or all when ns is ""),
// calling fn for each object; nothing is kept. The server-side fields no
// rule reads (serverFields, the last-applied annotation) are dropped.
func list(ctx context.Context, c dynamic.Interface, r resource, ns string, pageSize int64, fn func(obj map[string]any)) error {
	var ri dynamic.ResourceInterface = c.Resource(r.gvr)
	if r.namespaced && ns != "" {
		ri = c.Resource(r.gvr).Namespace(ns)
	}
	cont := ""
	for {
		page, err := ri.List(ctx, metav1.ListOptions{Limit: pageSize, Continue: cont})
		if err != nil {
			return fmt.Errorf("listing %s: %w", r.gvr, err)
		}
		for i := range page.Items {
			u := &page.Items[i]
			if md, ok := u.Object["metadata"].(map[string]any); ok {
				for _, f := range serverFields {
					delete(md, f)
				}
				if a, ok := md["annotations"].(map[string]any); ok {
					delete(a, "kubectl.kubernetes.io/last-applied-configuration")
				}
			}
			if u.GetAPIVersion() == "" {
				u.SetGroupVersionKind(r.gvr.GroupVersion().WithKind(r.gk.Kind))
			}
			fn(u.Object)
			page.Items[i] = unstructured.Unstructured{} // judged or converted: free it with the page
		}
		cont = page.GetContinue()
		if cont == "" {
			return nil
		}
	}
}

// job is one object to judge: its place in the report order (resource,
// then listing order) and its value.
type job struct {
	res, seq int
	ref      policy.ObjectRef
	value    ast.Value
}

// judged is a job's findings.
type judged struct {
	res, seq int
	result   report.Result
}

// judgeAll evaluates the jobs sent on in with workers goroutines and returns
// the objects with findings in report order, and how many were judged.
func judgeAll(ctx context.Context, e *policy.Engine, workers int, in <-chan job) ([]judged, int, error) {
	var mu sync.Mutex
	var out []judged
	var firstErr error
	n := 0
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for j := range in {
				fs, err := e.EvaluateInput(ctx, j.ref, policy.OpCreate, j.value)
				mu.Lock()
				n++
				if err != nil && firstErr == nil {
					firstErr = err
				}
				if len(fs) > 0 {
					out = append(out, judged{res: j.res, seq: j.seq, result: report.Result{Object: j.ref, Findings: fs}})
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, 0, firstErr
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].res != out[b].res {
			return out[a].res < out[b].res
		}
		return out[a].seq < out[b].seq
	})
	return out, n, nil
}

// Live audits a cluster. The inventory kinds are listed cluster-wide first:
// each object is converted to its OPA value as it arrives (the listed copy is
// freed with its page) and, when a rule covers its kind, judged from that
// same value once the inventory is complete. Then every other covered kind
// is listed page by page and judged while the next page is fetched. Only the
// findings are kept. source names the cluster in the report.
func Live(ctx context.Context, e *policy.Engine, cfg *rest.Config, source string, o Options) (*report.Report, error) {
	o.defaults()
	// Discovery asks once per API group: client-go's default of 5 requests/s
	// would make that the slowest part of an audit.
	cfg = rest.CopyConfig(cfg)
	if cfg.QPS < 50 {
		cfg.QPS, cfg.Burst = 50, 100
	}
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	inv := inventory.For(e.ReadsInventory)
	resources, notes, err := discover(cfg, e, inv)
	if err != nil {
		return nil, err
	}
	inScope := func(ns string, namespaced bool) bool {
		return len(o.Namespaces) == 0 || (namespaced && slices.Contains(o.Namespaces, ns))
	}
	var held []job // tracked objects that a rule judges, as their inventory values
	for i, res := range resources {
		if !res.tracked {
			continue
		}
		seq := 0
		var convErr error
		err := list(ctx, client, res, "", o.PageSize, func(obj map[string]any) {
			ref := policy.RefOf(obj)
			v, err := ast.InterfaceToValue(obj)
			if err != nil {
				convErr = fmt.Errorf("converting %s: %w", ref, err)
				return
			}
			inv.Put(ref, v)
			if res.covered && inScope(ref.Namespace, res.namespaced) {
				held = append(held, job{res: i, seq: seq, ref: ref, value: v})
				seq++
			}
		})
		if err == nil {
			err = convErr
		}
		if err != nil {
			return nil, err
		}
	}
	if err := e.SetInventory(ctx, inv.Document()); err != nil {
		return nil, err
	}
	inv = nil

	jobs := make(chan job, 2*o.PageSize)
	var results []judged
	var judgedN int
	var judgeErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		results, judgedN, judgeErr = judgeAll(ctx, e, o.Workers, jobs)
	}()
	listErr := func() error {
		defer close(jobs)
		for _, j := range held {
			jobs <- j
		}
		held = nil
		for i, res := range resources {
			if !res.covered || res.tracked {
				continue
			}
			namespaces := []string{""}
			if len(o.Namespaces) > 0 && res.namespaced {
				namespaces = o.Namespaces
			}
			seq := 0
			for _, ns := range namespaces {
				var convErr error
				err := list(ctx, client, res, ns, o.PageSize, func(obj map[string]any) {
					ref := policy.RefOf(obj)
					if convErr != nil || !inScope(ref.Namespace, res.namespaced) {
						return
					}
					v, err := ast.InterfaceToValue(obj)
					if err != nil {
						convErr = fmt.Errorf("converting %s: %w", ref, err)
						return
					}
					jobs <- job{res: i, seq: seq, ref: ref, value: v}
					seq++
				})
				if err == nil {
					err = convErr
				}
				if err != nil {
					return err
				}
			}
		}
		return nil
	}()
	<-done
	if listErr != nil {
		return nil, listErr
	}
	if judgeErr != nil {
		return nil, judgeErr
	}
	r := &report.Report{Bundle: report.Bundle{Revision: e.Revision()}}
	r.Summary.Objects = judgedN
	for _, j := range results {
		r.Results = append(r.Results, j.result)
	}
	finish(r, e, source, o.Now(), notes)
	return r, nil
}
