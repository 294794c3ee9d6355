package audit

import (
	"context"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/rest"

	"github.com/meshguard/meshguard/pkg/policy"
	"github.com/meshguard/meshguard/pkg/report"
)

// Periodic audits the cluster every Interval and keeps meshguard's
// PolicyReports current; it runs in the webhook binary, leader-elected,
// never on the admission path. It has an engine of its own, so its
// inventory snapshots never disturb the webhook's.
type Periodic struct {
	// Engine returns the engine of the next run: the webhook's reloads give
	// the audit a new one with each new bundle.
	Engine   func() *policy.Engine
	Config   *rest.Config
	Interval time.Duration
	Log      logr.Logger
	// Findings is meshguard_audit_findings{rule,namespace,severity,action}.
	Findings *prometheus.GaugeVec
	// Apply writes PolicyReports (needs the wgpolicyk8s.io CRDs); without it
	// only the metric is kept.
	Apply bool
}

// NewFindingsGauge creates and registers meshguard_audit_findings.
func NewFindingsGauge(reg prometheus.Registerer) (*prometheus.GaugeVec, error) {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "meshguard_audit_findings",
		Help: "Findings of the last in-cluster audit, by rule, namespace, severity and action.",
	}, []string{"rule", "namespace", "severity", "action"})
	return g, reg.Register(g)
}

// Start audits at once, then every Interval, until ctx ends.
func (p *Periodic) Start(ctx context.Context) error {
	t := time.NewTicker(p.Interval)
	defer t.Stop()
	for {
		p.Once(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Once runs one audit; errors are logged (the next run tries again).
func (p *Periodic) Once(ctx context.Context) {
	start := time.Now()
	// One worker: the webhook's own requests keep the other cores.
	r, err := Live(ctx, p.Engine(), p.Config, "in-cluster", Options{Workers: 1})
	if err != nil {
		p.Log.Error(err, "audit failed")
		return
	}
	if p.Findings != nil {
		p.Findings.Reset()
		for _, res := range r.Results {
			ns := res.Object.Namespace
			if ns == "" {
				ns = report.ClusterScope
			}
			for _, f := range res.Findings {
				p.Findings.WithLabelValues(f.Rule, ns, f.Severity, string(f.Action)).Inc()
			}
		}
	}
	kv := []any{"objects", r.Summary.Objects, "deny", r.Summary.Deny, "warn", r.Summary.Warn, "audit", r.Summary.Audit, "exempted", r.Summary.Exempted, "duration", time.Since(start).String()}
	if p.Apply {
		a, err := Apply(ctx, p.Config, r)
		if err != nil {
			p.Log.Error(err, "writing PolicyReports failed")
		} else {
			kv = append(kv, "reportsCreated", a.Created, "reportsUpdated", a.Updated, "reportsRemoved", a.Deleted)
		}
	}
	p.Log.Info("audit done", kv...)
}
