// Package policy is meshguard's one policy engine. It loads the Rego bundle
// (built in, or a user's directories beside or instead of it), compiles it
// once with network and host builtins removed, prepares one query per object
// kind that evaluates only the rules whose METADATA names that kind, and
// returns findings in one Go type. The admission webhook, `meshguard check`
// and audit all call it, so the same object gets the same verdict.
package policy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/ir"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"github.com/meshguard/meshguard/policies"
)

// Options configure New.
type Options struct {
	// Builtin is the built-in bundle. nil means the bundle embedded in the
	// binary (policies.FS).
	Builtin fs.FS
	// NoBuiltin leaves the built-in bundle out: only Dirs are loaded.
	NoBuiltin bool
	// Dirs are directories of the user's own policies, loaded beside the
	// built-in bundle (or instead of it with NoBuiltin).
	Dirs []string
	// Config is the user's configuration; nil means the defaults.
	Config *Config
	// NoInventory says that the state of the other objects is unknown (the
	// webhook without a cluster): rules that judge an object by what else
	// exists stay silent instead of assuming nothing else exists. Policies
	// read it as data.meshguard.lib.kube.inventory_known.
	NoInventory bool
	// Now is the clock exemption dates are judged by; nil means time.Now.
	Now func() time.Time
	// Topdown evaluates with OPA's interpreter of the Rego AST instead of
	// the engine's evaluator of OPA's plans (vm.go). Both give the same
	// verdicts (TestVMMatchesTopdown); topdown is the reference. The
	// environment variable MESHGUARD_EVALUATOR=topdown sets it in every
	// front door.
	Topdown bool
}

// ForbiddenBuiltins are removed from the capabilities the bundle is compiled
// with: policies must not reach the network or the host, so a policy that
// calls one of them fails to load.
var ForbiddenBuiltins = []string{"http.send", "net.lookup_ip_addr", "opa.runtime"}

// EvaluatorEnv names the environment variable that chooses the evaluator:
// plan (the default: OPA's plan of the bundle, run by the engine) or topdown
// (OPA's interpreter), an escape hatch with the same verdicts.
const EvaluatorEnv = "MESHGUARD_EVALUATOR"

// ErrNoRules is returned when the loaded policies define no rule at all.
var ErrNoRules = errors.New("no rules loaded")

// Engine evaluates objects against a compiled bundle. It is safe for
// concurrent use.
type Engine struct {
	revision    string
	rules       []*Rule
	byID        map[string]*Rule
	byKind      map[opKind]*kindQuery // validation queries
	mutations   map[GroupKind]*kindQuery
	store       storage.Store
	params      map[string]any
	enforcement map[string]Action
	excluded    map[string]bool
	// nonExemptable are the rules the config forbids to exempt.
	nonExemptable map[string]bool
	clock         func() time.Time
	generators    []*Generator
	generateQuery *rego.PreparedEvalQuery
	// index, inventoryGen, indexGen and indexMu: see index.go.
	index        indexes
	inventoryGen atomic.Uint64
	indexGen     atomic.Uint64
	indexMu      sync.Mutex
	// inventoryKeys are the kinds the bundle reads from the inventory.
	inventoryKeys map[string]bool
	topdown       bool
	// compiler is the compiled bundle; an engine loaded from the bundle's
	// snapshot (snapshot.go) compiles it only when something needs it
	// (compiled): topdown, the generators. compileMu serialises what writes
	// to it after New: planning the decisions and preparing a topdown query
	// (rego.New sets the compiler's evaluation mode).
	compiler    *ast.Compiler
	compileOnce sync.Once
	compileErr  error
	modules     func() ([]*ast.Module, error)
	compileMu   sync.Mutex
	plan        decisionPlan
	// genOnce prepares generateQuery, when first needed.
	genOnce sync.Once
	genErr  error
}

// compiled is the compiled bundle, compiled now if the engine was loaded
// from a snapshot.
func (e *Engine) compiled() (*ast.Compiler, error) {
	e.compileOnce.Do(func() {
		if e.compiler != nil {
			return
		}
		mods, err := e.modules()
		if err != nil {
			e.compileErr = err
			return
		}
		e.compiler, e.compileErr = compile(mods)
	})
	return e.compiler, e.compileErr
}

