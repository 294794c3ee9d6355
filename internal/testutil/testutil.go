// Package testutil finds the shared test inputs: the repository root and the
// manifest corpus (../shared/corpus beside the repository, or
// $MESHGUARD_CORPUS).
package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

// RepoRoot is the directory holding go.mod.
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("go.mod not found above the test's directory")
		}
		dir = parent
	}
}

// Corpus returns the corpus directory, or skips the test with a message
// when it is absent.
func Corpus(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("MESHGUARD_CORPUS")
	if dir == "" {
		dir = filepath.Join(RepoRoot(tb), "..", "shared", "corpus")
	}
	if st, err := os.Stat(filepath.Join(dir, "INDEX.tsv")); err != nil || st.IsDir() {
		tb.Skipf("corpus not found at %s (set MESHGUARD_CORPUS): skipping", dir)
	}
	return dir
}
