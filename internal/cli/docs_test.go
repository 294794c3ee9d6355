package cli_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/meshguard/meshguard/internal/cli"
	"github.com/meshguard/meshguard/internal/testutil"
)

// docs/ci.md is copied into pipelines as it is: its YAML blocks must parse and
// every flag its meshguard command lines use must exist.
func TestCIDocs(t *testing.T) {
	root := testutil.RepoRoot(t)
	b, err := os.ReadFile(filepath.Join(root, "docs", "ci.md"))
	require.NoError(t, err)
	doc := string(b)
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(doc, -1)
	require.GreaterOrEqual(t, len(blocks), 3)
	for _, m := range blocks {
		var v any
		assert.NoError(t, yaml.Unmarshal([]byte(m[1]), &v), m[1])
	}
	hooks, err := os.ReadFile(filepath.Join(root, ".pre-commit-hooks.yaml"))
	require.NoError(t, err)
	var v any
	require.NoError(t, yaml.Unmarshal(hooks, &v))

	cmdRoot := cli.NewRoot(cli.Streams{})
	var code strings.Builder
	for _, m := range regexp.MustCompile("(?s)```(?:yaml|sh)\n(.*?)```").FindAllStringSubmatch(doc, -1) {
		code.WriteString(m[1])
	}
	lines := regexp.MustCompile(`meshguard (check|test)\b[^\n"]*`).FindAllString(code.String(), -1)
	require.NotEmpty(t, lines)
	for _, line := range lines {
		fields := strings.Fields(line)
		sub, _, err := cmdRoot.Find(fields[1:2])
		require.NoError(t, err, line)
		for _, f := range fields[2:] {
			if !strings.HasPrefix(f, "-") {
				continue
			}
			name := strings.TrimLeft(strings.SplitN(f, "=", 2)[0], "-")
			if len(name) == 1 {
				assert.NotNil(t, sub.Flags().ShorthandLookup(name), "%s: -%s", line, name)
			} else {
				assert.NotNil(t, sub.Flags().Lookup(name), "%s: --%s", line, name)
			}
		}
	}
}
