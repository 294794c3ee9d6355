//go:build e2e

package e2e

import (
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/meshguard/meshguard/pkg/audit"
	"github.com/meshguard/meshguard/pkg/policy"
	"github.com/meshguard/meshguard/pkg/report"
)

var policyReportsGVR = schema.GroupVersionResource{Group: "wgpolicyk8s.io", Version: "v1alpha2", Resource: "policyreports"}

// Violations that exist already (created where the webhook does not look)
// are found by a live audit, and PolicyReports are kept current.
func TestLiveAudit(t *testing.T) {
	ns := namespace(t, map[string]any{"meshguard.io/ignore": "true", "istio-injection": "enabled"})
	for _, src := range []struct {
		gvr schema.GroupVersionResource
		obj string
	}{
		{peerAuthentications, "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default}\nspec:\n  mtls: {mode: PERMISSIVE}\n"},
		{virtualServices, "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: r}\nspec:\n  hosts: [r]\n  http:\n  - route:\n    - destination: {host: r}\n"},
		{deployments, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: web:1}]\n"},
	} {
		_, _, err := create(t, src.gvr, ns, src.obj, metav1.CreateOptions{})
		require.NoError(t, err)
	}
	e, err := policy.New(t.Context(), policy.Options{})
	require.NoError(t, err)
	r, err := audit.Live(t.Context(), e, env.Config, "envtest", audit.Options{Namespaces: []string{ns}, PageSize: 1})
	require.NoError(t, err)
	var rules []string
	for _, res := range r.Results {
		assert.Equal(t, ns, res.Object.Namespace, "-n keeps the audit to the namespace")
		for _, f := range res.Findings {
			rules = append(rules, f.Rule)
		}
	}
	assert.ElementsMatch(t, []string{"ISTIO-MTLS-001", "ISTIO-TRAFFIC-001", "ISTIO-RES-001", "ISTIO-INJ-004"}, rules, "page size 1 still sees every object")
	assert.Equal(t, 4, r.Summary.Objects, "the three objects and the allow-nothing policy the defaults controller added")
	assert.Equal(t, 1, r.Audit.Totals.ByRule["ISTIO-MTLS-001"])

	a, err := audit.Apply(t.Context(), env.Config, r)
	require.NoError(t, err)
	assert.Equal(t, 1, a.Created)
	c, _ := client(t)
	pr, err := c.Resource(policyReportsGVR).Namespace(ns).Get(t.Context(), report.PolicyReportName, metav1.GetOptions{})
	require.NoError(t, err)
	results, _ := pr.Object["results"].([]any)
	assert.Len(t, results, 4)

	// Fix everything: the next apply removes the now stale report.
	for _, gvr := range []schema.GroupVersionResource{peerAuthentications, virtualServices, deployments} {
		l, err := c.Resource(gvr).Namespace(ns).List(t.Context(), metav1.ListOptions{})
		require.NoError(t, err)
		for _, u := range l.Items {
			require.NoError(t, c.Resource(gvr).Namespace(ns).Delete(t.Context(), u.GetName(), metav1.DeleteOptions{}))
		}
	}
	time.Sleep(200 * time.Millisecond)
	r, err = audit.Live(t.Context(), e, env.Config, "envtest", audit.Options{Namespaces: []string{ns}})
	require.NoError(t, err)
	assert.Empty(t, r.Results)
	a, err = audit.Apply(t.Context(), env.Config, r)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, a.Deleted, 1)
	_, err = c.Resource(policyReportsGVR).Namespace(ns).Get(t.Context(), report.PolicyReportName, metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "the stale report is removed: %v", err)
}

// The in-cluster periodic audit keeps the findings metric and the
// PolicyReports current.
func TestPeriodicAudit(t *testing.T) {
	ns := namespace(t, map[string]any{"meshguard.io/ignore": "true"})
	_, _, err := create(t, peerAuthentications, ns, "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default}\nspec:\n  mtls: {mode: DISABLE}\n", metav1.CreateOptions{})
	require.NoError(t, err)
	e, err := policy.New(t.Context(), policy.Options{})
	require.NoError(t, err)
	reg := prometheus.NewRegistry()
	gauge, err := audit.NewFindingsGauge(reg)
	require.NoError(t, err)
	p := &audit.Periodic{Engine: func() *policy.Engine { return e }, Config: env.Config, Interval: time.Hour, Log: logr.Discard(), Findings: gauge, Apply: true}
	p.Once(t.Context())
	assert.InDelta(t, 1, testutil.ToFloat64(gauge.WithLabelValues("ISTIO-MTLS-001", ns, "critical", "deny")), 0)
	c, _ := client(t)
	_, err = c.Resource(policyReportsGVR).Namespace(ns).Get(t.Context(), report.PolicyReportName, metav1.GetOptions{})
	require.NoError(t, err, "the PolicyReport is written")
}
