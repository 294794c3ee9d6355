package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/meshguard/meshguard/pkg/policy"
)

// GitHub writes GitHub Actions workflow commands, which the runner turns into
// annotations on the file and line of each finding:
//
//	::error file=deploy/pa.yaml,line=11,title=ISTIO-MTLS-001::deny (high): PeerAuthentication ...
//
// deny findings and input errors are errors, warn findings warnings, audit and
// exempted findings notices. The summary follows as a plain log line.
func GitHub(w io.Writer, r *Report) error {
	var b strings.Builder
	for i := range r.Results {
		res := &r.Results[i]
		for j := range res.Findings {
			f := &res.Findings[j]
			msg := fmt.Sprintf("%s (%s): %s", f.Action, f.Severity, f.Message)
			if f.Path != "" {
				msg += " [" + f.Path + "]"
			}
			if !inFile(res.File) {
				msg = res.Object.String() + ": " + msg
			}
			if x := f.Exemption; x != nil {
				msg += " (" + exempted(x) + ")"
			}
			ghCommand(&b, ghLevel(f.Action), res.File, lineOf(res, f), f.Rule, msg)
		}
	}
	for _, e := range r.Errors {
		ghCommand(&b, "error", e.File, e.Line, "meshguard: input error", e.Message)
	}
	s := r.Summary
	fmt.Fprintf(&b, "meshguard: %d %s in %d %s: %d deny, %d warn, %d audit, %d exempted, %d %s (bundle %s)\n",
		s.Objects, plural(s.Objects, "object"), s.Files, plural(s.Files, "file"), s.Deny, s.Warn, s.Audit, s.Exempted, s.Errors, plural(s.Errors, "error"), r.Bundle.Revision)
	_, err := io.WriteString(w, b.String())
	return err
}

func ghLevel(a policy.Action) string {
	switch a {
	case policy.ActionDeny:
		return "error"
	case policy.ActionWarn:
		return "warning"
	default:
		return "notice"
	}
}

// ghCommand writes one workflow command. file and line are left out when
// unknown (the annotation then belongs to the run, not to a file).
func ghCommand(b *strings.Builder, level, file string, line int, title, msg string) {
	var props []string
	if inFile(file) {
		props = append(props, "file="+ghProperty(file))
		if line > 0 {
			props = append(props, "line="+strconv.Itoa(line))
		}
	}
	props = append(props, "title="+ghProperty(title))
	fmt.Fprintf(b, "::%s %s::%s\n", level, strings.Join(props, ","), ghData(msg))
}

// ghData escapes a command's message the way the Actions runner unescapes it
// (toolkit's escapeData): %, CR and LF.
func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// ghProperty escapes a command property (toolkit's escapeProperty): the data
// escapes plus ':' and ',', which separate properties.
func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
