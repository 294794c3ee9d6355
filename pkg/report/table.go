package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Table writes the findings as aligned columns, in input order, then the
// input errors and the summary of the text format:
//
//	LOCATION              RULE            ACTION  SEVERITY  OBJECT                        MESSAGE
//	examples/bad.yaml:11  ISTIO-MTLS-001  deny    high      PeerAuthentication shop/p     ... [spec.mtls.mode]
//
// Cells are folded onto one line so that a message cannot break the columns.
func Table(w io.Writer, r *Report) error {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LOCATION\tRULE\tACTION\tSEVERITY\tOBJECT\tMESSAGE")
	for i := range r.Results {
		res := &r.Results[i]
		for j := range res.Findings {
			f := &res.Findings[j]
			loc := "-"
			if res.File != "" {
				loc = res.File
				if line := lineOf(res, f); line > 0 {
					loc += ":" + strconv.Itoa(line)
				}
			}
			msg := f.Message
			if f.Path != "" {
				msg += " [" + f.Path + "]"
			}
			if x := f.Exemption; x != nil {
				msg += " (" + exempted(x) + ")"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", cell(loc), cell(f.Rule), f.Action, cell(f.Severity), cell(res.Object.String()), cell(msg))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Errors) > 0 {
		b.WriteString("\n")
	}
	for _, e := range r.Errors {
		fmt.Fprintf(&b, "error: %s\n", oneLine(e.Error()))
	}
	writeSummary(&b, r)
	_, err := io.WriteString(w, b.String())
	return err
}

// cell is a table cell: one line, never empty (tabwriter would collapse it).
func cell(s string) string {
	s = oneLine(s)
	if s == "" {
		return "-"
	}
	return s
}
