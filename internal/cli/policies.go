package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/meshguard/meshguard/pkg/policy"
)

func newPolicies(s Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policies",
		Short: "Inspect the policy bundle",
		Example: `  meshguard policies list
  meshguard policies list --policies ./team-policies -o json`,
	}
	cmd.AddCommand(newPoliciesList(s))
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