// withCompiler runs f with the compiled bundle, holding compileMu: what
// prepares a query or plans on the shared compiler (rego.New sets its
// evaluation mode) goes through here.
func (e *Engine) withCompiler(f func(c *ast.Compiler) error) error {
	c, err := e.compiled()
	if err != nil {
		return err
	}
	e.compileMu.Lock()
	defer e.compileMu.Unlock()
	return f(c)
}

// decisionPlan is the one plan of every decision of the bundle (vm.go),
// made the first time an object is judged.
type decisionPlan struct {
	once   sync.Once
	refs   []string // every kind query's decisions and the index rules, each once
	policy *ir.Policy
	prog   *program
	fns    map[string]*vmFunc
	err    error
}

type binding struct {
	name   string
	rule   *Rule
	action Action
}

// opKind keys the validation queries: the rules for a kind differ by
// admission operation (DELETE judges only rules that protect objects).
type opKind struct {
	GroupKind
	op string
}

type kindQuery struct {
	engine   *Engine
	bindings []binding
	refs     []string // each binding's decision: data.<package>.deny, ...
	src      string   // the query topdown evaluates: each binding := its decision
	// The functions of the engine's plan that compute the decisions, nil
	// when topdown evaluates the query (with Options.Topdown, or a bundle
	// OPA cannot plan): the same verdicts either way.
	planOnce sync.Once
	fns      []*vmFunc
	// The topdown query, prepared when first needed.
	tdOnce sync.Once
	td     rego.PreparedEvalQuery
	tdErr  error
}

// program is the engine's plan and the functions of the query's decisions,
// or nil when topdown evaluates the query.
func (kq *kindQuery) program(ctx context.Context) (*program, []*vmFunc) {
	e := kq.engine
	if e.topdown {
		return nil, nil
	}
	kq.planOnce.Do(func() {
		p := e.planned(ctx)
		if p.err != nil {
			return
		}
		fns := make([]*vmFunc, len(kq.refs))
		for i, r := range kq.refs {
			fns[i] = p.fns[r]
		}
		kq.fns = fns
	})
	if kq.fns == nil {
		return nil, nil
	}
	return e.plan.prog, kq.fns
}

// planned is the engine's plan, made on first use.
func (e *Engine) planned(ctx context.Context) *decisionPlan {
	p := &e.plan
	p.once.Do(func() {
		p.err = e.withCompiler(func(c *ast.Compiler) (err error) {
			p.policy, p.prog, p.fns, err = planDecisions(context.WithoutCancel(ctx), c, p.refs)
			return err
		})
	})
	return p
}

// Prepare plans the bundle now instead of when the first object is judged
// (nothing to do under topdown): a caller with other work to overlap it
// with, such as reading files, calls it early.
func (e *Engine) Prepare(ctx context.Context) {
	if !e.topdown {
		e.planned(ctx)
	}
}

// topdownQuery is the query prepared for OPA's topdown.
func (kq *kindQuery) topdownQuery(ctx context.Context) (rego.PreparedEvalQuery, error) {
	kq.tdOnce.Do(func() {
		e := kq.engine
		kq.tdErr = e.withCompiler(func(c *ast.Compiler) (err error) {
			kq.td, err = rego.New(rego.Query(kq.src), rego.Compiler(c), rego.Store(e.store)).
				PrepareForEval(context.WithoutCancel(ctx))
			return err
		})
	})
	return kq.td, kq.tdErr
}

