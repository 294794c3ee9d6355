package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/meshguard/meshguard/docs"
	"github.com/meshguard/meshguard/pkg/policy"
)

func newPolicies(s Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policies",
		Short: "Inspect the policy bundle",
		Example: `  meshguard policies list
  meshguard policies list --policies ./team-policies -o json
  meshguard policies explain ISTIO-MTLS-001`,
	}
	cmd.AddCommand(newPoliciesList(s), newPoliciesExplain(s))
	return cmd
}

func newPoliciesList(s Streams) *cobra.Command {
	var f engineFlags
	var output string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the rules of the bundle: id, version, severity, action, kinds, title",
		Example: `  meshguard policies list
  meshguard policies list -o json | jq '.rules[].id'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPoliciesList(cmd.Context(), s, &f, output)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text, json")
	return cmd
}

func runPoliciesList(ctx context.Context, s Streams, f *engineFlags, output string) error {
	if output != "text" && output != "json" {
		return usageError("unknown output format %q (want one of json, text)", output)
	}
	e, err := f.engine(ctx)
	if err != nil {
		return err
	}
	rules := e.Rules()
	if output == "json" {
		enc := json.NewEncoder(s.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Bundle struct {
				Revision string `json:"revision"`
			} `json:"bundle"`
			Rules []*policy.Rule `json:"rules"`
		}{Bundle: struct {
			Revision string `json:"revision"`
		}{e.Revision()}, Rules: rules})
	}
	tw := tabwriter.NewWriter(s.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tVERSION\tSEVERITY\tACTION\tKINDS\tTITLE")
	for _, r := range rules {
		kinds := make([]string, len(r.Kinds))
		for i, k := range r.Kinds {
			kinds[i] = k.String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Version, r.Severity, r.Action, strings.Join(kinds, ","), r.Title)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(s.Out, "\n%d rules, bundle %s\n", len(rules), e.Revision())
	return nil
}

func newPoliciesExplain(s Streams) *cobra.Command {
	var f engineFlags
	cmd := &cobra.Command{
		Use:   "explain RULE-ID",
		Short: "Show a rule's page: what it catches, why, how to fix it, examples",
		Long: `Explain prints the page of a rule (docs/rules/<RULE-ID>.md, carried in the
binary). A rule of your own (--policies) without a page is described from its
METADATA: title, version, severity, action, kinds, description, remediation.
An unknown id is an error (exit 2) that suggests the closest ids.`,
		Example: `  meshguard policies explain ISTIO-MTLS-001
  meshguard policies explain --policies ./team-policies TEAM-LABELS-001`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError("explain needs exactly one RULE-ID (meshguard policies list shows them)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPoliciesExplain(cmd.Context(), s, &f, args[0])
		},
	}
	f.register(cmd)
	return cmd
}

func runPoliciesExplain(ctx context.Context, s Streams, f *engineFlags, arg string) error {
	id := strings.ToUpper(strings.TrimSpace(arg))
	e, err := f.engine(ctx)
	if err != nil {
		return err
	}
	var rule *policy.Rule
	for _, r := range e.Rules() {
		if r.ID == id {
			rule = r
		}
	}
	page, hasPage := docs.RulePage(id)
	switch {
	case hasPage && (rule == nil || !f.noBuiltin):
		// The page of a built-in rule. (With --no-builtin a rule of this id
		// is the user's own, described by its METADATA below.)
		_, err := s.Out.Write(page)
		return err
	case rule != nil:
		_, err := io.WriteString(s.Out, explainMetadata(rule))
		return err
	}
	known := docs.RulePageIDs()
	for _, r := range e.Rules() {
		if !slices.Contains(known, r.ID) {
			known = append(known, r.ID)
		}
	}
	msg := fmt.Sprintf("unknown rule %q", arg)
	if close := closest(id, known, 3); len(close) > 0 {
		msg += "; did you mean " + strings.Join(close, ", ") + "?"
	}
	return usageError("%s (meshguard policies list shows the rules)", msg)
}

// explainMetadata describes a rule that has no page from its METADATA, in
// the layout of the pages.
func explainMetadata(r *policy.Rule) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s: %s\n\n| | |\n|---|---|\n", r.ID, r.Title)
	fmt.Fprintf(&b, "| Version | %s |\n| Severity | %s |\n| Default action | %s |\n", r.Version, r.Severity, r.Action)
	kinds := make([]string, len(r.Kinds))
	for i, k := range r.Kinds {
		group := k.Group
		if group == "" {
			group = "core"
		}
		kinds[i] = fmt.Sprintf("`%s` %s", group, k.Kind)
		if len(k.Versions) > 0 {
			kinds[i] += " (`" + strings.Join(k.Versions, "`, `") + "`)"
		}
	}
	fmt.Fprintf(&b, "| Kinds | %s |\n", strings.Join(kinds, ", "))
	if r.Mutates {
		b.WriteString("| Mutation | yes (the mutating webhook and `check --fix` add its defaults) |\n")
	}
	fmt.Fprintf(&b, "| Rule | %s (package %s) |\n", r.File, r.Package)
	if r.Description != "" {
		fmt.Fprintf(&b, "\n## What\n\n%s\n", r.Description)
	}
	if r.Remediation != "" {
		fmt.Fprintf(&b, "\n## How to fix\n\n%s\n", r.Remediation)
	}
	b.WriteString("\n(This rule has no page in docs/rules: this is its METADATA.)\n")
	return b.String()
}

// closest returns up to n ids nearest to id by edit distance (at most a
// third of the id's length), nearest first.
func closest(id string, ids []string, n int) []string {
	type cand struct {
		id   string
		dist int
	}
	var cands []cand
	limit := max(2, len(id)/3)
	for _, other := range ids {
		if d := editDistance(id, other); d <= limit || strings.Contains(other, id) {
			cands = append(cands, cand{other, d})
		}
	}
	sort.SliceStable(cands, func(i, j int) bool {
		if cands[i].dist != cands[j].dist {
			return cands[i].dist < cands[j].dist
		}
		return cands[i].id < cands[j].id
	})
	var out []string
	for i := 0; i < len(cands) && i < n; i++ {
		out = append(out, cands[i].id)
	}
	return out
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
