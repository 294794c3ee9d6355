package report

import (
	"slices"
	"strings"

	"github.com/meshguard/meshguard/pkg/manifest"
	"github.com/meshguard/meshguard/pkg/policy"
)

// lineOf is the line of a finding: its field's, else its object's; 0 when
// neither is known (a live audit, an object built in memory).
func lineOf(res *Result, f *policy.Finding) int {
	if f.Line > 0 {
		return f.Line
	}
	return res.Line
}

// exempted says who exempted a finding, until when and why, as every format
// writes it: "exempted by the namespace shop until 2026-12-31: reason".
func exempted(x *policy.Exemption) string {
	return "exempted by the " + x.From + " until " + x.Until + ": " + x.Reason
}

// inFile reports whether name is a file a reader can open, as opposed to
// standard input or no file at all.
func inFile(name string) bool {
	return name != "" && name != manifest.Stdin && name != "-"
}

// oneLine folds a message onto one line (tabs and line breaks become
// spaces), for the column formats.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// ruleIndex gives the rules of a report by id, adding a minimal rule for a
// finding whose rule the report does not describe (a report built without
// an engine), so that every finding has a rule. The list is sorted by id.
func ruleIndex(r *Report) ([]*policy.Rule, map[string]int) {
	var rules []*policy.Rule
	index := map[string]int{}
	add := func(rule *policy.Rule) {
		if _, ok := index[rule.ID]; !ok {
			index[rule.ID] = len(rules)
			rules = append(rules, rule)
		}
	}
	for _, rule := range r.Rules {
		add(rule)
	}
	for _, res := range r.Results {
		for _, f := range res.Findings {
			if _, ok := index[f.Rule]; ok {
				continue
			}
			action := f.Action
			if action == policy.ActionExempted {
				action = ""
			}
			add(&policy.Rule{ID: f.Rule, Title: f.Rule, Version: f.Version, Severity: f.Severity, Action: action, Remediation: f.Remediation})
		}
	}
	slices.SortFunc(rules, func(a, b *policy.Rule) int { return strings.Compare(a.ID, b.ID) })
	for i, rule := range rules {
		index[rule.ID] = i
	}
	return rules, index
}