// New loads, compiles and prepares the bundle. The built-in bundle alone,
// with no user parameters, is loaded from its snapshot when the binary has
// one that matches it (snapshot.go): the same engine, without compiling.
func New(ctx context.Context, opts Options) (*Engine, error) {
	cfg := opts.Config
	if cfg == nil {
		cfg = &Config{}
	}
	switch ev := os.Getenv(EvaluatorEnv); ev {
	case "", "plan":
	case "topdown":
		opts.Topdown = true
	default:
		return nil, fmt.Errorf("%s=%q: want plan (the default) or topdown", EvaluatorEnv, ev)
	}
	if snap := builtinSnapshot(opts, cfg); snap != nil {
		// A snapshot that does not fit this binary (made by other code)
		// is passed over; the compiled bundle says what is wrong, if
		// anything.
		if b, err := snap.facts(opts); err == nil {
			if e, err := newEngine(ctx, opts, cfg, b); err == nil {
				return e, nil
			}
		}
	}
	b, err := compileBundle(ctx, opts)
	if err != nil {
		return nil, err
	}
	return newEngine(ctx, opts, cfg, b)
}

// bundle is what the engine needs of a loaded bundle: compiled now, or read
// from a snapshot (compiler nil, modules parsed and compiled on demand).
type bundle struct {
	revision      string
	compiler      *ast.Compiler
	modules       func() ([]*ast.Module, error)
	rules         []*Rule
	generators    []*Generator
	indexPaths    []ast.Ref
	inventoryKeys map[string]bool
	defaults      map[string]any
	// From a snapshot only: the parameters without user config, and the plan.
	params   map[string]any
	planRefs []string
	plan     *ir.Policy
}

