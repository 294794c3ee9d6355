package report_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshguard/meshguard/internal/testutil"
	"github.com/meshguard/meshguard/pkg/check"
	"github.com/meshguard/meshguard/pkg/policy"
	"github.com/meshguard/meshguard/pkg/report"
)

// sarifSchema compiles the OASIS SARIF 2.1.0 schema in testdata/sarif (see
// its README for where it comes from). Formats ("uri", "date-time") are
// asserted too.
func sarifSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "sarif", "sarif-schema-2.1.0.json"))
	require.NoError(t, err)
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	require.NoError(t, err)
	const url = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	require.NoError(t, c.AddResource(url, doc))
	s, err := c.Compile(url)
	require.NoError(t, err)
	return s
}

func validateSARIF(t *testing.T, s *jsonschema.Schema, out []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
	require.NoError(t, err)
	assert.NoError(t, s.Validate(inst))
}

func TestSARIFMatchesSchema(t *testing.T) {
	s := sarifSchema(t)

	t.Run("the golden report", func(t *testing.T) {
		validateSARIF(t, s, []byte(output(t, "sarif", goldenReport())))
	})

	t.Run("the schema rejects what it should", func(t *testing.T) {
		// The validation can fail: a result with a level SARIF does not
		// know is rejected.
		var log map[string]any
		require.NoError(t, json.Unmarshal([]byte(output(t, "sarif", goldenReport())), &log))
		log["runs"].([]any)[0].(map[string]any)["results"].([]any)[0].(map[string]any)["level"] = "deny"
		b, err := json.Marshal(log)
		require.NoError(t, err)
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		require.NoError(t, err)
		assert.Error(t, s.Validate(inst))
	})

	t.Run("a real check of the examples and every rule's fixtures", func(t *testing.T) {
		root := testutil.RepoRoot(t)
		e, err := policy.New(t.Context(), policy.Options{})
		require.NoError(t, err)
		dir := t.TempDir()
		broken := filepath.Join(dir, "broken.yaml")
		require.NoError(t, os.WriteFile(broken, []byte("apiVersion: v1\nkind: [\n"), 0o644))
		r, err := check.Run(t.Context(), e, []string{filepath.Join(root, "examples"), filepath.Join(root, "test", "policies"), broken}, check.Options{Stdin: strings.NewReader("")})
		require.NoError(t, err)
		require.Positive(t, r.Summary.Deny)
		require.Positive(t, r.Summary.Warn)
		require.Positive(t, r.Summary.Errors, "the broken file (and the fixtures that are AdmissionReviews) are errors")
		r.ToolVersion = "v0.0.0-test"
		out := output(t, "sarif", r)
		validateSARIF(t, s, []byte(out))

		var log struct {
			Runs []struct {
				Tool struct {
					Driver struct {
						Rules []struct{ ID string }
					}
				}
				Results []json.RawMessage
			}
		}
		require.NoError(t, json.Unmarshal([]byte(out), &log))
		assert.Len(t, log.Runs[0].Tool.Driver.Rules, len(e.Rules()), "every rule of the bundle is described")
		assert.Equal(t, r.Summary.Deny+r.Summary.Warn+r.Summary.Audit+r.Summary.Exempted, len(log.Runs[0].Results), "every finding is a result")
	})
}

// The SARIF of an audit (objects without a file) is valid too.
func TestSARIFOfAuditMatchesSchema(t *testing.T) {
	r := auditReport()
	validateSARIF(t, sarifSchema(t), []byte(output(t, "sarif", r)))
	assert.Contains(t, output(t, "sarif", r), `"fullyQualifiedName": "PeerAuthentication.security.istio.io/shop/default"`)
	_, err := report.ForAudit("sarif")
	assert.NoError(t, err)
}
