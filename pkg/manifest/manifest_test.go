package manifest_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshguard/meshguard/pkg/manifest"
)

func TestParseMultiDocumentWithLines(t *testing.T) {
	src := `# a comment
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: finance
  namespace: shop
spec:
  portLevelMtls:
    8080:
      mode: DISABLE
  selector:
    matchLabels: {app: finance}
`
	f := manifest.Parse("x.yaml", []byte(src))
	require.Empty(t, f.Errors)
	require.Len(t, f.Docs, 2, "the empty document is not an object")
	assert.Equal(t, 2, f.Docs[0].Line)
	assert.Equal(t, 8, f.Docs[1].Line)
	assert.Equal(t, 0, f.Docs[0].Index)
	assert.Equal(t, 2, f.Docs[1].Index)
	assert.Equal(t, -1, f.Docs[1].Item)

	pa := f.Docs[1]
	spec := pa.Object["spec"].(map[string]any)
	port, ok := spec["portLevelMtls"].(map[string]any)["8080"]
	require.True(t, ok, "an unquoted numeric key is the string \"8080\", as sigs.k8s.io/yaml gives it")
	assert.Equal(t, "DISABLE", port.(map[string]any)["mode"])

	assert.Equal(t, 16, pa.LineOf([]any{"spec", "portLevelMtls", "8080", "mode"}))
	assert.Equal(t, 15, pa.LineOf([]any{"spec", "portLevelMtls", "8080"}))
	assert.Equal(t, 18, pa.LineOf([]any{"spec", "selector", "matchLabels", "app"}))
	assert.Equal(t, 17, pa.LineOf([]any{"spec", "selector", "missing", "deeper"}), "a missing field gives its nearest parent's line")
}

func TestScalarTypes(t *testing.T) {
	src := `apiVersion: v1
kind: ConfigMap
metadata: {name: x}
data:
  int: 42
  hex: 0x1F
  float: 1.5
  bool: true
  null: ~
  str: "42"
  when: 2026-11-22
`
	f := manifest.Parse("x.yaml", []byte(src))
	require.Empty(t, f.Errors)
	data := f.Docs[0].Object["data"].(map[string]any)
	assert.Equal(t, int64(42), data["int"])
	assert.Equal(t, int64(31), data["hex"])
	assert.Equal(t, 1.5, data["float"])
	assert.Equal(t, true, data["bool"])
	assert.Nil(t, data["null"])
	assert.Equal(t, "42", data["str"])
	assert.Equal(t, "2026-11-22", data["when"], "timestamps stay strings")
}

func TestAnchorsAndMergeKeys(t *testing.T) {
	src := `apiVersion: v1
kind: ConfigMap
metadata:
  name: x
  labels: &labels {app: a, tier: web}
  annotations:
    <<: *labels
    tier: override
`
	f := manifest.Parse("x.yaml", []byte(src))
	require.Empty(t, f.Errors)
	md := f.Docs[0].Object["metadata"].(map[string]any)
	assert.Equal(t, map[string]any{"app": "a", "tier": "web"}, md["labels"])
	assert.Equal(t, map[string]any{"app": "a", "tier": "override"}, md["annotations"])
}

func TestListIsUnwrapped(t *testing.T) {
	src := `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Namespace
  metadata: {name: a}
-
- apiVersion: v1
  kind: Namespace
  metadata: {name: b}
`
	f := manifest.Parse("list.yaml", []byte(src))
	require.Empty(t, f.Errors)
	require.Len(t, f.Docs, 2, "the empty item is skipped as kubectl does")
	assert.Equal(t, 4, f.Docs[0].Line)
	assert.Equal(t, 0, f.Docs[0].Item)
	assert.Equal(t, 8, f.Docs[1].Line)
	assert.Equal(t, 2, f.Docs[1].Item)
	assert.Equal(t, 9, f.Docs[1].LineOf([]any{"kind"}))
}