// compileBundle loads and compiles the bundle of opts.
func compileBundle(ctx context.Context, opts Options) (*bundle, error) {
	var modules []*ast.Module
	var revisions []string
	mods, rev, err := builtinModules(opts, false)
	if err != nil {
		return nil, err
	}
	modules = append(modules, mods...)
	if !opts.NoBuiltin {
		revisions = append(revisions, rev)
	}
	for _, dir := range opts.Dirs {
		st, err := os.Stat(dir)
		if err != nil {
			return nil, fmt.Errorf("loading policies: %w", err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("loading policies: %s is not a directory", dir)
		}
		mods, rev, err := loadFS(os.DirFS(dir), dir)
		if err != nil {
			return nil, fmt.Errorf("loading policies from %s: %w", dir, err)
		}
		if len(mods) == 0 {
			return nil, fmt.Errorf("loading policies from %s: no .rego files", dir)
		}
		modules = append(modules, mods...)
		revisions = append(revisions, path.Base(dir)+"@"+rev)
	}

	c, err := compile(modules)
	if err != nil {
		return nil, err
	}
	b := &bundle{revision: strings.Join(revisions, "+"), compiler: c, inventoryKeys: inventoryKeys(c)}
	if b.rules, err = rulesFromCompiler(c); err != nil {
		return nil, err
	}
	if len(b.rules) == 0 {
		return nil, ErrNoRules
	}
	if b.generators, err = generatorsFromCompiler(c); err != nil {
		return nil, err
	}
	if b.indexPaths, err = indexPaths(c); err != nil {
		return nil, err
	}
	if b.defaults, err = defaultParams(ctx, c); err != nil {
		return nil, err
	}
	return b, nil
}

// newEngine prepares an engine for a loaded bundle and the user's config.
func newEngine(ctx context.Context, opts Options, cfg *Config, b *bundle) (*Engine, error) {
	e := &Engine{
		revision:      b.revision,
		rules:         b.rules,
		byID:          map[string]*Rule{},
		byKind:        map[opKind]*kindQuery{},
		mutations:     map[GroupKind]*kindQuery{},
		enforcement:   cfg.Enforcement,
		excluded:      map[string]bool{},
		clock:         opts.Now,
		topdown:       opts.Topdown,
		compiler:      b.compiler,
		modules:       b.modules,
		generators:    b.generators,
		inventoryKeys: b.inventoryKeys,
	}
	e.index.paths = b.indexPaths
	e.nonExemptable = map[string]bool{}
	for _, id := range cfg.NonExemptable {
		e.nonExemptable[id] = true
	}
	for _, r := range e.rules {
		e.byID[r.ID] = r
	}
	excluded := cfg.ExcludeNamespaces
	if excluded == nil {
		excluded = DefaultExcludedNamespaces
	}
	excludedDoc := make([]any, 0, len(excluded))
	for _, ns := range excluded {
		e.excluded[ns] = true
		excludedDoc = append(excludedDoc, ns)
	}

	e.store = inmem.NewWithOpts(inmem.OptRoundTripOnWrite(false), inmem.OptReturnASTValuesOnRead(true))
	if err := cfg.validate(e.byID, b.defaults); err != nil {
		return nil, err
	}
	userParams := cfg.Params
	if userParams == nil {
		userParams = map[string]any{}
	}
	// engine.indexed tells policies that the kind guard already ran here;
	// engine.excludedNamespaces lets rules that judge Namespace objects (whose
	// own namespace is "") leave the excluded ones alone.
	meshguard := map[string]any{"config": userParams, "engine": map[string]any{
		"indexed": true, "inventory": !opts.NoInventory, "excludedNamespaces": excludedDoc,
	}}
	if err := e.write(ctx, storage.Path{"meshguard"}, meshguard); err != nil {
		return nil, err
	}
	if err := e.SetInventory(ctx, nil); err != nil {
		return nil, err
	}
	if err := e.prepare(ctx, b.compiler); err != nil {
		return nil, err
	}
	for _, r := range e.index.paths {
		e.plan.refs = append(e.plan.refs, r.String())
	}
	if b.compiler != nil {
		// Compiled now: a broken generator query fails at load.
		if err := e.prepareGenerators(ctx); err != nil {
			return nil, err
		}
	}
	params := b.params
	if params == nil {
		var err error
		if params, err = e.effectiveParams(ctx, b.compiler); err != nil {
			return nil, err
		}
	}
	e.params = params
	// Merged once here rather than by data.meshguard.lib.config.params on
	// every evaluation (an object.union of every default, about a third of
	// the allocations of a rule that reads a parameter).
	if err := e.write(ctx, storage.Path{"meshguard", "params"}, e.params); err != nil {
		return nil, err
	}
	if b.plan != nil {
		if !slices.Equal(b.planRefs, e.plan.refs) {
			return nil, fmt.Errorf("the bundle snapshot plans %d decisions, the engine reads %d: regenerate it (make snapshot)", len(b.planRefs), len(e.plan.refs))
		}
		e.plan.once.Do(func() {
			e.plan.policy = b.plan
			e.plan.prog, e.plan.fns, e.plan.err = programFor(b.plan, e.plan.refs)
		})
	}
	return e, nil
}

// Revision is the bundle revision that every decision records: the built-in
// manifest revision, plus name@revision of each user directory.
func (e *Engine) Revision() string { return e.revision }

// Rules lists the loaded rules, sorted by id.
func (e *Engine) Rules() []*Rule { return slices.Clone(e.rules) }

// Rule returns the rule with the given id.
func (e *Engine) Rule(id string) (*Rule, bool) {
	r, ok := e.byID[id]
	return r, ok
}

// Params are the effective rule parameters: defaults merged with the config.
func (e *Engine) Params() map[string]any { return e.params }

// Covers reports whether any rule judges the kind on CREATE (what offline
// checks ask).
func (e *Engine) Covers(gk GroupKind) bool { return e.CoversOp(gk, OpCreate) }

// CoversOp reports whether any rule judges the kind for the admission
// operation.
func (e *Engine) CoversOp(gk GroupKind, op string) bool {
	_, ok := e.byKind[opKind{gk, op}]
	return ok
}

// Mutates reports whether any rule has defaults to add to objects of the kind.
func (e *Engine) Mutates(gk GroupKind) bool {
	_, ok := e.mutations[gk]
	return ok
}

// SetInventory replaces the inventory document that cross-object rules read
// as data.inventory (see pkg/inventory). nil means an empty inventory.
func (e *Engine) SetInventory(ctx context.Context, doc map[string]any) error {
	if doc == nil {
		doc = map[string]any{"namespaces": map[string]any{}, "objects": map[string]any{}}
	}
	defer e.inventoryChanged()
	return e.write(ctx, storage.Path{"inventory"}, doc)
}

// PutInventory adds or replaces one object of the inventory, for callers
// that keep it current one change at a time (the webhook's informers). The
// object must be of a kind inventory.Tracked accepts; key is its place in
// the document: ["namespaces", name] or ["objects", "<Kind>.<group>", ns, name].
func (e *Engine) PutInventory(ctx context.Context, key []string, obj map[string]any) error {
	defer e.inventoryChanged()
	return e.upsert(ctx, append(storage.Path{"inventory"}, key...), obj)
}

// DeleteInventory removes one object of the inventory; a missing one is not
// an error.
func (e *Engine) DeleteInventory(ctx context.Context, key []string) error {
	defer e.inventoryChanged()
	p := append(storage.Path{"inventory"}, key...)
	err := storage.WriteOne(ctx, e.store, storage.RemoveOp, p, nil)
	if err != nil && !storage.IsNotFound(err) {
		return fmt.Errorf("removing %s from the policy store: %w", p, err)
	}
	return nil
}

// upsert writes v at p, creating the parent objects that are missing.
func (e *Engine) upsert(ctx context.Context, p storage.Path, v any) error {
	txn, err := e.store.NewTransaction(ctx, storage.WriteParams)
	if err != nil {
		return err
	}
	for i := 2; i < len(p); i++ {
		if _, err := e.store.Read(ctx, txn, p[:i]); storage.IsNotFound(err) {
			if err := e.store.Write(ctx, txn, storage.AddOp, p[:i], map[string]any{}); err != nil {
				e.store.Abort(ctx, txn)
				return fmt.Errorf("writing %s to the policy store: %w", p[:i], err)
			}
		}
	}
	if err := e.store.Write(ctx, txn, storage.AddOp, p, v); err != nil {
		e.store.Abort(ctx, txn)
		return fmt.Errorf("writing %s to the policy store: %w", p, err)
	}
	return e.store.Commit(ctx, txn)
}

func (e *Engine) write(ctx context.Context, p storage.Path, v any) error {
	if err := storage.WriteOne(ctx, e.store, storage.AddOp, p, v); err != nil {
		return fmt.Errorf("writing %s to the policy store: %w", p, err)
	}
	return nil
}

// builtinModules are the built-in bundle's modules, or with NoBuiltin only
// its libraries (data.meshguard.lib.*), which users' policies may import.
func builtinModules(opts Options, tests bool) ([]*ast.Module, string, error) {
	src := opts.Builtin
	if src == nil {
		src = policies.FS
	}
	if opts.NoBuiltin {
		if _, err := fs.Stat(src, "lib"); err != nil {
			return nil, "", nil // a bundle without libraries
		}
		lib, err := fs.Sub(src, "lib")
		if err != nil {
			return nil, "", err
		}
		mods, _, err := loadFSWith(lib, "policies/lib", false)
		if err != nil {
			return nil, "", fmt.Errorf("loading the built-in libraries: %w", err)
		}
		return mods, "", nil
	}
	mods, rev, err := loadFSWith(src, "policies", tests)
	if err != nil {
		return nil, "", fmt.Errorf("loading built-in bundle: %w", err)
	}
	return mods, rev, nil
}

func loadFS(fsys fs.FS, label string) ([]*ast.Module, string, error) {
	return loadFSWith(fsys, label, false)
}

// loadFSWith parses the .rego files of fsys, with the _test.rego files when
// tests is true.
func loadFSWith(fsys fs.FS, label string, tests bool) ([]*ast.Module, string, error) {
	var modules []*ast.Module
	h := sha256.New()
	popts := ast.ParserOptions{ProcessAnnotation: true, RegoVersion: ast.RegoV1}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if skip, err := skipEntry(p, d, tests); skip || err != nil {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		name := path.Join(label, p)
		h.Write([]byte(name))
		h.Write(b)
		m, err := ast.ParseModuleWithOpts(name, string(b), popts)
		if err != nil {
			return fmt.Errorf("parsing %w", err)
		}
		modules = append(modules, m)
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	rev := "sha256:" + hex.EncodeToString(h.Sum(nil))[:12]
	if b, err := fs.ReadFile(fsys, ".manifest"); err == nil {
		var manifest struct {
			Revision string `json:"revision"`
		}
		if err := json.Unmarshal(b, &manifest); err != nil {
			return nil, "", fmt.Errorf("reading %s/.manifest: %w", label, err)
		}
		if manifest.Revision != "" {
			rev = manifest.Revision
		}
	}
	return modules, rev, nil
}

// skipEntry says whether the walk of a policy directory passes over p: what
// is not a .rego file (or is a test, unless tests), and the "..<timestamp>"
// directories through which the kubelet swaps a ConfigMap volume (its files
// are reached once, through the "..data" symlinks at the top).
func skipEntry(p string, d fs.DirEntry, tests bool) (bool, error) {
	if d.IsDir() {
		if p != "." && strings.HasPrefix(d.Name(), "..") {
			return true, fs.SkipDir
		}
		return true, nil
	}
	return !strings.HasSuffix(p, ".rego") || (!tests && strings.HasSuffix(p, "_test.rego")), nil
}

// Digest is a fingerprint of the policies New would load from dirs and of
// the config file (when not ""): it changes when any of them changes, so a
// watcher can tell when to reload. A file that cannot be read is an error
// naming it.
func Digest(dirs []string, configFile string) (string, error) {
	h := sha256.New()
	for _, dir := range dirs {
		fsys := os.DirFS(dir)
		err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if skip, err := skipEntry(p, d, false); skip || err != nil {
				return err
			}
			b, err := fs.ReadFile(fsys, p)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "%s/%s\x00%d\x00", dir, p, len(b))
			h.Write(b)
			return nil
		})
		if err != nil {
			return "", fmt.Errorf("reading policies from %s: %w", dir, err)
		}
		if b, err := os.ReadFile(path.Join(dir, ".manifest")); err == nil {
			h.Write(b)
		}
	}
	if configFile != "" {
		b, err := os.ReadFile(configFile)
		if err != nil {
			return "", fmt.Errorf("reading the config: %w", err)
		}
		fmt.Fprintf(h, "config\x00%d\x00", len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func capabilities() *ast.Capabilities {
	caps := ast.CapabilitiesForThisVersion()
	caps.Builtins = slices.DeleteFunc(slices.Clone(caps.Builtins), func(b *ast.Builtin) bool {
		return slices.Contains(ForbiddenBuiltins, b.Name)
	})
	caps.AllowNet = []string{}
	return caps
}

func compile(modules []*ast.Module) (*ast.Compiler, error) {
	c := ast.NewCompiler().
		WithCapabilities(capabilities()).
		WithEnablePrintStatements(false)
	mods := make(map[string]*ast.Module, len(modules))
	for _, m := range modules {
		name := m.Package.Location.File
		if _, dup := mods[name]; dup {
			return nil, fmt.Errorf("compiling policies: two modules named %s", name)
		}
		mods[name] = m
	}
	c.Compile(mods)
	if c.Failed() {
		var msgs []string
		for _, e := range c.Errors {
			msg := e.Error()
			for _, b := range ForbiddenBuiltins {
				if strings.Contains(e.Message, "undefined function "+b) {
					msg += fmt.Sprintf(" (meshguard removes %s: policies may not use the network or the host)", b)
				}
			}
			msgs = append(msgs, msg)
		}
		return nil, fmt.Errorf("compiling policies:\n  %s", strings.Join(msgs, "\n  "))
	}
	return c, nil
}

func (e *Engine) prepare(ctx context.Context, c *ast.Compiler) error {
	kinds := map[GroupKind][]*Rule{}
	var order []GroupKind
	for _, r := range e.rules {
		for _, k := range r.Kinds {
			if _, seen := kinds[k.GroupKind]; !seen {
				order = append(order, k.GroupKind)
			}
			if !slices.Contains(kinds[k.GroupKind], r) {
				kinds[k.GroupKind] = append(kinds[k.GroupKind], r)
			}
		}
	}
	for _, gk := range order {
		// One prepared query per distinct rule set: CREATE and UPDATE
		// usually share theirs.
		bySet := map[string]*kindQuery{}
		for _, op := range []string{OpCreate, OpUpdate, OpDelete} {
			var rules []*Rule
			var ids []string
			for _, r := range kinds[gk] {
				if r.Judges(op) {
					rules = append(rules, r)
					ids = append(ids, r.ID)
				}
			}
			if len(rules) == 0 {
				continue
			}
			set := strings.Join(ids, ",")
			kq := bySet[set]
			if kq == nil {
				var err error
				if kq, err = e.prepareKind(ctx, c, gk, rules, false); err != nil {
					return err
				}
				bySet[set] = kq
			}
			e.byKind[opKind{gk, op}] = kq
		}
		var mutating []*Rule
		for _, r := range kinds[gk] {
			if r.Mutates {
				mutating = append(mutating, r)
			}
		}
		if len(mutating) > 0 {
			kq, err := e.prepareKind(ctx, c, gk, mutating, true)
			if err != nil {
				return err
			}
			e.mutations[gk] = kq
		}
	}
	return nil
}

// prepareKind prepares one query that reads the decisions (or, with mutate,
// the mutations) of the given rules, each bound to its own variable.
func (e *Engine) prepareKind(ctx context.Context, c *ast.Compiler, gk GroupKind, rules []*Rule, mutate bool) (*kindQuery, error) {
	kq := &kindQuery{engine: e}
	var body []string
	add := func(name string, r *Rule, action Action, decision string) {
		ref := r.Package + "." + decision
		kq.bindings = append(kq.bindings, binding{name: name, rule: r, action: action})
		kq.refs = append(kq.refs, ref)
		body = append(body, fmt.Sprintf("%s := %s", name, ref))
		if !slices.Contains(e.plan.refs, ref) {
			e.plan.refs = append(e.plan.refs, ref)
		}
	}
	for i, r := range rules {
		switch {
		case mutate:
			add(fmt.Sprintf("m%d", i), r, "", "mutate")
		default:
			if r.hasDeny {
				add(fmt.Sprintf("d%d", i), r, ActionDeny, "deny")
			}
			if r.hasWarn {
				add(fmt.Sprintf("w%d", i), r, ActionWarn, "warn")
			}
		}
	}
	kq.src = strings.Join(body, "; ")
	// The query is compiled now, so that a bundle whose decisions do not
	// compile fails at load, not at its first object; planning and topdown
	// wait until an object needs them.
	// (An engine loaded from a snapshot has no compiler: its queries
	// compiled when the snapshot was made.)
	if c == nil {
		return kq, nil
	}
	parsed, err := ast.ParseBody(kq.src)
	if err == nil {
		_, err = c.QueryCompiler().Compile(parsed)
	}
	if err != nil {
		return nil, fmt.Errorf("preparing the query for %s: %w", gk, err)
	}
	return kq, nil
}

func queryValue(ctx context.Context, c *ast.Compiler, store storage.Store, q string) (map[string]any, error) {
	rs, err := rego.New(rego.Query("x := "+q), rego.Compiler(c), rego.Store(store)).Eval(ctx)
	if err != nil {
		return nil, fmt.Errorf("evaluating %s: %w", q, err)
	}
	if len(rs) == 0 {
		return nil, fmt.Errorf("evaluating %s: undefined (is policies/lib/config loaded?)", q)
	}
	m, ok := rs[0].Bindings["x"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("evaluating %s: not an object", q)
	}
	return m, nil
}

// defaultParams are the parameters' defaults (they read no data).
func defaultParams(ctx context.Context, c *ast.Compiler) (map[string]any, error) {
	if c.RuleTree.Find(ast.MustParseRef("data.meshguard.lib.config.defaults")) == nil {
		return map[string]any{}, nil // a user bundle without the built-in library
	}
	return queryValue(ctx, c, inmem.New(), "data.meshguard.lib.config.defaults")
}

// effectiveParams merges the defaults with the user's config: it must run
// before data.meshguard.params is written, which the policies then read
// instead of merging.
func (e *Engine) effectiveParams(ctx context.Context, c *ast.Compiler) (map[string]any, error) {
	if c.RuleTree.Find(ast.MustParseRef("data.meshguard.lib.config.params")) == nil {
		return map[string]any{}, nil
	}
	return queryValue(ctx, c, e.store, "data.meshguard.lib.config.params")
}
