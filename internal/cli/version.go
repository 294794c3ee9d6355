package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/meshguard/meshguard/internal/version"
	"github.com/meshguard/meshguard/pkg/policy"
)

func newVersion(s Streams) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Example: "  meshguard version",
		Short:   "Print the binary version and the built-in bundle revision",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := policy.New(cmd.Context(), policy.Options{})
			if err != nil {
				return err
			}
			fmt.Fprintf(s.Out, "meshguard %s\nbundle %s (%d rules)\n", version.String(), e.Revision(), len(e.Rules()))
			return nil
		},
	}
}
