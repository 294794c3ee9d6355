package policy

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
)

// Indexes are facts about the inventory alone (no input), such as "the routes
// that name each Gateway", that a library computes once per inventory instead
// of once per object. A library marks such a rule with rule METADATA
//
//	# METADATA
//	# custom:
//	#   index: true
//	computed_routes_by_gateway[key] contains ref if { ... data.inventory ... }
//
// and the engine, whenever the inventory has changed since the last
// evaluation, evaluates every marked rule once and writes its value to
// data.meshguard.index.<the rule's path under data.meshguard>, for example
// data.meshguard.index.lib.gwapi.computed_routes_by_gateway. The library's
// public rule reads that value when it is there and computes the rule itself
// otherwise (conftest, opa test, opa eval):
//
//	routes_by_gateway := v if {
//		v := data.meshguard.index.lib.gwapi.computed_routes_by_gateway
//	} else := computed_routes_by_gateway
//
// An index rule must not read input: the engine evaluates it without one.
type indexes struct {
	paths []ast.Ref // the marked rules, sorted
	// query is topdown's query of every index, prepared when first needed
	// (under topdown, or when the bundle cannot be planned).
	once  sync.Once
	query rego.PreparedEvalQuery
	err   error
}

// indexPrefix is where index values live under data.
var indexPrefix = storage.Path{"meshguard", "index"}

// indexPaths are the rules the bundle marks as indexes, sorted.
func indexPaths(c *ast.Compiler) ([]ast.Ref, error) {
	seen := map[string]bool{}
	var refs []ast.Ref
	for _, ref := range c.GetAnnotationSet().Flatten() {
		a := ref.Annotations
		if a == nil || a.Scope != "rule" || a.Custom["index"] != true {
			continue
		}
		p := ref.Path
		if len(p) < 3 || !p[1].Equal(ast.InternedTerm("meshguard")) {
			return nil, fmt.Errorf("%s: an index rule (METADATA custom.index) must be under data.meshguard", p)
		}
		if seen[p.String()] {
			continue
		}
		for _, t := range p[1:] {
			if _, ok := t.Value.(ast.String); !ok {
				return nil, fmt.Errorf("%s: an index rule must have a plain name (no variable in its head)", p)
			}
		}
		seen[p.String()] = true
		refs = append(refs, p)
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].String() < refs[j].String() })
	return refs, nil
}

// topdownIndexes is topdown's query of every index.
func (e *Engine) topdownIndexes(ctx context.Context) (rego.PreparedEvalQuery, error) {
	x := &e.index
	x.once.Do(func() {
		body := make([]string, len(x.paths))
		for i, r := range x.paths {
			body[i] = fmt.Sprintf("i%d := %s", i, r)
		}
		x.err = e.withCompiler(func(c *ast.Compiler) (err error) {
			x.query, err = rego.New(rego.Query(strings.Join(body, "; ")), rego.Compiler(c), rego.Store(e.store)).PrepareForEval(context.WithoutCancel(ctx))
			if err != nil {
				return fmt.Errorf("preparing the index query: %w", err)
			}
			return nil
		})
	})
	return x.query, x.err
}

// inventoryChanged records a write to data.inventory: the indexes are
// recomputed before the next evaluation.
func (e *Engine) inventoryChanged() { e.inventoryGen.Add(1) }

// ensureIndexes recomputes the indexes when the inventory changed since they
// were last computed. Concurrent callers wait for one computation.
func (e *Engine) ensureIndexes(ctx context.Context) error {
	if len(e.index.paths) == 0 {
		return nil
	}
	gen := e.inventoryGen.Load()
	if e.indexGen.Load() == gen {
		return nil
	}
	e.indexMu.Lock()
	defer e.indexMu.Unlock()
	gen = e.inventoryGen.Load()
	if e.indexGen.Load() == gen {
		return nil
	}
	doc, err := e.computeIndexes(ctx)
	if err != nil {
		return err
	}
	if err := e.write(ctx, indexPrefix, doc); err != nil {
		return err
	}
	e.indexGen.Store(gen)
	return nil
}

