package report

import (
	"fmt"
	"io"
	"strings"
)

// Text writes one line per finding and per error, then a summary:
//
//	examples/bad.yaml:7: ISTIO-MTLS-001 deny (high): PeerAuthentication payments/default sets ... [spec.mtls.mode]
//
// Rule messages name the object they are about (a convention of the bundle),
// so the object is not repeated; without a file the object leads the line.
func Text(w io.Writer, r *Report) error {
	var b strings.Builder
	for _, res := range r.Results {
		for _, f := range res.Findings {
			loc := res.File
			if line := lineOf(&res, &f); loc != "" && line > 0 {
				loc = fmt.Sprintf("%s:%d", loc, line)
			}
			if loc == "" {
				loc = res.Object.String()
			}
			fmt.Fprintf(&b, "%s: %s %s (%s): %s", loc, f.Rule, f.Action, f.Severity, f.Message)
			if f.Path != "" {
				fmt.Fprintf(&b, " [%s]", f.Path)
			}
			if x := f.Exemption; x != nil {
				fmt.Fprintf(&b, " (%s)", exempted(x))
			}
			b.WriteByte('\n')
		}
	}
	for _, e := range r.Errors {
		fmt.Fprintf(&b, "error: %s\n", e.Error())
	}
	writeSummary(&b, r)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeSummary writes the closing line of the text and table formats.
func writeSummary(b *strings.Builder, r *Report) {
	s := r.Summary
	fmt.Fprintf(b, "\n%d %s in %d %s: %d deny, %d warn", s.Objects, plural(s.Objects, "object"), s.Files, plural(s.Files, "file"), s.Deny, s.Warn)
	if s.Audit > 0 {
		fmt.Fprintf(b, ", %d audit", s.Audit)
	}
	if s.Exempted > 0 {
		fmt.Fprintf(b, ", %d exempted", s.Exempted)
	}
	fmt.Fprintf(b, ", %d %s", s.Errors, plural(s.Errors, "error"))
	if s.Skipped > 0 {
		fmt.Fprintf(b, ", %d %s skipped (not Kubernetes objects; -o json lists them)", s.Skipped, plural(s.Skipped, "document"))
	}
	fmt.Fprintf(b, " (bundle %s)\n", r.Bundle.Revision)
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
