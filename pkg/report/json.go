package report

import (
	"encoding/json"
	"io"

	"github.com/meshguard/meshguard/pkg/manifest"
	"github.com/meshguard/meshguard/pkg/policy"
)

// JSON writes the report as documented in docs/output.md. Empty lists are
// written as [] so consumers need no null checks.
func JSON(w io.Writer, r *Report) error {
	out := *r
	if out.Results == nil {
		out.Results = []Result{}
	}
	if out.Errors == nil {
		out.Errors = []manifest.Error{}
	}
	for i := range out.Results {
		if out.Results[i].Findings == nil {
			out.Results[i].Findings = []policy.Finding{}
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
