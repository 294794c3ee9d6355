// Command bench-webhook measures the webhook under load (`make
// bench-webhook`): bin/webhook --standalone over HTTPS on loopback, then OPA's
// server (`opa run --server`, plain HTTP) evaluating the same bundle, each
// driven by vegeta at a fixed concurrency for the same time with the same
// AdmissionReviews, built from the fixtures in test/policies and examples/
// plus a share of kinds no rule covers. It prints throughput, client-side
// latency quantiles, the webhook's server-side p99 (from its Prometheus
// histogram) and peak RSS, and exits non-zero when any request failed.
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/meshguard/meshguard/internal/loadtest"
	"github.com/meshguard/meshguard/internal/testutil"
)

func main() {
	duration := flag.Duration("duration", 60*time.Second, "load duration per server")
	concurrency := flag.Int("concurrency", 32, "concurrent requests (vegeta workers)")
	skipOPA := flag.Bool("skip-opa", false, "measure only the webhook")
	out := flag.String("out", "out/bench-webhook", "directory for logs and certificates")
	soakMode := flag.Bool("soak", false, "soak instead: -rate reviews/s for -duration (default 10m) against the webhook only, sampling RSS and goroutines every -sample; fails on any error, RSS growth over 10% from the second sample, or goroutine growth")
	rate := flag.Int("rate", 1000, "with -soak: reviews per second")
	sample := flag.Duration("sample", time.Minute, "with -soak: how often /metrics is scraped")
	flag.Parse()
	if *soakMode && !flagSet("duration") {
		*duration = 10 * time.Minute
	}
	if d := os.Getenv("DURATION"); d != "" {
		v, err := time.ParseDuration(d)
		if err != nil {
			fail(fmt.Errorf("DURATION=%q: %w", d, err))
		}
		*duration = v
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if *soakMode {
		err = soak(ctx, *duration, *rate, *sample, *out)
	} else {
		err = run(ctx, *duration, *concurrency, *skipOPA, *out)
	}
	if err != nil {
		fail(err)
	}
}

func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench-webhook:", err)
	os.Exit(1)
}

type result struct {
	name                string
	requests            uint64
	throughput          float64
	p50, p99, p999      time.Duration
	serverP99           float64 // seconds; NaN when unknown
	rssKiB              int
	errors              []string
	denied, allowed     int
	statusCodes         map[string]int
	transport, protocol string
}

