package report

import (
	"slices"

	"github.com/meshguard/meshguard/pkg/policy"
)

// Filter keeps only the findings for which keep is true and recomputes the
// summary.
func (r *Report) Filter(keep func(policy.Finding) bool) {
	for i := range r.Results {
		r.Results[i].Findings = slices.DeleteFunc(r.Results[i].Findings, func(f policy.Finding) bool { return !keep(f) })
	}
	r.Tally()
}

// AtLeast reports whether severity is as severe as threshold or more
// (policy.Severities runs from most to least severe). An unknown severity
// counts as the least severe.
func AtLeast(severity, threshold string) bool {
	si, ti := slices.Index(policy.Severities, severity), slices.Index(policy.Severities, threshold)
	if ti < 0 {
		return true
	}
	return si >= 0 && si <= ti
}
