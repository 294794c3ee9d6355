package manifest_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshguard/meshguard/internal/testutil"
	"github.com/meshguard/meshguard/pkg/manifest"
)

// FuzzParse: the reader of `check` never panics on any input, every error
// names the file, and every object it returns has a kind.
func FuzzParse(f *testing.F) {
	root := testutil.RepoRoot(f)
	seeds, _ := filepath.Glob(filepath.Join(root, "test", "policies", "*", "*.yaml"))
	examples, _ := filepath.Glob(filepath.Join(root, "examples", "*.yaml"))
	for _, p := range append(seeds, examples...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("kind: List\napiVersion: v1\nitems: [null, {kind: Pod, apiVersion: v1}]\n"))
	f.Add([]byte("<<: {a: 1}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file := manifest.Parse("fuzz.yaml", data)
		for _, e := range file.Errors {
			if e.File != "fuzz.yaml" || !strings.Contains(e.Error(), "fuzz.yaml") {
				t.Fatalf("an error that does not name the file: %+v", e)
			}
		}
		for _, d := range file.Docs {
			if d.Object == nil {
				t.Fatal("a document without an object")
			}
			d.LineOf([]any{"spec", 0, "x"})
		}
	})
}
