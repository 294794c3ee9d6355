// Command demo shows meshguard at admission, for a person: it starts a local
// kube-apiserver and etcd (envtest) with the mesh CRDs, serves the webhook
// behind real webhook configurations, applies every object in examples/
// (Namespaces first) and prints what was denied, warned and mutated, then
// stops everything. `make demo` runs it.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/meshguard/meshguard/internal/testenv"
	"github.com/meshguard/meshguard/pkg/inventory"
	"github.com/meshguard/meshguard/pkg/manifest"
	"github.com/meshguard/meshguard/pkg/policy"
)

type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, text)
}

func (w *warnings) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.msgs
	w.msgs = nil
	return out
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir := "examples"
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	if err := run(ctx, dir); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, dir string) (err error) {
	files, errs := manifest.Expand([]string{dir})
	if len(errs) > 0 {
		return fmt.Errorf("reading %s: %s", dir, errs[0].Message)
	}
	var docs []manifest.Document
	for _, f := range files {
		file := manifest.ReadFile(f, nil)
		for _, e := range file.Errors {
			return fmt.Errorf("%s:%d: %s", e.File, e.Line, e.Message)
		}
		docs = append(docs, file.Docs...)
	}
	// Namespaces first, as kubectl apply users order them.
	sort.SliceStable(docs, func(i, j int) bool {
		return docs[i].Object["kind"] == "Namespace" && docs[j].Object["kind"] != "Namespace"
	})

	fmt.Println("--- starting a local kube-apiserver and etcd, and the meshguard webhook behind real webhook configurations")
	env, err := testenv.Start(ctx, testenv.Options{Webhook: true, Logger: logr.Discard()})
	if err != nil {
		return err
	}
	defer func() {
		fmt.Println("--- stopping the webhook, the API server and etcd")
		err = errors.Join(err, env.Stop())
	}()

	w := &warnings{}
	cfg := rest.CopyConfig(env.Config)
	cfg.WarningHandler = w
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return err
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	engine, err := policy.New(ctx, policy.Options{})
	if err != nil {
		return err
	}

	for _, d := range docs { // the offline engine sees the Namespaces too
		if key, ok := inventory.KeyOf(policy.RefOf(d.Object)); ok {
			if err := engine.PutInventory(ctx, key, d.Object); err != nil {
				return err
			}
		}
	}

	var denied, warned, mutated, clean int
	for _, d := range docs {
		u := &unstructured.Unstructured{Object: d.Object}
		gvk := u.GroupVersionKind()
		where := fmt.Sprintf("%s:%d", filepath.ToSlash(d.File), d.Line)
		ref := policy.RefOf(d.Object)
		fmt.Printf("\n%s  (%s)\n", ref, where)
		m, err := mapper.RESTMapping(schema.GroupKind{Group: gvk.Group, Kind: gvk.Kind}, gvk.Version)
		if err != nil {
			fmt.Printf("  SKIPPED  the API server does not serve %s: %v\n", gvk, err)
			continue
		}
		res := client.Resource(m.Resource)
		var ri dynamic.ResourceInterface = res
		if ns := u.GetNamespace(); ns != "" {
			ri = res.Namespace(ns)
		}
		// What the rules would add: the stored object is read back at these
		// paths to show what the mutating webhook did.
		muts, _ := engine.Mutations(ctx, d.Object)
		stored, err := ri.Create(ctx, u, metav1.CreateOptions{})
		ws := w.take()
		if apierrors.IsAlreadyExists(err) {
			if have, gerr := ri.Get(ctx, u.GetName(), metav1.GetOptions{}); gerr == nil && have.GetLabels()[policy.LabelManagedBy] == policy.ManagedByMeshguard {
				clean++
				fmt.Printf("  EXISTS   meshguard's defaults controller created it already (%s)\n", have.GetAnnotations()[policy.AnnotationGeneratedBy])
				continue
			}
		}
		if err != nil {
			denied++
			fmt.Println("  DENIED  ", strings.ReplaceAll(err.Error(), "\n", "\n           "))
			continue
		}
		for _, msg := range ws {
			fmt.Println("  WARNED  ", msg)
		}
		if len(ws) > 0 {
			warned++
		}
		if by := stored.GetAnnotations()["meshguard.io/mutated"]; by != "" {
			mutated++
			fmt.Println("  MUTATED  by", by)
			for _, mu := range muts {
				if v, ok := lookup(stored.Object, mu.Path); ok {
					b, _ := json.Marshal(v)
					fmt.Printf("           %s = %s\n", policy.FormatPath(mu.Path), b)
				}
			}
		}
		if len(ws) == 0 && stored.GetAnnotations()["meshguard.io/mutated"] == "" {
			clean++
			fmt.Println("  CREATED  no finding")
		}
	}
	fmt.Printf("\n--- %d objects: %d denied, %d created with warnings, %d mutated, %d created clean (or already there)\n", len(docs), denied, warned, mutated, clean)
	// What the defaults controller added to the meshed namespaces.
	for _, gvr := range []schema.GroupVersionResource{
		{Group: "security.istio.io", Version: "v1", Resource: "peerauthentications"},
		{Group: "security.istio.io", Version: "v1", Resource: "authorizationpolicies"},
	} {
		l, err := client.Resource(gvr).List(ctx, metav1.ListOptions{LabelSelector: policy.LabelManagedBy + "=" + policy.ManagedByMeshguard})
		if err != nil {
			continue
		}
		for _, it := range l.Items {
			fmt.Printf("--- default policy kept by meshguard: %s %s/%s (%s)\n", it.GetKind(), it.GetNamespace(), it.GetName(), it.GetAnnotations()[policy.AnnotationGeneratedBy])
		}
	}
	return nil
}

func lookup(obj map[string]any, path []any) (any, bool) {
	var cur any = obj
	for _, p := range path {
		switch c := cur.(type) {
		case map[string]any:
			k, _ := p.(string)
			v, ok := c[k]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, ok := p.(int)
			if !ok || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}
