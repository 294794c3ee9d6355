package cli

import (
	"context"
	"errors"
	"os"

	"github.com/spf13/cobra"

	"github.com/meshguard/meshguard/pkg/policy"
)

// DefaultConfigFile is read from the working directory when neither
// --config nor MESHGUARD_CONFIG names a file.
const DefaultConfigFile = ".meshguard.yaml"

// engineFlags are the flags of every command that loads the bundle.
type engineFlags struct {
	policies  []string
	noBuiltin bool
	config    string

	cmd *cobra.Command
	cfg *policy.Config // the loaded config, after engine()
}

func (f *engineFlags) register(cmd *cobra.Command) {
	f.cmd = cmd
	fl := cmd.Flags()
	fl.StringArrayVar(&f.policies, "policies", nil, "directory of your own Rego policies, loaded beside the built-in bundle (repeatable)")
	fl.BoolVar(&f.noBuiltin, "no-builtin", false, "leave the built-in bundle out: use only the --policies directories")
	fl.StringVar(&f.config, "config", "", "config file with rule parameters, enforcement overrides, exclusions and check controls (default: $MESHGUARD_CONFIG, else ./"+DefaultConfigFile+" when present)")
}

// configPath is --config, else $MESHGUARD_CONFIG, else ./.meshguard.yaml
// when it exists ("" when none).
func (f *engineFlags) configPath() (string, error) {
	if f.config != "" {
		return f.config, nil
	}
	if p := os.Getenv("MESHGUARD_CONFIG"); p != "" {
		return p, nil
	}
	if _, err := os.Stat(DefaultConfigFile); err == nil {
		return DefaultConfigFile, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	return "", nil
}

func (f *engineFlags) engine(ctx context.Context, adjust ...func(*policy.Config)) (*policy.Engine, error) {
	if f.noBuiltin && len(f.policies) == 0 {
		return nil, usageError("--no-builtin needs at least one --policies directory")
	}
	opts := policy.Options{Dirs: f.policies, NoBuiltin: f.noBuiltin}
	path, err := f.configPath()
	if err != nil {
		return nil, &ExitError{Code: ExitBadInput, Err: err}
	}
	cfg := &policy.Config{}
	if path != "" {
		if cfg, err = policy.LoadConfig(path); err != nil {
			return nil, &ExitError{Code: ExitBadInput, Err: err}
		}
	}
	for _, a := range adjust {
		a(cfg)
	}
	opts.Config = cfg
	f.cfg = cfg
	e, err := policy.New(ctx, opts)
	if err != nil {
		return nil, &ExitError{Code: ExitBadInput, Err: err}
	}
	return e, nil
}
