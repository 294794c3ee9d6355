package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshguard/meshguard/internal/testutil"
)

const unfixed = `# team: reviews
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: shop
spec:
  hosts: [reviews]
  http:
  - route:   # v1 only
    - destination:
        host: reviews
`

func TestCheckFixPrints(t *testing.T) {
	dir := t.TempDir()
	f := write(t, dir, "vs.yaml", unfixed)
	r := run(t, "", "check", "--fix", f)
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "# team: reviews")
	assert.Contains(t, r.stdout, "# v1 only")
	assert.Contains(t, r.stdout, "timeout: 15s")
	assert.Contains(t, r.stderr, "fixed "+f+":2: VirtualService shop/reviews by ISTIO-TRAFFIC-001,ISTIO-TRAFFIC-002")
	b, err := os.ReadFile(f)
	require.NoError(t, err)
	assert.Equal(t, unfixed, string(b), "without --write the file is untouched")

	// The printed manifests pass check.
	again := run(t, r.stdout, "check", "-")
	assert.Equal(t, 0, again.code, again.stdout)
}

func TestCheckFixWrite(t *testing.T) {
	dir := t.TempDir()
	f := write(t, dir, "vs.yaml", unfixed)
	clean := write(t, dir, "clean.yaml", strict)
	r := run(t, "", "check", "--fix", "--write", dir)
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "fixed "+f)
	b, err := os.ReadFile(f)
	require.NoError(t, err)
	assert.Contains(t, string(b), "timeout: 15s")
	assert.Contains(t, string(b), "# v1 only")
	c, err := os.ReadFile(clean)
	require.NoError(t, err)
	assert.Equal(t, strict, string(c), "a file with nothing to fix is not rewritten")

	r = run(t, "", "check", "--fix", "--write", dir)
	assert.Equal(t, 0, r.code)
	assert.NotContains(t, r.stdout, "fixed ", "a second fix changes nothing")
	b2, err := os.ReadFile(f)
	require.NoError(t, err)
	assert.Equal(t, string(b), string(b2))
}

func TestCheckFixUsage(t *testing.T) {
	r := run(t, unfixed, "check", "--fix", "--write", "-")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "--write cannot rewrite stdin")
	r = run(t, "", "check", "--write", "x.yaml")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "--write needs --fix")
}

// After --fix, no finding is left that a mutation could fix: for every
// fixture, the fixed objects have no more defaults to add, and the findings
// of mutating rules left are the ones a default cannot fix (a partial
// resource set, an explicit 0s timeout, ...).
func TestCheckFixFixtures(t *testing.T) {
	root := testutil.RepoRoot(t)
	matches, err := filepath.Glob(filepath.Join(root, "test", "policies", "*", "violating.yaml"))
	require.NoError(t, err)
	for _, m := range matches {
		rel, _ := filepath.Rel(root, m)
		t.Run(rel, func(t *testing.T) {
			r := run(t, "", "check", "--fix", m)
			require.NotEqual(t, 2, r.code, r.stderr)
			if !strings.Contains(r.stderr, "fixed ") {
				return
			}
			second := run(t, r.stdout, "check", "--fix", "-")
			assert.NotContains(t, second.stderr, "fixed ", "fixing the fixed output adds nothing more")
		})
	}
}
