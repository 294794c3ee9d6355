package admission

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meshguard/meshguard/pkg/policy"
)

// Metrics are the webhook's meshguard_* Prometheus metrics.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	findings *prometheus.CounterVec
	mutated  *prometheus.CounterVec
	bundle   *prometheus.GaugeVec
	// reloadErrors and reloadOK follow the webhook's policy reloads.
	reloadErrors prometheus.Counter
	reloadOK     prometheus.Gauge
}

// NewMetrics creates the metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "meshguard_admission_requests_total",
			Help: "Admission requests by webhook (validate, mutate), kind (Kind.group) and verdict.",
		}, []string{"webhook", "kind", "verdict"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "meshguard_admission_request_duration_seconds",
			Help:    "Time to decide an admission request, from decoded request to response, by webhook, kind and verdict.",
			Buckets: []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5},
		}, []string{"webhook", "kind", "verdict"}),
		findings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "meshguard_admission_findings_total",
			Help: "Findings at admission by rule and action (deny, warn, audit).",
		}, []string{"rule", "action"}),
		mutated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "meshguard_admission_mutations_total",
			Help: "Objects changed by the mutating webhook, by the rule that changed them.",
		}, []string{"rule"}),
		bundle: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "meshguard_bundle_info",
			Help: "The policy bundle being served (value 1, revision label).",
		}, []string{"revision"}),
		reloadErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "meshguard_bundle_reload_errors_total",
			Help: "Policy reloads that failed (the last good bundle kept serving).",
		}),
		reloadOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "meshguard_bundle_last_reload_success",
			Help: "1 when the last load of the policies succeeded, 0 when it failed and an older bundle serves.",
		}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.findings, m.mutated, m.bundle, m.reloadErrors, m.reloadOK} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// SetBundle records the revision being served.
func (m *Metrics) SetBundle(revision string) {
	m.bundle.Reset()
	m.bundle.WithLabelValues(revision).Set(1)
}

// Reloaded records a load of the policies: ok false counts an error.
func (m *Metrics) Reloaded(ok bool) {
	if ok {
		m.reloadOK.Set(1)
		return
	}
	m.reloadErrors.Inc()
	m.reloadOK.Set(0)
}

func (m *Metrics) observe(d decision, kind string, latency time.Duration) {
	m.requests.WithLabelValues(d.webhook, kind, d.verdict).Inc()
	m.duration.WithLabelValues(d.webhook, kind, d.verdict).Observe(latency.Seconds())
	for _, f := range d.findings {
		if f.Action != policy.ActionExempted {
			m.findings.WithLabelValues(f.Rule, string(f.Action)).Inc()
		}
	}
	for _, r := range d.mutated {
		m.mutated.WithLabelValues(r).Inc()
	}
}