func TestJSON(t *testing.T) {
	src := `{"apiVersion": "v1", "kind": "Namespace",
 "metadata": {"name": "a", "labels": {"istio-injection": "enabled"}}}`
	f := manifest.Parse("ns.json", []byte(src))
	require.Empty(t, f.Errors)
	require.Len(t, f.Docs, 1)
	assert.Equal(t, 2, f.Docs[0].LineOf([]any{"metadata", "labels", "istio-injection"}))
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name, src string
		docs      int
		skipped   int
		errLine   int
		errText   string
	}{
		{"invalid YAML names the line the parser gives", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [x\n", 0, 0, 3, "invalid YAML"},
		{"a document that is a list is an error", "- a\n- b\n", 0, 0, 1, "document 1 is a list, not a Kubernetes object"},
		{"a scalar document is an error", "just text\n", 0, 0, 1, "document 1 is a string, not a Kubernetes object"},
		{"apiVersion without kind is an error", "apiVersion: v1\nmetadata: {name: x}\n", 0, 0, 1, "document 1 is not a Kubernetes object: kind missing"},
		{"objects before a broken document are kept", "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\nkind: [\n", 1, 0, 5, "invalid YAML"},
		{"a map without apiVersion and kind is skipped, not an error", "replicaCount: 3\nimage: {tag: x}\n", 0, 1, 0, ""},
		{"a List whose items are not a list is an error", "apiVersion: v1\nkind: List\nitems: {a: b}\n", 0, 0, 1, "List items is not a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := manifest.Parse("bad.yaml", []byte(tt.src))
			assert.Len(t, f.Docs, tt.docs)
			assert.Len(t, f.Skipped, tt.skipped)
			if tt.errText == "" {
				assert.Empty(t, f.Errors)
				return
			}
			require.Len(t, f.Errors, 1)
			assert.Equal(t, "bad.yaml", f.Errors[0].File)
			assert.Equal(t, tt.errLine, f.Errors[0].Line)
			assert.Contains(t, f.Errors[0].Message, tt.errText)
		})
	}
}

func TestDeepNestingIsAnErrorNotACrash(t *testing.T) {
	src := "apiVersion: v1\nkind: ConfigMap\ndata: " + strings.Repeat("[", 2000) + strings.Repeat("]", 2000) + "\n"
	f := manifest.Parse("deep.yaml", []byte(src))
	assert.Empty(t, f.Docs)
	require.NotEmpty(t, f.Errors)
}

func TestExpandAndReadFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	write("b.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n")
	write("a/c.yml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: c}\n")
	write("a/d.json", `{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "d"}}`)
	write("README.md", "not read")
	write(".git/x.yaml", "not read")

	files, errs := manifest.Expand([]string{dir, filepath.Join(dir, "missing.yaml"), "-"})
	require.Len(t, errs, 1)
	assert.Equal(t, filepath.Join(dir, "missing.yaml"), errs[0].File)
	assert.Contains(t, errs[0].Message, "no such file")
	assert.Equal(t, []string{
		filepath.Join(dir, "a/c.yml"), filepath.Join(dir, "a/d.json"), filepath.Join(dir, "b.yaml"), "-",
	}, files)

	f := manifest.ReadFile("-", strings.NewReader("apiVersion: v1\nkind: Namespace\nmetadata: {name: s}\n"))
	require.Len(t, f.Docs, 1)
	assert.Equal(t, manifest.Stdin, f.Docs[0].File)
}

// A few lines of aliases that would expand to millions of values are an
// error, not a hang.
func TestAliasBomb(t *testing.T) {
	src := "apiVersion: v1\nkind: ConfigMap\na: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
	f := manifest.Parse("bomb.yaml", []byte(src))
	require.Len(t, f.Errors, 1)
	assert.Contains(t, f.Errors[0].Error(), "excessive aliasing")
	assert.Empty(t, f.Docs)

	// Ordinary anchors are fine.
	ok := manifest.Parse("ok.yaml", []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, labels: &l {a: b}}\ndata: {x: y}\nextra: {labels: *l}\n"))
	assert.Empty(t, ok.Errors)
	require.Len(t, ok.Docs, 1)
}