func run(ctx context.Context, duration time.Duration, concurrency int, skipOPA bool, out string) error {
	for _, b := range []string{"bin/webhook", "bin/opa"} {
		if _, err := os.Stat(b); err != nil {
			return fmt.Errorf("%s is missing: run `make build tools` first", b)
		}
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	reviews, err := loadtest.Reviews(".")
	if err != nil {
		return err
	}
	fmt.Printf("%d distinct AdmissionReviews, %d concurrent, %s per server, %d CPUs\n", len(reviews), concurrency, duration, runtimeCPUs())

	var results []result
	wh, err := startWebhook(ctx, out, "webhook.log")
	if err != nil {
		return err
	}
	defer wh.stop()
	port, metrics, pool := wh.port, wh.metrics, wh.roots
	before, err := scrape(fmt.Sprintf("http://127.0.0.1:%d/metrics", metrics))
	if err != nil {
		return err
	}
	r := attack(ctx, "meshguard webhook", fmt.Sprintf("https://127.0.0.1:%d/validate", port), reviews, concurrency, duration, &tls.Config{RootCAs: pool, ServerName: "localhost"})
	after, err := scrape(fmt.Sprintf("http://127.0.0.1:%d/metrics", metrics))
	if err != nil {
		return err
	}
	r.serverP99 = histogramQuantile(0.99, before, after)
	r.rssKiB = peakRSS(wh.cmd.Process.Pid)
	r.transport = "HTTPS (TLS 1.3), metrics and decision log on"
	wh.stop()
	results = append(results, r)

	if !skipOPA {
		oport := freePort()
		opa, err := startProcess(ctx, filepath.Join(out, "opa.log"), "bin/opa", "run", "--server", "--addr", "127.0.0.1:"+strconv.Itoa(oport),
			"--log-level", "error", "policies", "hack/bench-webhook/opa")
		if err != nil {
			return err
		}
		defer opa.stop()
		if err := waitHTTP(ctx, fmt.Sprintf("http://127.0.0.1:%d/health", oport), opa); err != nil {
			return fmt.Errorf("opa: %w (log: %s)", err, filepath.Join(out, "opa.log"))
		}
		r := attack(ctx, "opa run --server", fmt.Sprintf("http://127.0.0.1:%d/", oport), reviews, concurrency, duration, nil)
		r.serverP99 = math.NaN()
		r.rssKiB = peakRSS(opa.cmd.Process.Pid)
		r.transport = "plain HTTP, decision logs off"
		opa.stop()
		results = append(results, r)
	}

	fmt.Println()
	fmt.Printf("| server | transport | requests | reviews/s | p50 | p99 | p99.9 | server p99 | peak RSS | denied / allowed |\n|---|---|---|---|---|---|---|---|---|---|\n")
	var failed bool
	for _, r := range results {
		sp := "n/a"
		if !math.IsNaN(r.serverP99) {
			sp = fmt.Sprintf("≤ %.2f ms", r.serverP99*1000)
		}
		fmt.Printf("| %s | %s | %d | %.0f | %s | %s | %s | %s | %.0f MiB | %d / %d |\n", r.name, r.transport, r.requests, r.throughput,
			ms(r.p50), ms(r.p99), ms(r.p999), sp, float64(r.rssKiB)/1024, r.denied, r.allowed)
		if len(r.errors) > 0 {
			failed = true
			fmt.Printf("\n!!! %s: %d failed requests, status codes %v, first errors: %s\n", r.name, len(r.errors), r.statusCodes, strings.Join(first(r.errors, 5), "; "))
		}
	}
	if failed {
		return errors.New("requests failed (see above)")
	}
	return nil
}

func first(ss []string, n int) []string {
	if len(ss) > n {
		return ss[:n]
	}
	return ss
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func runtimeCPUs() int {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return 0
	}
	return strings.Count(string(b), "processor\t:")
}

func attack(ctx context.Context, name, url string, reviews []loadtest.Review, concurrency int, duration time.Duration, tlsc *tls.Config) result {
	fmt.Printf("load: %s for %s ...\n", name, duration)
	r := loadtest.Attack(ctx, loadtest.Options{Name: name, URL: url, Reviews: reviews, Workers: concurrency, Duration: duration, TLS: tlsc})
	return result{name: name, requests: r.Requests, throughput: r.Throughput, p50: r.P50, p99: r.P99, p999: r.P999,
		errors: r.Errors, denied: r.Denied, allowed: r.Allowed, statusCodes: r.StatusCodes}
}

type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// webhook is bin/webhook --standalone on loopback ports, serving a
// certificate of a fresh CA (roots) from out/certs.
type webhook struct {
	*proc
	port, metrics int
	roots         *x509.CertPool
}

// startWebhook starts bin/webhook and waits until it is ready; its log goes
// to out/logName.
func startWebhook(ctx context.Context, out, logName string) (*webhook, error) {
	certDir := filepath.Join(out, "certs")
	_ = os.RemoveAll(certDir)
	if err := os.MkdirAll(certDir, 0o700); err != nil {
		return nil, err
	}
	ca, err := testutil.NewCA()
	if err != nil {
		return nil, err
	}
	if _, err := ca.WriteServing(certDir); err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	port, health, metrics := freePort(), freePort(), freePort()
	logFile := filepath.Join(out, logName)
	p, err := startProcess(ctx, logFile, "bin/webhook", "--standalone", "--cert-dir", certDir,
		"--host", "127.0.0.1", "--port", strconv.Itoa(port),
		"--health-probe-bind-address", "127.0.0.1:"+strconv.Itoa(health),
		"--metrics-bind-address", "127.0.0.1:"+strconv.Itoa(metrics), "--log-format", "json")
	if err != nil {
		return nil, err
	}
	if err := waitHTTP(ctx, fmt.Sprintf("http://127.0.0.1:%d/readyz", health), p); err != nil {
		p.stop()
		return nil, fmt.Errorf("webhook: %w (log: %s)", err, logFile)
	}
	return &webhook{proc: p, port: port, metrics: metrics, roots: pool}, nil
}

func startProcess(ctx context.Context, logFile, name string, args ...string) (*proc, error) {
	f, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); f.Close(); close(p.done) }()
	go func() {
		select {
		case <-ctx.Done():
			p.stop()
		case <-p.done:
		}
	}()
	return p, nil
}

// stop sends SIGTERM and waits (SIGKILL after 30 s).
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func waitHTTP(ctx context.Context, url string, p *proc) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.done:
			return errors.New("the process exited before it was ready")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s not ready within 30s", url)
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func peakRSS(pid int) int {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kib, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return kib
		}
	}
	return 0
}

func scrape(url string) (map[string]*dto.MetricFamily, error) { return loadtest.Scrape(url) }

// histogramQuantile is the q-quantile of the validate webhook's request
// duration between two scrapes (upper bound of the bucket it falls in,
// interpolated linearly as Prometheus does).
func histogramQuantile(q float64, before, after map[string]*dto.MetricFamily) float64 {
	const name = "meshguard_admission_request_duration_seconds"
	sum := func(fams map[string]*dto.MetricFamily) (map[float64]uint64, uint64) {
		buckets := map[float64]uint64{}
		var count uint64
		f := fams[name]
		if f == nil {
			return buckets, 0
		}
		for _, m := range f.GetMetric() {
			validate := false
			for _, l := range m.GetLabel() {
				if l.GetName() == "webhook" && l.GetValue() == "validate" {
					validate = true
				}
			}
			if !validate {
				continue
			}
			for _, b := range m.GetHistogram().GetBucket() {
				buckets[b.GetUpperBound()] += b.GetCumulativeCount()
			}
			count += m.GetHistogram().GetSampleCount()
		}
		return buckets, count
	}
	b0, c0 := sum(before)
	b1, c1 := sum(after)
	total := c1 - c0
	if total == 0 {
		return math.NaN()
	}
	var bounds []float64
	for ub := range b1 {
		bounds = append(bounds, ub)
	}
	sort.Float64s(bounds)
	rank := q * float64(total)
	prevBound, prevCount := 0.0, 0.0
	for _, ub := range bounds {
		c := float64(b1[ub] - b0[ub])
		if c >= rank {
			if c == prevCount {
				return ub
			}
			return prevBound + (ub-prevBound)*(rank-prevCount)/(c-prevCount)
		}
		prevBound, prevCount = ub, c
	}
	return math.Inf(1)
}
