// Command snapshot writes the built-in bundle's snapshot (policy.SnapshotFile:
// the bundle compiled and planned ahead of time) for the binaries to embed.
// `make build` runs it when a .rego file or the .manifest changed:
//
//	go run ./hack/snapshot [policies/bundle.snapshot]
package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/meshguard/meshguard/pkg/policy"
)

func main() {
	out := filepath.Join("policies", policy.SnapshotFile)
	if len(os.Args) > 1 {
		out = os.Args[1]
	}
	if err := write(out); err != nil {
		fmt.Fprintln(os.Stderr, "snapshot:", err)
		os.Exit(1)
	}
}

func write(out string) error {
	var b bytes.Buffer
	if err := policy.WriteSnapshot(context.Background(), &b); err != nil {
		return err
	}
	tmp := out + ".tmp"
	if err := os.WriteFile(tmp, b.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}
