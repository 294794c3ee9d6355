// Package cli holds meshguard's cobra commands. Each constructor takes the
// streams it writes to, so commands are testable without a process; exit
// codes travel as *ExitError and only main calls os.Exit.
package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// Exit codes of the meshguard CLI.
const (
	ExitOK       = 0 // no deny finding
	ExitDeny     = 1 // at least one deny finding
	ExitBadInput = 2 // a usage error, or input that could not be read or parsed
)

// ExitError carries an exit code out of a command.
type ExitError struct {
	Code int
	Err  error // nil when the command already said everything
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// Streams are where a command reads and writes.
type Streams struct {
	In       io.Reader
	Out, Err io.Writer
}

// NewRoot builds the meshguard command tree.
func NewRoot(s Streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "meshguard",
		Short: "Zero-trust policy for service meshes: check manifests, list rules",
		Long: `meshguard keeps a service mesh zero-trust by policy: STRICT mTLS,
deny-by-default authorization, bounded timeouts and retries, sidecar limits.

The same Rego bundle runs in the admission webhook, in 'meshguard check' for CI,
and in audits of a live cluster, so the same object gets the same verdict.`,
		Example: `  meshguard check deploy/                 # CI: judge manifests (exit 1 on deny)
  meshguard check --fix --write deploy/   # add the missing safe defaults in place
  meshguard audit -o html > audit.html    # what in the cluster breaks the rules today
  meshguard generate deploy/              # default policies the meshed namespaces lack
  meshguard policies list                 # the rules, their versions and actions
  meshguard test --coverage ./policies    # Rego unit tests of your own rules`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &ExitError{Code: ExitBadInput, Err: err}
	})
	root.AddCommand(newAudit(s), newCheck(s), newGenerate(s), newPolicies(s), newTest(s), newVersion(s))
	return root
}

// Execute runs the command line and returns the process exit code.
func Execute(root *cobra.Command, args []string) int {
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			fmt.Fprintf(root.ErrOrStderr(), "Error: %v\n", ee.Err)
		}
		return ee.Code
	}
	fmt.Fprintf(root.ErrOrStderr(), "Error: %v\n", err)
	return ExitBadInput
}

func usageError(format string, args ...any) error {
	return &ExitError{Code: ExitBadInput, Err: fmt.Errorf(format, args...)}
}