// computeIndexes evaluates every index rule once, on the current inventory,
// with the plan (as the decisions are) unless the engine runs topdown. An
// undefined index leaves them all out, so the library computes each per
// object.
func (e *Engine) computeIndexes(ctx context.Context) (map[string]any, error) {
	values, err := e.indexValues(ctx)
	if err != nil {
		return nil, fmt.Errorf("computing the inventory indexes: %w", err)
	}
	doc := map[string]any{}
	if values == nil {
		return doc, nil // some index is undefined: none is served
	}
	for i, r := range e.index.paths {
		node := doc
		parts := r[2:] // under data.meshguard.index
		for _, t := range parts[:len(parts)-1] {
			k := string(t.Value.(ast.String))
			next, ok := node[k].(map[string]any)
			if !ok {
				next = map[string]any{}
				node[k] = next
			}
			node = next
		}
		node[string(parts[len(parts)-1].Value.(ast.String))] = values[i]
	}
	return doc, nil
}

// indexValues are the values of the index rules, in the order of
// e.index.paths (OPA values from the plan, Go values from topdown), nil
// when one is undefined.
func (e *Engine) indexValues(ctx context.Context) ([]any, error) {
	if !e.topdown {
		if p := e.planned(ctx); p.err == nil {
			fns := make([]*vmFunc, len(e.index.paths))
			for i, r := range e.index.paths {
				fns[i] = p.fns[r.String()]
			}
			dv, done, err := e.readData(ctx)
			if err != nil {
				return nil, err
			}
			defer done()
			// Each index on its own goroutine: the evaluations that wait
			// for them wait less.
			terms := make([]*ast.Term, len(fns))
			errs := make([]error, len(fns))
			var wg sync.WaitGroup
			for i, fn := range fns {
				wg.Go(func() {
					var out []*ast.Term
					if out, errs[i] = p.prog.run(ctx, nil, dv, []*vmFunc{fn}); errs[i] == nil {
						terms[i] = out[0]
					}
				})
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				return nil, err
			}
			values := make([]any, len(terms))
			for i, t := range terms {
				if t == nil {
					return nil, nil
				}
				values[i] = t.Value
			}
			return values, nil
		}
	}
	q, err := e.topdownIndexes(ctx)
	if err != nil {
		return nil, err
	}
	rs, err := q.Eval(ctx)
	if err != nil || len(rs) == 0 {
		return nil, err
	}
	values := make([]any, len(e.index.paths))
	for i := range e.index.paths {
		values[i] = rs[0].Bindings[fmt.Sprintf("i%d", i)]
	}
	return values, nil
}

// IndexDocument is what the engine serves as data.meshguard.index for the
// current inventory (for tools that evaluate the bundle with their own
// store), as Go values.
func (e *Engine) IndexDocument(ctx context.Context) (map[string]any, error) {
	if len(e.index.paths) == 0 {
		return map[string]any{}, nil
	}
	doc, err := e.computeIndexes(ctx)
	if err != nil {
		return nil, err
	}
	v, err := ast.InterfaceToValue(doc)
	if err != nil {
		return nil, err
	}
	x, err := ast.JSON(v)
	if err != nil {
		return nil, err
	}
	return x.(map[string]any), nil
}

// inventoryKeys collects the inventory keys ("<Kind>.<group>") that appear as
// strings anywhere in the compiled modules: the kinds a rule may look up in
// data.inventory.objects. A policy names the kinds it reads literally, as the
// built-in ones do (docs/policies.md).
func inventoryKeys(c *ast.Compiler) map[string]bool {
	keys := map[string]bool{}
	for _, m := range c.Modules {
		ast.WalkTerms(m, func(t *ast.Term) bool {
			if s, ok := t.Value.(ast.String); ok && looksLikeInventoryKey(string(s)) {
				keys[string(s)] = true
			}
			return false
		})
	}
	return keys
}

// looksLikeInventoryKey: "<Kind>.<group>" with a capitalised kind and a
// group with a dot in it (for example "Server.policy.linkerd.io").
func looksLikeInventoryKey(s string) bool {
	i := strings.IndexByte(s, '.')
	if i <= 0 || s[0] < 'A' || s[0] > 'Z' || !strings.Contains(s[i+1:], ".") || strings.ContainsAny(s, " /:") {
		return false
	}
	return true
}

// ReadsInventory reports whether a rule of the bundle may read objects of the
// kind from the inventory: Namespaces always, other kinds when their key
// "<Kind>.<group>" is written in a policy. Callers keep only those kinds in
// the inventory (check and audit), which saves the memory of the others.
func (e *Engine) ReadsInventory(gk GroupKind) bool {
	if gk.Group == "" && gk.Kind == "Namespace" {
		return true
	}
	return e.inventoryKeys[gk.String()]
}
