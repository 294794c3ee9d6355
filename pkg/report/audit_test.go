package report_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/meshguard/meshguard/pkg/policy"
	"github.com/meshguard/meshguard/pkg/report"
)

func auditReport() *report.Report {
	f := func(rule, sev string, action policy.Action) policy.Finding {
		return policy.Finding{Rule: rule, Version: "1.0.0", Severity: sev, Action: action, Message: rule + " message <b>not html</b>", Path: "spec.x", Remediation: "Fix it.\nMore."}
	}
	ex := f("ISTIO-MTLS-001", "high", policy.ActionExempted)
	ex.Exemption = &policy.Exemption{Reason: "migration TICKET-1", Until: "2026-12-31", From: "namespace legacy"}
	r := &report.Report{
		Bundle: report.Bundle{Revision: "2026.11.0"},
		Results: []report.Result{
			{Object: policy.ObjectRef{APIVersion: "security.istio.io/v1", Kind: "PeerAuthentication", Namespace: "shop", Name: "default"}, Findings: []policy.Finding{f("ISTIO-MTLS-001", "high", policy.ActionDeny)}},
			{Object: policy.ObjectRef{APIVersion: "networking.istio.io/v1", Kind: "VirtualService", Namespace: "shop", Name: "r"}, Findings: []policy.Finding{f("ISTIO-TRAFFIC-001", "medium", policy.ActionDeny), f("ISTIO-TRAFFIC-002", "medium", policy.ActionWarn)}},
			{Object: policy.ObjectRef{APIVersion: "security.istio.io/v1", Kind: "PeerAuthentication", Namespace: "legacy", Name: "default"}, Findings: []policy.Finding{ex}},
			{Object: policy.ObjectRef{APIVersion: "v1", Kind: "Namespace", Name: "shop"}, Findings: []policy.Finding{f("ISTIO-AUTHZ-004", "high", policy.ActionAudit)}},
		},
	}
	r.Tally()
	r.Audit = &report.Audit{Source: "context kind-test (https://127.0.0.1:6443)", Time: time.Date(2026, 11, 22, 15, 0, 0, 0, time.UTC), Notes: []string{"Server.policy.linkerd.io is not served by this cluster (its CRD is absent): skipped"}}
	r.ComputeTotals([]*policy.Rule{{ID: "ISTIO-MTLS-001", Title: "PeerAuthentication must not weaken mTLS", Severity: "high", Remediation: "Set STRICT."}})
	return r
}

func TestTotals(t *testing.T) {
	r := auditReport()
	tt := r.Audit.Totals
	assert.Equal(t, map[string]int{"ISTIO-MTLS-001": 1, "ISTIO-TRAFFIC-001": 1, "ISTIO-TRAFFIC-002": 1, "ISTIO-AUTHZ-004": 1}, tt.ByRule)
	assert.Equal(t, map[string]int{"shop": 3, report.ClusterScope: 1}, tt.ByNamespace, "exempted findings are counted apart")
	assert.Equal(t, map[string]int{"high": 2, "medium": 2}, tt.BySeverity)
	assert.Equal(t, 1, tt.Exempted)
	assert.Equal(t, map[string]int{"high": 1, "medium": 2}, tt.NamespaceSeverity["shop"])
	assert.Equal(t, "PeerAuthentication must not weaken mTLS", r.Audit.Rules["ISTIO-MTLS-001"].Title)
	assert.Equal(t, []string{"shop", report.ClusterScope}, report.Ranked(tt.ByNamespace))
}

func TestMarkdown(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, report.Markdown(&b, auditReport()))
	md := b.String()
	for _, want := range []string{"# meshguard audit", "Source: context kind-test", "Bundle: 2026.11.0", "| high | 2 |", "| ISTIO-MTLS-001 | PeerAuthentication must not weaken mTLS | 1 |", "## Exempted", "migration TICKET-1", "> Server.policy.linkerd.io is not served"} {
		assert.Contains(t, md, want)
	}
	assert.NotContains(t, md, "<b>", "markup in messages is escaped")
}

