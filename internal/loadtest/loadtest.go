// Package loadtest drives the webhook with vegeta: AdmissionReviews built
// from the fixtures and examples, an attack whose every answer is checked
// (an AdmissionReview response, allowed or a 403 denial), and scrapes of the
// webhook's Prometheus metrics. hack/bench-webhook (make bench-webhook, make
// soak) and the fault tests under load use it.
package loadtest

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/meshguard/meshguard/pkg/manifest"
)

// Review is one AdmissionReview request body.
type Review struct {
	Body []byte
	Kind string
}

// Reviews makes CREATE AdmissionReviews of every fixture object
// (root/test/policies) and example (root/examples), plus one ConfigMap and
// one Service (kinds no rule covers) for every four covered objects.
func Reviews(root string) ([]Review, error) {
	files, errs := manifest.Expand([]string{filepath.Join(root, "test/policies"), filepath.Join(root, "examples")})
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s: %s", errs[0].File, errs[0].Message)
	}
	var out []Review
	var covered int
	for _, f := range files {
		if !strings.HasSuffix(f, ".yaml") || strings.HasSuffix(f, "expected.yaml") {
			continue
		}
		file := manifest.ReadFile(f, nil)
		for _, d := range file.Docs {
			r, err := ReviewOf(d.Object, len(out))
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %w", d.File, d.Line, err)
			}
			out = append(out, r)
			covered++
		}
	}
	for i := 0; i < covered/4; i++ {
		cm := map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": fmt.Sprintf("cm-%d", i), "namespace": "shop"}, "data": map[string]any{"key": strings.Repeat("v", 200)}}
		svc := map[string]any{"apiVersion": "v1", "kind": "Service", "metadata": map[string]any{"name": fmt.Sprintf("svc-%d", i), "namespace": "shop"}, "spec": map[string]any{"ports": []any{map[string]any{"port": 80}}}}
		for _, o := range []map[string]any{cm, svc} {
			r, err := ReviewOf(o, len(out))
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// ReviewOf is the CREATE AdmissionReview of obj; n makes its uid.
func ReviewOf(obj map[string]any, n int) (Review, error) {
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	group, version := "", apiVersion
	if i := strings.IndexByte(apiVersion, '/'); i >= 0 {
		group, version = apiVersion[:i], apiVersion[i+1:]
	}
	md, _ := obj["metadata"].(map[string]any)
	ns, _ := md["namespace"].(string)
	name, _ := md["name"].(string)
	raw, err := json.Marshal(obj)
	if err != nil {
		return Review{}, err
	}
	body, err := json.Marshal(map[string]any{
		"apiVersion": "admission.k8s.io/v1",
		"kind":       "AdmissionReview",
		"request": map[string]any{
			"uid":       fmt.Sprintf("00000000-0000-0000-0000-%012d", n),
			"kind":      map[string]any{"group": group, "version": version, "kind": kind},
			"resource":  map[string]any{"group": group, "version": version, "resource": strings.ToLower(kind) + "s"},
			"namespace": ns,
			"name":      name,
			"operation": "CREATE",
			"userInfo":  map[string]any{"username": "bench"},
			"object":    json.RawMessage(raw),
		},
	})
	return Review{Body: body, Kind: kind}, err
}

// Options of an attack.
type Options struct {
	Name    string
	URL     string
	Reviews []Review
	// Rate is requests per second; 0 sends as fast as Workers allow.
	Rate int
	// Workers is the number of concurrent requests (and connections); with a
	// Rate, up to MaxWorkers when they fall behind (default Workers).
	Workers, MaxWorkers int
	Duration            time.Duration
	TLS                 *tls.Config // nil: plain HTTP
	// NoKeepAlive makes every request a new connection (and TLS handshake).
	NoKeepAlive bool
	// Stop, when closed, ends the attack early: no new request is sent, the
	// ones in flight finish and are counted (what a client does once the
	// endpoint is removed).
	Stop <-chan struct{}
	// Every, when set, is called with the result so far every Interval.
	Every    func(Result)
	Interval time.Duration
}

// Result of an attack. Errors are the failed requests: a transport error,
// an HTTP status other than 200, or an answer that is not an AdmissionReview
// response that allows or denies with 403.
type Result struct {
	Requests        uint64
	Throughput      float64
	P50, P99, P999  time.Duration
	Errors          []string
	Denied, Allowed int
	StatusCodes     map[string]int
}

// Attack runs the attack until Duration ends, Stop is closed or ctx ends.
func Attack(ctx context.Context, o Options) Result {
	targets := make([]vegeta.Target, len(o.Reviews))
	header := http.Header{"Content-Type": []string{"application/json"}}
	for i, r := range o.Reviews {
		targets[i] = vegeta.Target{Method: http.MethodPost, URL: o.URL, Body: r.Body, Header: header}
	}
	maxWorkers := o.MaxWorkers
	if maxWorkers < o.Workers {
		maxWorkers = o.Workers
	}
	opts := []func(*vegeta.Attacker){
		vegeta.Workers(uint64(o.Workers)), vegeta.MaxWorkers(uint64(maxWorkers)),
		vegeta.Connections(maxWorkers), vegeta.KeepAlive(!o.NoKeepAlive), vegeta.Timeout(10 * time.Second),
	}
	if o.TLS != nil {
		opts = append(opts, vegeta.TLSConfig(o.TLS))
	}
	attacker := vegeta.NewAttacker(opts...)
	rate := vegeta.Rate{Freq: o.Rate, Per: time.Second}
	if o.Rate == 0 {
		rate = vegeta.Rate{Freq: 0}
	}
	stopped := make(chan struct{})
	defer close(stopped)
	go func() {
		select {
		case <-ctx.Done():
		case <-o.Stop:
		case <-stopped:
			return
		}
		attacker.Stop()
	}()

	var mu sync.Mutex
	var m vegeta.Metrics
	res := Result{StatusCodes: map[string]int{}}
	snapshot := func() Result {
		mu.Lock()
		defer mu.Unlock()
		s := res
		s.Errors = append([]string(nil), res.Errors...)
		s.Requests = uint64(res.Allowed+res.Denied) + uint64(len(res.Errors))
		return s
	}
	done := make(chan struct{})
	var every sync.WaitGroup
	if o.Every != nil && o.Interval > 0 {
		t := time.NewTicker(o.Interval)
		defer t.Stop()
		every.Go(func() {
			for {
				select {
				case <-done:
					return
				case <-t.C:
					o.Every(snapshot())
				}
			}
		})
	}
	for r := range attacker.Attack(vegeta.NewStaticTargeter(targets...), rate, o.Duration, o.Name) {
		mu.Lock()
		m.Add(r)
		judge(&res, r)
		mu.Unlock()
	}
	close(done)
	every.Wait() // no sample after the attack returns
	m.Close()
	res.Requests = m.Requests
	res.Throughput = m.Throughput
	res.P50, res.P99, res.P999 = m.Latencies.P50, m.Latencies.P99, m.Latencies.Quantile(0.999)
	res.StatusCodes = m.StatusCodes
	return res
}

func judge(res *Result, r *vegeta.Result) {
	if r.Error != "" || r.Code != http.StatusOK {
		res.Errors = append(res.Errors, fmt.Sprintf("%d %s", r.Code, r.Error))
		return
	}
	var ar struct {
		Response *struct {
			Allowed bool `json:"allowed"`
			Status  *struct {
				Code int `json:"code"`
			} `json:"status"`
		} `json:"response"`
	}
	if err := json.Unmarshal(r.Body, &ar); err != nil || ar.Response == nil {
		res.Errors = append(res.Errors, "the answer is not an AdmissionReview response")
		return
	}
	switch {
	case ar.Response.Allowed:
		res.Allowed++
	case ar.Response.Status != nil && ar.Response.Status.Code == http.StatusForbidden:
		res.Denied++
	default:
		body := string(r.Body)
		if len(body) > 300 {
			body = body[:300]
		}
		res.Errors = append(res.Errors, "not allowed and not a 403 denial: "+body)
	}
}

// Scrape reads a Prometheus text endpoint.
func Scrape(url string) (map[string]*dto.MetricFamily, error) {
	resp, err := http.Get(url) //nolint:gosec // loopback URLs of the caller's own server
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", url, resp.Status)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return nil, err
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	return parser.TextToMetricFamilies(&buf)
}

// Value is the value of an unlabelled gauge or counter, and whether it is
// there.
func Value(fams map[string]*dto.MetricFamily, name string) (float64, bool) {
	f := fams[name]
	if f == nil || len(f.GetMetric()) == 0 {
		return 0, false
	}
	m := f.GetMetric()[0]
	switch {
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue(), true
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue(), true
	case m.GetUntyped() != nil:
		return m.GetUntyped().GetValue(), true
	}
	return 0, false
}
