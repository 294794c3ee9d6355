package policy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"slices"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/ir"

	"github.com/meshguard/meshguard/policies"
)

// A snapshot is the built-in bundle compiled and planned ahead of time:
// everything New reads of the compiled bundle (rule and generator metadata,
// the index rules, the inventory kinds, the default parameters) and OPA's
// plan of every decision, so that a binary starts judging without compiling
// its own bundle (compiling and planning it takes about 0.3 s of CPU, most of
// a one-file check). It is a gob of the snapshot type, the plan inside it in
// the compact form of ircodec.go. `make snapshot` writes it (WriteSnapshot) into the
// bundle's directory as SnapshotFile, which the bundle embeds; the file is
// built, not kept in git.
//
// New uses it only for the embedded bundle alone, with no user parameters
// and not under topdown, and only when its digest is the digest of the
// embedded files: a snapshot of other Rego is never used, so a stale one
// costs time, never a verdict. What needs the compiled bundle itself
// (topdown, the generators) compiles it when first needed.
// TestSnapshotEngineMatchesCompiled holds the two engines to the same rules
// and verdicts.
const SnapshotFile = "bundle.snapshot"

// snapshotFormat changes whenever what a snapshot holds, or how the engine
// reads it, does: a snapshot of another format is not used.
const snapshotFormat = 3

type snapshot struct {
	Format        int
	Digest        string // bundleDigest of the files it was made from
	Revision      string
	Rules         []snapshotRule
	Generators    []*Generator
	IndexPaths    []string
	InventoryKeys []string
	// Defaults and Params (without user parameters), as JSON: they hold
	// json.Number, as Rego results do.
	Defaults, Params []byte
	PlanRefs         []string
	// Plan is the snapshotPlan in the compact form of ircodec.go.
	Plan []byte
}

type snapshotRule struct {
	Rule
	HasDeny, HasWarn bool
}

// snapshotPlan is the ir.Policy the VM runs: the built-ins by name only
// (their declarations are OPA's).
type snapshotPlan struct {
	Strings, Files []*ir.StringConst
	Builtins       []string
	Funcs          *ir.Funcs
}

// WriteSnapshot compiles and plans the embedded bundle and writes its
// snapshot to w.
func WriteSnapshot(ctx context.Context, w io.Writer) error {
	b, err := compileBundle(ctx, Options{})
	if err != nil {
		return err
	}
	e, err := newEngine(ctx, Options{}, &Config{}, b)
	if err != nil {
		return err
	}
	p := e.planned(ctx)
	if p.err != nil {
		return fmt.Errorf("planning the bundle: %w", p.err)
	}
	digest, err := bundleDigest(policies.FS)
	if err != nil {
		return err
	}
	s := snapshot{Format: snapshotFormat, Digest: digest, Revision: b.revision, Generators: b.generators, PlanRefs: e.plan.refs}
	for _, r := range b.rules {
		s.Rules = append(s.Rules, snapshotRule{Rule: *r, HasDeny: r.hasDeny, HasWarn: r.hasWarn})
	}
	for _, r := range b.indexPaths {
		s.IndexPaths = append(s.IndexPaths, r.String())
	}
	for k := range b.inventoryKeys {
		s.InventoryKeys = append(s.InventoryKeys, k)
	}
	slices.Sort(s.InventoryKeys)
	if s.Defaults, err = json.Marshal(b.defaults); err != nil {
		return err
	}
	if s.Params, err = json.Marshal(e.params); err != nil {
		return err
	}
	pol := p.policy
	plan := snapshotPlan{Strings: pol.Static.Strings, Files: pol.Static.Files, Funcs: pol.Funcs}
	for _, f := range pol.Static.BuiltinFuncs {
		plan.Builtins = append(plan.Builtins, f.Name)
	}
	if s.Plan, err = encodeIR(nil, &plan); err != nil {
		return err
	}
	return gob.NewEncoder(w).Encode(&s)
}

// builtinSnapshot is the embedded bundle's snapshot when New may use it for
// opts and cfg and it was made from the embedded files; nil otherwise.
func builtinSnapshot(opts Options, cfg *Config) *snapshot {
	if opts.Builtin != nil || opts.NoBuiltin || len(opts.Dirs) > 0 || opts.Topdown || len(cfg.Params) > 0 {
		return nil
	}
	return readSnapshot(policies.FS)
}

// readSnapshot reads the snapshot of a bundle directory; nil when there is
// none, it does not decode, or it was made from other files.
func readSnapshot(fsys fs.FS) *snapshot {
	data, err := fs.ReadFile(fsys, SnapshotFile)
	if err != nil {
		return nil
	}
	var s snapshot
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&s); err != nil || s.Format != snapshotFormat {
		return nil
	}
	if digest, err := bundleDigest(fsys); err != nil || digest != s.Digest {
		return nil
	}
	return &s
}

// bundleDigest fingerprints what New loads of a bundle directory: the name
// and content of its .manifest and of every .rego file but the tests.
func bundleDigest(fsys fs.FS) (string, error) {
	h := sha256.New()
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if skip, err := skipEntry(p, d, false); err != nil || (skip && p != ".manifest") {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(b))
		h.Write(b)
		return nil
	})
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), err
}

// facts is the bundle as New needs it, its modules parsed and compiled only
// if something asks for the compiler.
func (s *snapshot) facts(opts Options) (*bundle, error) {
	b := &bundle{
		revision:      s.Revision,
		generators:    s.Generators,
		inventoryKeys: map[string]bool{},
		planRefs:      s.PlanRefs,
		modules: func() ([]*ast.Module, error) {
			mods, _, err := builtinModules(opts, false)
			return mods, err
		},
	}
	for i := range s.Rules {
		r := s.Rules[i].Rule
		r.hasDeny, r.hasWarn = s.Rules[i].HasDeny, s.Rules[i].HasWarn
		b.rules = append(b.rules, &r)
	}
	for _, p := range s.IndexPaths {
		b.indexPaths = append(b.indexPaths, ast.MustParseRef(p))
	}
	for _, k := range s.InventoryKeys {
		b.inventoryKeys[k] = true
	}
	var err error
	if b.defaults, err = jsonMap(s.Defaults); err != nil {
		return nil, err
	}
	if b.params, err = jsonMap(s.Params); err != nil {
		return nil, err
	}
	var plan snapshotPlan
	if err := decodeIR(s.Plan, &plan); err != nil {
		return nil, err
	}
	b.plan = &ir.Policy{Static: &ir.Static{Strings: plan.Strings, Files: plan.Files}, Funcs: plan.Funcs}
	for _, name := range plan.Builtins {
		b.plan.Static.BuiltinFuncs = append(b.plan.Static.BuiltinFuncs, &ir.BuiltinFunc{Name: name})
	}
	return b, nil
}

// jsonMap decodes an object the snapshot wrote, numbers as json.Number.
func jsonMap(b []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	m := map[string]any{}
	if err := d.Decode(&m); err != nil {
		return nil, fmt.Errorf("reading the bundle snapshot: %w", err)
	}
	return m, nil
}
