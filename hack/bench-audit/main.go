// Command bench-audit measures `meshguard audit` on a live API server with
// many objects (`make bench-audit`): it starts the local kube-apiserver and
// etcd (internal/testenv, no webhook), creates -objects objects of the kinds
// the bundle covers (PeerAuthentications, VirtualServices, Deployments, a
// fifth of them breaking a rule) in -namespaces namespaces, then runs
// bin/meshguard audit against it -runs times and prints objects/s and the
// audit process's peak RSS; then, in process, the time to list the objects
// and the time to evaluate them, apart.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/open-policy-agent/opa/v1/ast"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/meshguard/meshguard/internal/testenv"
	"github.com/meshguard/meshguard/pkg/inventory"
	"github.com/meshguard/meshguard/pkg/policy"
)

func main() {
	objects := flag.Int("objects", 50000, "objects to create")
	nss := flag.Int("namespaces", 50, "namespaces to spread them over")
	runs := flag.Int("runs", 3, "audit runs")
	bins := flag.String("bins", "bin/meshguard", "meshguard binaries to run, comma-separated (alternated, to compare builds)")
	flag.Parse()
	if err := run(*objects, *nss, *runs, strings.Split(*bins, ",")); err != nil {
		fmt.Fprintln(os.Stderr, "bench-audit:", err)
		os.Exit(1)
	}
}

var kinds = []struct {
	gvr  schema.GroupVersionResource
	make func(i int, bad bool) map[string]any
}{
	{schema.GroupVersionResource{Group: "security.istio.io", Version: "v1", Resource: "peerauthentications"}, func(i int, bad bool) map[string]any {
		mode := "STRICT"
		if bad {
			mode = "PERMISSIVE"
		}
		return map[string]any{"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication", "metadata": map[string]any{"name": fmt.Sprintf("pa-%d", i)},
			"spec": map[string]any{"selector": map[string]any{"matchLabels": map[string]any{"app": fmt.Sprintf("a%d", i)}}, "mtls": map[string]any{"mode": mode}}}
	}},
	{schema.GroupVersionResource{Group: "networking.istio.io", Version: "v1", Resource: "virtualservices"}, func(i int, bad bool) map[string]any {
		route := map[string]any{"route": []any{map[string]any{"destination": map[string]any{"host": "svc"}}}}
		if !bad {
			route["timeout"] = "10s"
		}
		return map[string]any{"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": map[string]any{"name": fmt.Sprintf("vs-%d", i)},
			"spec": map[string]any{"hosts": []any{"svc"}, "http": []any{route}}}
	}},
	{schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, func(i int, bad bool) map[string]any {
		tmpl := map[string]any{"metadata": map[string]any{"labels": map[string]any{"app": "web"}}, "spec": map[string]any{"containers": []any{map[string]any{"name": "web", "image": "web:1"}}}}
		if bad {
			tmpl["metadata"].(map[string]any)["annotations"] = map[string]any{"sidecar.istio.io/inject": "false"}
		}
		return map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": fmt.Sprintf("web-%d", i)},
			"spec": map[string]any{"selector": map[string]any{"matchLabels": map[string]any{"app": "web"}}, "template": tmpl}}
	}},
}

func run(objects, nss, runs int, bins []string) error {
	for _, b := range bins {
		if _, err := os.Stat(b); err != nil {
			return fmt.Errorf("%s is missing: run `make build` first", b)
		}
	}
	ctx := context.Background()
	fmt.Println("starting the local API server ...")
	env, err := testenv.Start(ctx, testenv.Options{Logger: logr.Discard()})
	if err != nil {
		return err
	}
	defer func() { _ = env.Stop() }()
	c, err := dynamic.NewForConfig(env.Config)
	if err != nil {
		return err
	}
	nsGVR := schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	for i := range nss {
		labels := map[string]any{}
		if i%2 == 0 {
			labels["istio-injection"] = "enabled"
		}
		ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": fmt.Sprintf("bench-%d", i), "labels": labels}}}
		if _, err := c.Resource(nsGVR).Create(ctx, ns, metav1.CreateOptions{}); err != nil {
			return err
		}
	}
	fmt.Printf("creating %d objects in %d namespaces ...\n", objects, nss)
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for range 16 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= objects {
					return
				}
				k := kinds[i%len(kinds)]
				obj := &unstructured.Unstructured{Object: k.make(i, i%5 == 0)}
				if _, err := c.Resource(k.gvr).Namespace(fmt.Sprintf("bench-%d", i%nss)).Create(ctx, obj, metav1.CreateOptions{}); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return fmt.Errorf("creating objects: %w", err)
	}
	fmt.Printf("created in %s\n", time.Since(start).Round(time.Second))

	kubeconfig := filepath.Join(os.TempDir(), fmt.Sprintf("bench-audit-%d.kubeconfig", os.Getpid()))
	if err := writeKubeconfig(env, kubeconfig); err != nil {
		return err
	}
	defer os.Remove(kubeconfig)
	for r := range runs * len(bins) {
		bin := bins[r%len(bins)]
		t0 := time.Now()
		cmd := exec.Command("/usr/bin/time", "-f", "%M %U %S", bin, "audit", "--kubeconfig", kubeconfig, "-o", "json")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("audit: %w\n%s", err, stderr.String())
		}
		wall := time.Since(t0)
		var rss int
		var user, sys float64
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		if _, err := fmt.Sscanf(lines[len(lines)-1], "%d %f %f", &rss, &user, &sys); err != nil {
			return fmt.Errorf("reading /usr/bin/time's output %q: %w", lines[len(lines)-1], err)
		}
		audited := objectsOf(stdout.Bytes())
		fmt.Printf("run %d (%s): %d objects audited in %.2fs: %.0f objects/s, %.1fs of CPU, peak RSS %.0f MiB\n", r+1, bin, audited, wall.Seconds(), float64(audited)/wall.Seconds(), user+sys, float64(rss)/1024)
	}
	return split(ctx, c, runs)
}

