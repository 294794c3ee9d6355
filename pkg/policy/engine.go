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

	"github.com/open-policy-agent/opa/v1/ast"
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
}

// ForbiddenBuiltins are removed from the capabilities the bundle is compiled
// with: policies must not reach the network or the host, so a policy that
// calls one of them fails to load.
var ForbiddenBuiltins = []string{"http.send", "net.lookup_ip_addr", "opa.runtime"}

// ErrNoRules is returned when the loaded policies define no rule at all.
var ErrNoRules = errors.New("no rules loaded")

// Engine evaluates objects against a compiled bundle. It is safe for
// concurrent use.
type Engine struct {
	revision    string
	rules       []*Rule
	byID        map[string]*Rule
	byKind      map[GroupKind]*kindQuery
	store       storage.Store
	params      map[string]any
	enforcement map[string]Action
	excluded    map[string]bool
}

type binding struct {
	name   string
	rule   *Rule
	action Action
}

type kindQuery struct {
	bindings []binding
	query    rego.PreparedEvalQuery
}

// New loads, compiles and prepares the bundle.
func New(ctx context.Context, opts Options) (*Engine, error) {
	cfg := opts.Config
	if cfg == nil {
		cfg = &Config{}
	}
	var modules []*ast.Module
	var revisions []string
	if !opts.NoBuiltin {
		src := opts.Builtin
		if src == nil {
			src = policies.FS
		}
		mods, rev, err := loadFS(src, "policies")
		if err != nil {
			return nil, fmt.Errorf("loading built-in bundle: %w", err)
		}
		modules = append(modules, mods...)
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

	compiler, err := compile(modules)
	if err != nil {
		return nil, err
	}
	rules, err := rulesFromCompiler(compiler)
	if err != nil {
		return nil, err
	}
	if len(rules) == 0 {
		return nil, ErrNoRules
	}

	e := &Engine{
		revision:    strings.Join(revisions, "+"),
		rules:       rules,
		byID:        map[string]*Rule{},
		byKind:      map[GroupKind]*kindQuery{},
		enforcement: cfg.Enforcement,
		excluded:    map[string]bool{},
	}
	for _, r := range rules {
		e.byID[r.ID] = r
	}
	excluded := cfg.ExcludeNamespaces
	if excluded == nil {
		excluded = DefaultExcludedNamespaces
	}
	for _, ns := range excluded {
		e.excluded[ns] = true
	}

	e.store = inmem.NewWithOpts(inmem.OptRoundTripOnWrite(false), inmem.OptReturnASTValuesOnRead(true))
	defaults, err := e.defaultParams(ctx, compiler)
	if err != nil {
		return nil, err
	}
	if err := cfg.validate(e.byID, defaults); err != nil {
		return nil, err
	}
	userParams := cfg.Params
	if userParams == nil {
		userParams = map[string]any{}
	}
	// engine.indexed tells policies that the kind guard already ran here.
	meshguard := map[string]any{"config": userParams, "engine": map[string]any{"indexed": true}}
	if err := e.write(ctx, storage.Path{"meshguard"}, meshguard); err != nil {
		return nil, err
	}
	if err := e.SetInventory(ctx, nil); err != nil {
		return nil, err
	}
	if err := e.prepare(ctx, compiler); err != nil {
		return nil, err
	}
	if e.params, err = e.effectiveParams(ctx, compiler); err != nil {
		return nil, err
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

// Covers reports whether any rule applies to the kind.
func (e *Engine) Covers(gk GroupKind) bool {
	_, ok := e.byKind[gk]
	return ok
}

// SetInventory replaces the inventory document that cross-object rules read
// as data.inventory (see pkg/inventory). nil means an empty inventory.
func (e *Engine) SetInventory(ctx context.Context, doc map[string]any) error {
	if doc == nil {
		doc = map[string]any{"namespaces": map[string]any{}, "objects": map[string]any{}}
	}
	return e.write(ctx, storage.Path{"inventory"}, doc)
}

func (e *Engine) write(ctx context.Context, p storage.Path, v any) error {
	if err := storage.WriteOne(ctx, e.store, storage.AddOp, p, v); err != nil {
		return fmt.Errorf("writing %s to the policy store: %w", p, err)
	}
	return nil
}

func loadFS(fsys fs.FS, label string) ([]*ast.Module, string, error) {
	var modules []*ast.Module
	h := sha256.New()
	popts := ast.ParserOptions{ProcessAnnotation: true, RegoVersion: ast.RegoV1}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(p, ".rego") || strings.HasSuffix(p, "_test.rego") {
			return nil
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
	byKind := map[GroupKind][]*Rule{}
	for _, r := range e.rules {
		for _, k := range r.Kinds {
			if !slices.Contains(byKind[k.GroupKind], r) {
				byKind[k.GroupKind] = append(byKind[k.GroupKind], r)
			}
		}
	}
	for gk, rules := range byKind {
		kq := &kindQuery{}
		var body []string
		for i, r := range rules {
			if r.hasDeny {
				b := binding{name: fmt.Sprintf("d%d", i), rule: r, action: ActionDeny}
				kq.bindings = append(kq.bindings, b)
				body = append(body, fmt.Sprintf("%s := %s.deny", b.name, r.Package))
			}
			if r.hasWarn {
				b := binding{name: fmt.Sprintf("w%d", i), rule: r, action: ActionWarn}
				kq.bindings = append(kq.bindings, b)
				body = append(body, fmt.Sprintf("%s := %s.warn", b.name, r.Package))
			}
		}
		pq, err := rego.New(
			rego.Query(strings.Join(body, "; ")),
			rego.Compiler(c),
			rego.Store(e.store),
		).PrepareForEval(ctx)
		if err != nil {
			return fmt.Errorf("preparing the query for %s: %w", gk, err)
		}
		kq.query = pq
		e.byKind[gk] = kq
	}
	return nil
}

func (e *Engine) queryValue(ctx context.Context, c *ast.Compiler, q string) (map[string]any, error) {
	rs, err := rego.New(rego.Query("x := "+q), rego.Compiler(c), rego.Store(e.store)).Eval(ctx)
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

func (e *Engine) defaultParams(ctx context.Context, c *ast.Compiler) (map[string]any, error) {
	if c.RuleTree.Find(ast.MustParseRef("data.meshguard.lib.config.defaults")) == nil {
		return map[string]any{}, nil // a user bundle without the built-in library
	}
	return e.queryValue(ctx, c, "data.meshguard.lib.config.defaults")
}

func (e *Engine) effectiveParams(ctx context.Context, c *ast.Compiler) (map[string]any, error) {
	if c.RuleTree.Find(ast.MustParseRef("data.meshguard.lib.config.params")) == nil {
		return map[string]any{}, nil
	}
	return e.queryValue(ctx, c, "data.meshguard.lib.config.params")
}
