// Package report is the one report model that every front door fills
// (check, audit), and its output formats. Each format is one Outputter.
package report

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/meshguard/meshguard/pkg/manifest"
	"github.com/meshguard/meshguard/pkg/policy"
)

// Report is the result of judging a set of objects.
type Report struct {
	Bundle  Bundle           `json:"bundle"`
	Results []Result         `json:"results"`
	Errors  []manifest.Error `json:"errors"`
	// Skipped are input documents that are not Kubernetes objects.
	Skipped []manifest.Error `json:"skipped,omitempty"`
	Summary Summary          `json:"summary"`
	// Audit is set by `meshguard audit`: where the objects came from, when,
	// and the totals (see audit.go).
	Audit *Audit `json:"audit,omitempty"`

	// Rules are the metadata of the rules that judged (the bundle and any
	// --policies directories), for the formats that describe rules (sarif).
	// The JSON report leaves them out: `meshguard policies list -o json`
	// has them.
	Rules []*policy.Rule `json:"-"`
	// ToolVersion is the version of the binary that made the report, for
	// the formats that name their tool (sarif); empty means unknown.
	ToolVersion string `json:"-"`
}

// Bundle identifies the policies that made the decisions.
type Bundle struct {
	Revision string `json:"revision"`
}

// Result is one object and its findings (possibly none).
type Result struct {
	File     string           `json:"file,omitempty"`
	Line     int              `json:"line,omitempty"`
	Object   policy.ObjectRef `json:"object"`
	Findings []policy.Finding `json:"findings"`
}

// Summary counts what the report holds.
type Summary struct {
	Files   int `json:"files"`
	Objects int `json:"objects"`
	// Findings by action: deny, warn, audit, exempted.
	Deny     int `json:"deny"`
	Warn     int `json:"warn"`
	Audit    int `json:"audit"`
	Exempted int `json:"exempted"`
	Errors   int `json:"errors"`
	Skipped  int `json:"skipped"`
}

// Tally recomputes the summary counts from the results and errors (Files is
// left as set by the producer).
func (r *Report) Tally() {
	s := Summary{Files: r.Summary.Files, Objects: len(r.Results), Errors: len(r.Errors), Skipped: len(r.Skipped)}
	for _, res := range r.Results {
		for _, f := range res.Findings {
			switch f.Action {
			case policy.ActionDeny:
				s.Deny++
			case policy.ActionWarn:
				s.Warn++
			case policy.ActionAudit:
				s.Audit++
			case policy.ActionExempted:
				s.Exempted++
			}
		}
	}
	r.Summary = s
}

// Outputter writes a report in one format.
type Outputter interface {
	Output(w io.Writer, r *Report) error
}

// OutputterFunc adapts a function to Outputter.
type OutputterFunc func(w io.Writer, r *Report) error

// Output calls f.
func (f OutputterFunc) Output(w io.Writer, r *Report) error { return f(w, r) }

var _ Outputter = OutputterFunc(nil)

var outputters = map[string]Outputter{
	"text":   OutputterFunc(Text),
	"json":   OutputterFunc(JSON),
	"table":  OutputterFunc(Table),
	"junit":  OutputterFunc(JUnit),
	"sarif":  OutputterFunc(SARIF),
	"tap":    OutputterFunc(TAP),
	"github": OutputterFunc(GitHub),
}

// Formats lists the names accepted by For.
func Formats() []string {
	names := make([]string, 0, len(outputters))
	for n := range outputters {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// For returns the outputter of a format; an unknown name is an error, never a
// silent fallback.
func For(format string) (Outputter, error) {
	o, ok := outputters[format]
	if !ok {
		return nil, fmt.Errorf("unknown output format %q (want one of %s)", format, strings.Join(Formats(), ", "))
	}
	return o, nil
}
