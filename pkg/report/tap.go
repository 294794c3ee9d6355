package report

import (
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/meshguard/meshguard/pkg/policy"
)

// TAP writes the report in the Test Anything Protocol, version 14 (readable
// by TAP 13 consumers: no subtests): a plan line, then one test point per
// finding, per object without findings and per input error, each failing
// point with a YAML diagnostic block.
//
//	not ok 1 - ISTIO-MTLS-001 PeerAuthentication shop/default
//	  ---
//	  message: ...
//	  ...
//
// deny findings and input errors are "not ok"; warn and audit findings are
// "not ok # TODO" (reported, not failing); exempted findings "ok # SKIP".
func TAP(w io.Writer, r *Report) error {
	type point struct {
		ok        bool
		desc      string
		directive string
		diag      *tapDiagnostic
	}
	var points []point
	for i := range r.Results {
		res := &r.Results[i]
		if len(res.Findings) == 0 {
			points = append(points, point{ok: true, desc: res.Object.String()})
			continue
		}
		for j := range res.Findings {
			f := &res.Findings[j]
			p := point{desc: f.Rule + " " + res.Object.String(), diag: tapDiagnosticOf(res, f)}
			switch f.Action {
			case policy.ActionDeny:
			case policy.ActionExempted:
				p.ok = true
				p.directive = "SKIP exempted"
				if x := f.Exemption; x != nil {
					p.directive = "SKIP " + exempted(x)
				}
			default:
				p.directive = fmt.Sprintf("TODO %s, not failing", f.Action)
			}
			points = append(points, p)
		}
	}
	for _, e := range r.Errors {
		d := &tapDiagnostic{Message: e.Message, Severity: "error", File: e.File, Line: e.Line}
		points = append(points, point{desc: "read " + e.File, diag: d})
	}

	var b strings.Builder
	b.WriteString("TAP version 14\n")
	fmt.Fprintf(&b, "1..%d\n", len(points))
	for i, p := range points {
		if !p.ok {
			b.WriteString("not ")
		}
		fmt.Fprintf(&b, "ok %d - %s", i+1, tapEscape(oneLine(p.desc)))
		if p.directive != "" {
			fmt.Fprintf(&b, " # %s", tapEscape(oneLine(p.directive)))
		}
		b.WriteString("\n")
		if p.diag != nil {
			var y strings.Builder
			enc := yaml.NewEncoder(&y)
			enc.SetIndent(2)
			if err := enc.Encode(p.diag); err != nil {
				return fmt.Errorf("TAP diagnostic of test point %d: %w", i+1, err)
			}
			b.WriteString("  ---\n")
			for _, line := range strings.SplitAfter(strings.TrimRight(y.String(), "\n"), "\n") {
				b.WriteString("  " + line)
			}
			b.WriteString("\n  ...\n")
		}
	}
	s := r.Summary
	fmt.Fprintf(&b, "# %d %s in %d %s: %d deny, %d warn, %d audit, %d exempted, %d %s (bundle %s)\n",
		s.Objects, plural(s.Objects, "object"), s.Files, plural(s.Files, "file"), s.Deny, s.Warn, s.Audit, s.Exempted, s.Errors, plural(s.Errors, "error"), tapEscape(r.Bundle.Revision))
	_, err := io.WriteString(w, b.String())
	return err
}

// tapDiagnostic is the YAML block under a test point.
type tapDiagnostic struct {
	Message     string `yaml:"message"`
	Severity    string `yaml:"severity"`
	Action      string `yaml:"action,omitempty"`
	Rule        string `yaml:"rule,omitempty"`
	RuleVersion string `yaml:"ruleVersion,omitempty"`
	Object      string `yaml:"object,omitempty"`
	File        string `yaml:"file,omitempty"`
	Line        int    `yaml:"line,omitempty"`
	Path        string `yaml:"path,omitempty"`
	Remediation string `yaml:"remediation,omitempty"`
	Exemption   string `yaml:"exemption,omitempty"`
}

func tapDiagnosticOf(res *Result, f *policy.Finding) *tapDiagnostic {
	d := &tapDiagnostic{
		Message: f.Message, Severity: f.Severity, Action: string(f.Action), Rule: f.Rule, RuleVersion: f.Version,
		Object: res.Object.String(), File: res.File, Line: lineOf(res, f), Path: f.Path, Remediation: f.Remediation,
	}
	if x := f.Exemption; x != nil {
		d.Exemption = fmt.Sprintf("by the %s until %s: %s", x.From, x.Until, x.Reason)
	}
	return d
}

// tapEscape escapes what TAP 14 gives a meaning in a description or
// directive: a backslash and '#'.
func tapEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "#", `\#`).Replace(s)
}
