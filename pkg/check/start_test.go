package check_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meshguard/meshguard/internal/testutil"
	"github.com/meshguard/meshguard/pkg/check"
	"github.com/meshguard/meshguard/pkg/policy"
)

// TestStartBeforeTheEngine: files read before the engine is known (the CLI
// reads them while the bundle loads) give the same report as files read
// with the engine at hand, Namespace in another file included.
func TestStartBeforeTheEngine(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a-deploy.yaml"), []byte(deployment), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "b-ns.yaml"), []byte(meshedNamespace), 0o600))
	paths := []string{dir, filepath.Join(testutil.RepoRoot(t), "examples")}
	in := check.Start(t.Context(), paths, check.Options{})
	time.Sleep(200 * time.Millisecond) // let the reading finish first
	e, err := policy.New(t.Context(), policy.Options{})
	require.NoError(t, err)
	early, err := in.Run(t.Context(), e)
	require.NoError(t, err)
	late, err := check.Run(t.Context(), e, paths, check.Options{})
	require.NoError(t, err)
	a, _ := json.Marshal(early)
	b, _ := json.Marshal(late)
	require.JSONEq(t, string(b), string(a))
	require.Positive(t, early.Summary.Deny)
}

// TestStartStop: when the engine fails to load, Stop ends the reading.
func TestStartStop(t *testing.T) {
	in := check.Start(t.Context(), []string{testutil.Corpus(t)}, check.Options{})
	done := make(chan struct{})
	go func() { in.Stop(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Stop did not return")
	}
}