func TestPolicyReports(t *testing.T) {
	prs := report.PolicyReports(auditReport())
	require.Len(t, prs, 3)
	kinds := map[string]map[string]any{}
	for _, pr := range prs {
		md := pr["metadata"].(map[string]any)
		ns, _ := md["namespace"].(string)
		kinds[pr["kind"].(string)+"/"+ns] = pr
		assert.Equal(t, "wgpolicyk8s.io/v1alpha2", pr["apiVersion"])
		assert.Equal(t, "meshguard", md["labels"].(map[string]any)["app.kubernetes.io/managed-by"])
	}
	shop := kinds["PolicyReport/shop"]
	require.NotNil(t, shop)
	assert.Equal(t, map[string]int{"pass": 0, "fail": 2, "warn": 1, "error": 0, "skip": 0}, shop["summary"])
	legacy := kinds["PolicyReport/legacy"]
	require.NotNil(t, legacy)
	res := legacy["results"].([]any)[0].(map[string]any)
	assert.Equal(t, "skip", res["result"], "an exempted finding is a skip")
	assert.Equal(t, "migration TICKET-1", res["properties"].(map[string]any)["exemptReason"])
	require.NotNil(t, kinds["ClusterPolicyReport/"], "cluster-scoped objects go to a ClusterPolicyReport")

	var b bytes.Buffer
	require.NoError(t, report.PolicyReportYAML(&b, auditReport()))
	docs := strings.Split(b.String(), "---\n")
	var n int
	for _, d := range docs {
		if strings.TrimSpace(d) == "" {
			continue
		}
		var v map[string]any
		require.NoError(t, yaml.Unmarshal([]byte(d), &v))
		n++
	}
	assert.Equal(t, 3, n)
}

var externalRef = regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//|@import|url\(\s*["']?(https?:)?//`)

func TestHTMLIsSelfContained(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, report.HTML(&b, auditReport()))
	page := b.String()
	assert.False(t, externalRef.MatchString(page), "no external scripts, fonts, images or styles")
	for _, want := range []string{`<svg id="chart"`, `<table id="findings" class="sortable">`, `<table id="exempted"`, "2026.11.0", "2026-11-22T15:00:00Z", "migration TICKET-1", "Fix it."} {
		assert.Contains(t, page, want)
	}
	assert.NotContains(t, page, "<b>not html</b>", "messages are escaped")
}

// The page as a person sees it: rendered by headless Chromium with the
// network off, the chart and the tables are in the DOM after load and a
// screenshot is saved (go test -artifacts keeps it).
func TestHTMLInChromium(t *testing.T) {
	browser := ""
	for _, b := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(b); err == nil {
			browser = p
			break
		}
	}
	if browser == "" {
		if os.Getenv("MESHGUARD_REQUIRE_CHROMIUM") != "" {
			t.Fatal("chromium is not installed: `make chromium` installs Debian's package")
		}
		t.Skip("chromium is not installed (`make chromium`); make test installs it")
	}
	dir := t.ArtifactDir()
	page := filepath.Join(dir, "audit.html")
	var b bytes.Buffer
	require.NoError(t, report.HTML(&b, auditReport()))
	require.NoError(t, os.WriteFile(page, b.Bytes(), 0o644))

	// Every host resolves to nothing and the proxy is a closed port: any
	// network request would fail, and the page still has to be complete.
	common := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9", "--user-data-dir=" + filepath.Join(dir, "profile")}
	dom, err := exec.Command(browser, append(common, "--dump-dom", "file://"+page)...).Output()
	require.NoError(t, err)
	for _, want := range []string{`<svg id="chart"`, `<table id="findings"`, `class="bar"`, `ISTIO-TRAFFIC-001`} {
		assert.Contains(t, string(dom), want)
	}
	shot := filepath.Join(dir, "audit.png")
	out, err := exec.Command(browser, append(common, "--window-size=1280,1600", "--screenshot="+shot, "file://"+page)...).CombinedOutput()
	require.NoError(t, err, string(out))
	st, err := os.Stat(shot)
	require.NoError(t, err, "the screenshot is written")
	assert.Greater(t, st.Size(), int64(10000), "the screenshot is not blank")
	t.Logf("screenshot: %s", shot)
}
