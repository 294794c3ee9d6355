package policy

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"testing/fstest"

	"github.com/meshguard/meshguard/policies"
)

// NewCompiled is New compiling the bundle, with or without a snapshot in
// the binary.
func NewCompiled(ctx context.Context, opts Options) (*Engine, error) {
	b, err := compileBundle(ctx, opts)
	if err != nil {
		return nil, err
	}
	return newEngine(ctx, opts, &Config{}, b)
}

// NewFromSnapshot is New loading the embedded bundle from snap, as a binary
// with that snapshot does; an error when New would not use it.
func NewFromSnapshot(ctx context.Context, snap []byte, opts Options) (*Engine, error) {
	s := readSnapshot(WithSnapshot(snap))
	if s == nil {
		return nil, errors.New("the snapshot is not used")
	}
	b, err := s.facts(opts)
	if err != nil {
		return nil, err
	}
	return newEngine(ctx, opts, &Config{}, b)
}

// WithSnapshot is the embedded bundle with snap as its snapshot.
func WithSnapshot(snap []byte) fs.FS {
	m := fstest.MapFS{}
	_ = fs.WalkDir(policies.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := fs.ReadFile(policies.FS, p)
			m[p] = &fstest.MapFile{Data: b}
		}
		return err
	})
	m[SnapshotFile] = &fstest.MapFile{Data: bytes.Clone(snap)}
	return m
}

// ReadSnapshot reports whether the snapshot of fsys would be used.
func ReadSnapshot(fsys fs.FS) bool { return readSnapshot(fsys) != nil }

// Compiled reports whether the engine has compiled its bundle.
func (e *Engine) Compiled() bool { return e.compiler != nil }

// InventoryKeys are the kinds the bundle reads from the inventory.
func (e *Engine) InventoryKeys() map[string]bool { return e.inventoryKeys }

// PlanRefs are the decisions and index rules of the engine's plan.
func (e *Engine) PlanRefs() []string { return e.plan.refs }
