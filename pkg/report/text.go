package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Text writes one line per finding and per error, then a summary:
//
//	examples/bad.yaml:7: ISTIO-MTLS-001 deny (high): PeerAuthentication payments/default sets ... [spec.mtls.mode]
//
// Rule messages name the object they are about (a convention of the bundle),
// so the object is not repeated; without a file the object leads the line.
func Text(w io.Writer, r *Report) error {
	// Appended piece by piece rather than by fmt: a large check prints tens
	// of thousands of lines.
	var b []byte
	for _, res := range r.Results {
		for _, f := range res.Findings {
			switch line := lineOf(&res, &f); {
			case res.File == "":
				b = append(b, res.Object.String()...)
			case line > 0:
				b = strconv.AppendInt(append(append(b, res.File...), ':'), int64(line), 10)
			default:
				b = append(b, res.File...)
			}
			b = append(append(append(b, ": "...), f.Rule...), ' ')
			b = append(append(append(b, f.Action...), " ("...), f.Severity...)
			b = append(append(b, "): "...), f.Message...)
			if f.Path != "" {
				b = append(append(append(b, " ["...), f.Path...), ']')
			}
			if x := f.Exemption; x != nil {
				b = append(append(append(b, " ("...), exempted(x)...), ')')
			}
			b = append(b, '\n')
		}
	}
	var sb strings.Builder
	for _, e := range r.Errors {
		fmt.Fprintf(&sb, "error: %s\n", e.Error())
	}
	writeSummary(&sb, r)
	b = append(b, sb.String()...)
	_, err := w.Write(b)
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
