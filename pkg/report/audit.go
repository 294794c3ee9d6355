package report

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/meshguard/meshguard/pkg/policy"
)

// Audit is what `meshguard audit` adds to a report.
type Audit struct {
	// Source is the cluster (context and server) or the paths audited.
	Source string `json:"source"`
	// Time is when the audit ran.
	Time time.Time `json:"time"`
	// Notes say what was not audited and why (e.g. a kind whose CRD is absent).
	Notes []string `json:"notes,omitempty"`
	// Totals count the findings by rule, namespace and severity.
	Totals Totals `json:"totals"`
	// Rules are the rules that produced findings, for titles and remediation.
	Rules map[string]RuleInfo `json:"rules,omitempty"`
}

// RuleInfo is the part of a rule's metadata that reports show.
type RuleInfo struct {
	Title       string `json:"title"`
	Severity    string `json:"severity"`
	Remediation string `json:"remediation,omitempty"`
}

// Totals count findings (exempted ones apart).
type Totals struct {
	ByRule      map[string]int `json:"byRule"`
	ByNamespace map[string]int `json:"byNamespace"`
	BySeverity  map[string]int `json:"bySeverity"`
	ByAction    map[string]int `json:"byAction"`
	// NamespaceSeverity counts findings per namespace and severity (the
	// chart of the HTML report).
	NamespaceSeverity map[string]map[string]int `json:"namespaceSeverity"`
	Exempted          int                       `json:"exempted"`
}

// ClusterScope is the namespace name totals use for cluster-scoped objects.
const ClusterScope = "(cluster)"

// ComputeTotals fills r.Audit.Totals (and r.Audit.Rules and r.Rules from
// rules) from the results.
func (r *Report) ComputeTotals(rules []*policy.Rule) {
	if r.Audit == nil {
		r.Audit = &Audit{}
	}
	t := Totals{ByRule: map[string]int{}, ByNamespace: map[string]int{}, BySeverity: map[string]int{}, ByAction: map[string]int{}, NamespaceSeverity: map[string]map[string]int{}}
	info := map[string]RuleInfo{}
	byID := map[string]*policy.Rule{}
	for _, rule := range rules {
		byID[rule.ID] = rule
	}
	for _, res := range r.Results {
		ns := res.Object.Namespace
		if ns == "" {
			ns = ClusterScope
		}
		for _, f := range res.Findings {
			if rule, ok := byID[f.Rule]; ok {
				info[f.Rule] = RuleInfo{Title: rule.Title, Severity: rule.Severity, Remediation: rule.Remediation}
			}
			if f.Action == policy.ActionExempted {
				t.Exempted++
				continue
			}
			t.ByRule[f.Rule]++
			t.ByNamespace[ns]++
			t.BySeverity[f.Severity]++
			t.ByAction[string(f.Action)]++
			if t.NamespaceSeverity[ns] == nil {
				t.NamespaceSeverity[ns] = map[string]int{}
			}
			t.NamespaceSeverity[ns][f.Severity]++
		}
	}
	r.Audit.Totals = t
	r.Audit.Rules = info
	if rules != nil {
		r.Rules = rules
	}
}

// Ranked returns the keys of m by count, largest first (then by name).
func Ranked(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}

// auditOutputters are the formats of `meshguard audit`.
var auditOutputters = map[string]Outputter{
	"json":         OutputterFunc(JSON),
	"markdown":     OutputterFunc(Markdown),
	"html":         OutputterFunc(HTML),
	"policyreport": OutputterFunc(PolicyReportYAML),
	"sarif":        OutputterFunc(SARIF),
	"table":        OutputterFunc(Table),
}

