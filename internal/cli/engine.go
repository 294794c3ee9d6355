package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/meshguard/meshguard/pkg/policy"
)

// engineFlags are the flags of every command that loads the bundle.
type engineFlags struct {
	policies  []string
	noBuiltin bool
	config    string
}

func (f *engineFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringArrayVar(&f.policies, "policies", nil, "directory of your own Rego policies, loaded beside the built-in bundle (repeatable)")
	fl.BoolVar(&f.noBuiltin, "no-builtin", false, "leave the built-in bundle out: use only the --policies directories")
	fl.StringVar(&f.config, "config", "", "config file with rule parameters, enforcement overrides and excluded namespaces")
}

func (f *engineFlags) engine(ctx context.Context) (*policy.Engine, error) {
	if f.noBuiltin && len(f.policies) == 0 {
		return nil, usageError("--no-builtin needs at least one --policies directory")
	}
	opts := policy.Options{Dirs: f.policies, NoBuiltin: f.noBuiltin}
	if f.config != "" {
		cfg, err := policy.LoadConfig(f.config)
		if err != nil {
			return nil, &ExitError{Code: ExitBadInput, Err: err}
		}
		opts.Config = cfg
	}
	e, err := policy.New(ctx, opts)
	if err != nil {
		return nil, &ExitError{Code: ExitBadInput, Err: err}
	}
	return e, nil
}
