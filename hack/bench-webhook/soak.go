package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/meshguard/meshguard/internal/loadtest"
)

type sample struct {
	at         time.Duration
	requests   uint64
	errors     int
	rssBytes   float64
	goroutines float64
}

// soak runs bin/webhook --standalone under a constant rate for duration and
// fails when a request fails, when the RSS at the end is more than 10% above
// the second sample (minute two: after warm-up), or when the goroutine count
// at the end is above the second sample's by more than max(10%, 5).
func soak(ctx context.Context, duration time.Duration, rate int, every time.Duration, out string) error {
	if _, err := os.Stat("bin/webhook"); err != nil {
		return errors.New("bin/webhook is missing: run `make build` first")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	reviews, err := loadtest.Reviews(".")
	if err != nil {
		return err
	}
	wh, err := startWebhook(ctx, out, "webhook-soak.log")
	if err != nil {
		return err
	}
	defer wh.stop()
	port, metrics, pool := wh.port, wh.metrics, wh.roots
	metricsURL := fmt.Sprintf("http://127.0.0.1:%d/metrics", metrics)
	fmt.Printf("soak: %d reviews/s for %s against bin/webhook --standalone (%d distinct AdmissionReviews, %d CPUs), sampling every %s\n",
		rate, duration, len(reviews), runtimeCPUs(), every)
	fmt.Printf("| at | requests | failed | RSS | goroutines |\n|---|---|---|---|---|\n")

	var mu sync.Mutex
	var samples []sample
	var scrapeErrs []string
	take := func(at time.Duration, r loadtest.Result) {
		fams, err := loadtest.Scrape(metricsURL)
		if err != nil {
			mu.Lock()
			scrapeErrs = append(scrapeErrs, err.Error())
			mu.Unlock()
			return
		}
		rss, _ := loadtest.Value(fams, "process_resident_memory_bytes")
		g, _ := loadtest.Value(fams, "go_goroutines")
		s := sample{at: at, requests: r.Requests, errors: len(r.Errors), rssBytes: rss, goroutines: g}
		mu.Lock()
		samples = append(samples, s)
		mu.Unlock()
		fmt.Printf("| %s | %d | %d | %.1f MiB | %.0f |\n", at.Round(time.Second), s.requests, s.errors, rss/(1<<20), g)
	}
	begin := time.Now()
	r := loadtest.Attack(ctx, loadtest.Options{
		Name: "soak", URL: fmt.Sprintf("https://127.0.0.1:%d/validate", port), Reviews: reviews,
		Rate: rate, Workers: 128, MaxWorkers: 128, Duration: duration,
		TLS:      &tls.Config{RootCAs: pool, ServerName: "localhost"},
		Interval: every, Every: func(r loadtest.Result) { take(time.Since(begin), r) },
	})
	take(time.Since(begin), r)
	if ctx.Err() != nil {
		return ctx.Err()
	}

	fmt.Printf("\ntotal %d requests, %.0f reviews/s achieved, p50 %s, p99 %s, p99.9 %s, %d allowed / %d denied, %d failed\n",
		r.Requests, r.Throughput, ms(r.P50), ms(r.P99), ms(r.P999), r.Allowed, r.Denied, len(r.Errors))
	var broken []string
	if len(r.Errors) > 0 {
		broken = append(broken, fmt.Sprintf("%d failed requests (status codes %v), first: %s", len(r.Errors), r.StatusCodes, strings.Join(first(r.Errors, 5), "; ")))
	}
	if len(scrapeErrs) > 0 {
		broken = append(broken, fmt.Sprintf("%d scrapes of /metrics failed: %s", len(scrapeErrs), scrapeErrs[0]))
	}
	if r.Throughput < 0.95*float64(rate) {
		broken = append(broken, fmt.Sprintf("the load fell behind: %.0f reviews/s achieved of %d", r.Throughput, rate))
	}
	if len(samples) < 3 {
		broken = append(broken, fmt.Sprintf("only %d samples: run for at least three sample intervals", len(samples)))
	} else {
		ref, last := samples[1], samples[len(samples)-1]
		growth := (last.rssBytes - ref.rssBytes) / ref.rssBytes
		fmt.Printf("RSS: %.1f MiB at %s, %.1f MiB at the end (%+.1f%%; bound +10%%)\n", ref.rssBytes/(1<<20), ref.at.Round(time.Second), last.rssBytes/(1<<20), growth*100)
		if growth > 0.10 {
			broken = append(broken, fmt.Sprintf("RSS grew %.1f%% from the second sample", growth*100))
		}
		slack := math.Max(5, 0.10*ref.goroutines)
		fmt.Printf("goroutines: %.0f at %s, %.0f at the end (bound +%.0f)\n", ref.goroutines, ref.at.Round(time.Second), last.goroutines, slack)
		if last.goroutines > ref.goroutines+slack {
			broken = append(broken, fmt.Sprintf("goroutines grew from %.0f to %.0f", ref.goroutines, last.goroutines))
		}
	}
	if len(broken) > 0 {
		return fmt.Errorf("soak failed:\n  %s", strings.Join(broken, "\n  "))
	}
	fmt.Println("soak passed: no failed request, RSS and goroutines within their bounds")
	return nil
}