// AuditFormats lists the names accepted by ForAudit.
func AuditFormats() []string {
	names := make([]string, 0, len(auditOutputters))
	for n := range auditOutputters {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ForAudit returns the outputter of an audit format; an unknown name is an
// error.
func ForAudit(format string) (Outputter, error) {
	o, ok := auditOutputters[format]
	if !ok {
		return nil, fmt.Errorf("unknown audit output format %q (want one of %s)", format, strings.Join(AuditFormats(), ", "))
	}
	return o, nil
}

// findingRow is one finding with its object, for the tabular formats.
type findingRow struct {
	Result  *Result
	Finding *policy.Finding
}

// rows lists the findings, most severe first, then by namespace, object and
// rule; exempted findings apart.
func rows(r *Report) (active, exempted []findingRow) {
	for i := range r.Results {
		res := &r.Results[i]
		for j := range res.Findings {
			row := findingRow{Result: res, Finding: &res.Findings[j]}
			if row.Finding.Action == policy.ActionExempted {
				exempted = append(exempted, row)
			} else {
				active = append(active, row)
			}
		}
	}
	rank := func(sev string) int {
		for i, s := range policy.Severities {
			if s == sev {
				return i
			}
		}
		return len(policy.Severities)
	}
	less := func(rs []findingRow) func(i, j int) bool {
		return func(i, j int) bool {
			a, b := rs[i], rs[j]
			if rank(a.Finding.Severity) != rank(b.Finding.Severity) {
				return rank(a.Finding.Severity) < rank(b.Finding.Severity)
			}
			if a.Result.Object.Namespace != b.Result.Object.Namespace {
				return a.Result.Object.Namespace < b.Result.Object.Namespace
			}
			if a.Result.Object.String() != b.Result.Object.String() {
				return a.Result.Object.String() < b.Result.Object.String()
			}
			return a.Finding.Rule < b.Finding.Rule
		}
	}
	sort.SliceStable(active, less(active))
	sort.SliceStable(exempted, less(exempted))
	return active, exempted
}

func auditOf(r *Report) *Audit {
	if r.Audit == nil {
		r.ComputeTotals(nil)
	}
	return r.Audit
}

// Markdown writes the audit as a Markdown document: totals, top rules,
// findings per namespace, exempted findings apart.
func Markdown(w io.Writer, r *Report) error {
	a := auditOf(r)
	var b strings.Builder
	fmt.Fprintf(&b, "# meshguard audit\n\n")
	fmt.Fprintf(&b, "Source: %s  \nTime: %s  \nBundle: %s\n\n", mdEscape(a.Source), a.Time.UTC().Format(time.RFC3339), mdEscape(r.Bundle.Revision))
	fmt.Fprintf(&b, "%d objects, %d findings: %d deny, %d warn, %d audit; %d exempted; %d errors.\n\n",
		r.Summary.Objects, r.Summary.Deny+r.Summary.Warn+r.Summary.Audit, r.Summary.Deny, r.Summary.Warn, r.Summary.Audit, r.Summary.Exempted, r.Summary.Errors)
	for _, n := range a.Notes {
		fmt.Fprintf(&b, "> %s\n", mdEscape(n))
	}
	if len(a.Notes) > 0 {
		b.WriteString("\n")
	}
	b.WriteString("## By severity\n\n| severity | findings |\n|---|---|\n")
	for _, s := range policy.Severities {
		if n := a.Totals.BySeverity[s]; n > 0 {
			fmt.Fprintf(&b, "| %s | %d |\n", s, n)
		}
	}
	b.WriteString("\n## Top rules\n\n| rule | title | findings |\n|---|---|---|\n")
	for _, id := range Ranked(a.Totals.ByRule) {
		fmt.Fprintf(&b, "| %s | %s | %d |\n", id, mdEscape(a.Rules[id].Title), a.Totals.ByRule[id])
	}
	b.WriteString("\n## By namespace\n\n| namespace | findings |\n|---|---|\n")
	for _, ns := range Ranked(a.Totals.ByNamespace) {
		fmt.Fprintf(&b, "| %s | %d |\n", mdEscape(ns), a.Totals.ByNamespace[ns])
	}
	active, exempted := rows(r)
	b.WriteString("\n## Findings\n\n| severity | action | object | rule | message | remediation |\n|---|---|---|---|---|---|\n")
	for _, row := range active {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", row.Finding.Severity, row.Finding.Action, mdEscape(row.Result.Object.String()), row.Finding.Rule, mdEscape(row.Finding.Message), mdEscape(firstLine(row.Finding.Remediation)))
	}
	if len(exempted) > 0 {
		b.WriteString("\n## Exempted\n\n| object | rule | reason | until | from |\n|---|---|---|---|---|\n")
		for _, row := range exempted {
			x := row.Finding.Exemption
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", mdEscape(row.Result.Object.String()), row.Finding.Rule, mdEscape(x.Reason), x.Until, x.From)
		}
	}
	if len(r.Errors) > 0 {
		b.WriteString("\n## Errors\n\n")
		for _, e := range r.Errors {
			fmt.Fprintf(&b, "- %s\n", mdEscape(e.Error()))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "<", "&lt;", ">", "&gt;").Replace(s)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, "\n"); i >= 0 {
		return strings.TrimSpace(s[:i]) + " …"
	}
	return s
}
