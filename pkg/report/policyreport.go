package report

import (
	"fmt"
	"io"
	"sort"

	"sigs.k8s.io/yaml"

	"github.com/meshguard/meshguard/pkg/policy"
)

// PolicyReportName is the name of the reports meshguard writes: one
// PolicyReport per namespace and one ClusterPolicyReport.
const PolicyReportName = "meshguard"

// PolicyReports turns the findings into wgpolicyk8s.io/v1alpha2 reports: a
// PolicyReport for each namespace with findings and a ClusterPolicyReport
// for cluster-scoped objects. deny/warn/audit findings are "fail"/"warn";
// exempted findings are "skip" with the exemption in properties.
func PolicyReports(r *Report) []map[string]any {
	a := auditOf(r)
	byNS := map[string][]any{}
	counts := map[string]map[string]int{}
	secs := a.Time.Unix()
	for _, res := range r.Results {
		for _, f := range res.Findings {
			ns := res.Object.Namespace
			result := "fail"
			switch f.Action {
			case policy.ActionWarn:
				result = "warn"
			case policy.ActionAudit:
				result = "warn"
			case policy.ActionExempted:
				result = "skip"
			}
			props := map[string]any{"action": string(f.Action), "version": f.Version}
			if f.Path != "" {
				props["path"] = f.Path
			}
			if x := f.Exemption; x != nil {
				props["exemptReason"], props["exemptUntil"], props["exemptFrom"] = x.Reason, x.Until, x.From
			}
			resource := map[string]any{"apiVersion": res.Object.APIVersion, "kind": res.Object.Kind, "name": res.Object.Name}
			if ns != "" {
				resource["namespace"] = ns
			}
			byNS[ns] = append(byNS[ns], map[string]any{
				"source":     "meshguard",
				"policy":     f.Rule,
				"rule":       f.Rule,
				"category":   categoryOf(f.Rule),
				"severity":   f.Severity,
				"result":     result,
				"message":    f.Message,
				"scored":     true,
				"timestamp":  map[string]any{"seconds": secs, "nanos": 0},
				"resources":  []any{resource},
				"properties": props,
			})
			if counts[ns] == nil {
				counts[ns] = map[string]int{"pass": 0, "fail": 0, "warn": 0, "error": 0, "skip": 0}
			}
			counts[ns][result]++
		}
	}
	nss := make([]string, 0, len(byNS))
	for ns := range byNS {
		nss = append(nss, ns)
	}
	sort.Strings(nss)
	var out []map[string]any
	for _, ns := range nss {
		md := map[string]any{
			"name":        PolicyReportName,
			"labels":      map[string]any{policy.LabelManagedBy: policy.ManagedByMeshguard},
			"annotations": map[string]any{policy.AnnotationBundleRevision: r.Bundle.Revision},
		}
		kind := "PolicyReport"
		if ns == "" {
			kind = "ClusterPolicyReport"
		} else {
			md["namespace"] = ns
		}
		out = append(out, map[string]any{
			"apiVersion": "wgpolicyk8s.io/v1alpha2",
			"kind":       kind,
			"metadata":   md,
			"summary":    counts[ns],
			"results":    byNS[ns],
		})
	}
	return out
}

// categoryOf is the rule family: ISTIO-MTLS-001 -> "Istio MTLS".
func categoryOf(id string) string {
	parts := 0
	for i, c := range id {
		if c == '-' {
			parts++
			if parts == 2 {
				return id[:i]
			}
		}
	}
	return id
}

// PolicyReportYAML writes the reports as a YAML stream (kubectl apply -f -).
func PolicyReportYAML(w io.Writer, r *Report) error {
	for _, pr := range PolicyReports(r) {
		b, err := yaml.Marshal(pr)
		if err != nil {
			return fmt.Errorf("encoding a PolicyReport: %w", err)
		}
		if _, err := fmt.Fprintf(w, "---\n%s", b); err != nil {
			return err
		}
	}
	return nil
}