// split measures apart, in this process, the two halves of an audit: listing
// the objects (the API server serialising pages, on the same cores, and
// client-go decoding them) and evaluating them (the engine alone, on
// GOMAXPROCS goroutines, the inventory set beforehand). Best of runs each.
func split(ctx context.Context, c dynamic.Interface, runs int) error {
	e, err := policy.New(ctx, policy.Options{})
	if err != nil {
		return err
	}
	gvrs := []schema.GroupVersionResource{{Version: "v1", Resource: "namespaces"}}
	for _, k := range kinds {
		gvrs = append(gvrs, k.gvr)
	}
	var objs []map[string]any
	bestList := time.Duration(1 << 62)
	for range runs {
		objs = objs[:0]
		t0 := time.Now()
		for _, gvr := range gvrs {
			cont := ""
			for {
				page, err := c.Resource(gvr).List(ctx, metav1.ListOptions{Limit: 500, Continue: cont})
				if err != nil {
					return err
				}
				for i := range page.Items {
					objs = append(objs, page.Items[i].Object)
				}
				if cont = page.GetContinue(); cont == "" {
					break
				}
			}
		}
		bestList = min(bestList, time.Since(t0))
	}
	inv := inventory.New()
	var values []ast.Value
	var refs []policy.ObjectRef
	for _, o := range objs {
		inv.Add(o)
		ref := policy.RefOf(o)
		if e.Covers(ref.GroupKind()) {
			v, err := ast.InterfaceToValue(o)
			if err != nil {
				return err
			}
			values, refs = append(values, v), append(refs, ref)
		}
	}
	if err := e.SetInventory(ctx, inv.Document()); err != nil {
		return err
	}
	workers := runtime.GOMAXPROCS(0)
	bestEval, bestCPU := time.Duration(1<<62), time.Duration(1<<62)
	for range runs {
		c0, t0 := cpuTime(), time.Now()
		var next atomic.Int64
		var wg sync.WaitGroup
		var evalErr atomic.Value
		for range workers {
			wg.Go(func() {
				for {
					i := int(next.Add(1)) - 1
					if i >= len(values) {
						return
					}
					if _, err := e.EvaluateInput(ctx, refs[i], policy.OpCreate, values[i]); err != nil {
						evalErr.CompareAndSwap(nil, err)
						return
					}
				}
			})
		}
		wg.Wait()
		if err, _ := evalErr.Load().(error); err != nil {
			return err
		}
		bestEval, bestCPU = min(bestEval, time.Since(t0)), min(bestCPU, cpuTime()-c0)
	}
	fmt.Printf("listing alone: %d objects (Namespaces included) in %.2fs: %.0f objects/s (API server, etcd and client-go decoding on the same cores)\n",
		len(objs), bestList.Seconds(), float64(len(objs))/bestList.Seconds())
	fmt.Printf("evaluation alone: %d objects in %.2fs on %d goroutines: %.0f objects/s evaluated, %.1f µs of CPU per object\n",
		len(values), bestEval.Seconds(), workers, float64(len(values))/bestEval.Seconds(), float64(bestCPU.Microseconds())/float64(len(values)))
	return nil
}

// cpuTime is the user and system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func objectsOf(b []byte) int {
	i := bytes.Index(b, []byte(`"objects": `))
	if i < 0 {
		return 0
	}
	rest := b[i+len(`"objects": `):]
	j := bytes.IndexAny(rest, ",\n}")
	n, _ := strconv.Atoi(string(rest[:j]))
	return n
}

func writeKubeconfig(env *testenv.Env, path string) error {
	cfg := env.Config
	kc := clientcmdapi.NewConfig()
	kc.Clusters["envtest"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData, Token: cfg.BearerToken}
	kc.Contexts["envtest"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "admin"}
	kc.CurrentContext = "envtest"
	return clientcmd.WriteToFile(*kc, path)
}
