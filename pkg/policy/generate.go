package policy

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

// Labels and annotations of generated objects (RULES.md project decision 4).
const (
	LabelManagedBy            = "app.kubernetes.io/managed-by"
	ManagedByMeshguard        = "meshguard"
	AnnotationBundleRevision  = "meshguard.io/bundle-revision"
	AnnotationGeneratedBy     = "meshguard.io/generated-by"
	AnnotationDefaultsOptOut  = "meshguard.io/defaults" // "disabled" on a Namespace
	DefaultsDisabled          = "disabled"
	generatorPackagePrefix    = "data.meshguard.generate."
	generatorDecision         = "generate"
	generatorIDPatternExample = "ISTIO-GEN-001"
)

var generatorIDPattern = regexp.MustCompile(`^[A-Z][A-Z0-9]*-GEN-\d{3}$`)

// Generator is a package that says which default objects a Namespace should
// have (`generate contains obj if ...`), versioned like a rule.
type Generator struct {
	ID      string `json:"id"`
	Title   string `json:"title"`
	Version string `json:"version"`
	Package string `json:"package"`
	File    string `json:"file"`
}

// Generated is one default object a Namespace lacks, labelled and annotated
// as managed by meshguard.
type Generated struct {
	Generator string         `json:"generator"`
	Version   string         `json:"version"`
	Object    map[string]any `json:"object"`
}

func generatorsFromCompiler(c *ast.Compiler) ([]*Generator, error) {
	pkgs := generatorPackages(c)
	var out []*Generator
	var errs []string
	found := map[string]bool{}
	for _, ref := range c.GetAnnotationSet().Flatten() {
		a := ref.Annotations
		pkg := ref.Path.String()
		if a == nil || a.Scope != "package" || !pkgs[pkg] {
			continue
		}
		id, _ := a.Custom["id"].(string)
		version, _ := a.Custom["version"].(string)
		g := &Generator{ID: id, Title: a.Title, Version: version, Package: pkg}
		if a.Location != nil {
			g.File = a.Location.File
		}
		if !generatorIDPattern.MatchString(id) {
			errs = append(errs, fmt.Sprintf("%s: generator %s: custom.id %q is not of the form %s", g.File, pkg, id, generatorIDPatternExample))
			continue
		}
		if !semverPattern.MatchString(version) {
			errs = append(errs, fmt.Sprintf("%s: generator %s: custom.version %q is not a semantic version", g.File, pkg, version))
			continue
		}
		found[pkg] = true
		out = append(out, g)
	}
	for pkg := range pkgs {
		if !found[pkg] && strings.HasPrefix(pkg, generatorPackagePrefix) {
			errs = append(errs, fmt.Sprintf("%s defines generate but has no package METADATA with custom.id and custom.version", pkg))
		}
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return nil, fmt.Errorf("invalid generator metadata:\n  %s", strings.Join(errs, "\n  "))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// prepareGenerators prepares the query of every generator, once: at load
// when the bundle was compiled then, else when first needed.
func (e *Engine) prepareGenerators(ctx context.Context) error {
	e.genOnce.Do(func() {
		if len(e.generators) == 0 {
			return
		}
		var body []string
		for i, g := range e.generators {
			body = append(body, fmt.Sprintf("g%d := %s.%s", i, g.Package, generatorDecision))
		}
		e.genErr = e.withCompiler(func(c *ast.Compiler) error {
			pq, err := rego.New(rego.Query(strings.Join(body, "; ")), rego.Compiler(c), rego.Store(e.store)).PrepareForEval(context.WithoutCancel(ctx))
			if err != nil {
				return fmt.Errorf("preparing the generators: %w", err)
			}
			e.generateQuery = &pq
			return nil
		})
	})
	return e.genErr
}

// Generators are the loaded generators.
func (e *Engine) Generators() []*Generator { return e.generators }

// Generate returns the default objects the Namespace ns lacks, judged
// against the inventory, each labelled app.kubernetes.io/managed-by:
// meshguard and annotated with the bundle revision and the generator. A
// Namespace annotated meshguard.io/defaults: disabled gets none.
func (e *Engine) Generate(ctx context.Context, ns map[string]any) ([]Generated, error) {
	if len(e.generators) == 0 {
		return nil, nil
	}
	ref := RefOf(ns)
	if ref.Kind != "Namespace" || e.excluded[ref.Name] {
		return nil, nil
	}
	if md, ok := ns["metadata"].(map[string]any); ok {
		if ann, ok := md["annotations"].(map[string]any); ok && ann[AnnotationDefaultsOptOut] == DefaultsDisabled {
			return nil, nil
		}
	}
	v, err := ast.InterfaceToValue(ns)
	if err != nil {
		return nil, &EvalError{Object: ref, Err: err}
	}
	if err := e.ensureIndexes(ctx); err != nil {
		return nil, &EvalError{Object: ref, Err: err}
	}
	if err := e.prepareGenerators(ctx); err != nil {
		return nil, &EvalError{Object: ref, Err: err}
	}
	rs, err := e.generateQuery.Eval(ctx, rego.EvalParsedInput(v))
	if err != nil {
		return nil, &EvalError{Object: ref, Err: err}
	}
	if len(rs) == 0 {
		return nil, &EvalError{Object: ref, Err: fmt.Errorf("the generate query was undefined")}
	}
	var out []Generated
	for i, g := range e.generators {
		set, ok := rs[0].Bindings[fmt.Sprintf("g%d", i)].([]any)
		if !ok {
			return nil, &EvalError{Object: ref, Err: fmt.Errorf("%s.generate is not a set", g.Package)}
		}
		for _, raw := range set {
			obj, ok := plainNumbers(raw).(map[string]any)
			if !ok {
				return nil, &EvalError{Object: ref, Err: fmt.Errorf("%s.generate returned %T, want an object", g.Package, raw)}
			}
			md, _ := obj["metadata"].(map[string]any)
			if md == nil {
				md = map[string]any{}
				obj["metadata"] = md
			}
			md["namespace"] = ref.Name
			labels, _ := md["labels"].(map[string]any)
			if labels == nil {
				labels = map[string]any{}
				md["labels"] = labels
			}
			labels[LabelManagedBy] = ManagedByMeshguard
			ann, _ := md["annotations"].(map[string]any)
			if ann == nil {
				ann = map[string]any{}
				md["annotations"] = ann
			}
			ann[AnnotationBundleRevision] = e.revision
			ann[AnnotationGeneratedBy] = g.ID + "@" + g.Version
			out = append(out, Generated{Generator: g.ID, Version: g.Version, Object: obj})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := RefOf(out[i].Object), RefOf(out[j].Object)
		return a.Kind+"/"+a.Name < b.Kind+"/"+b.Name
	})
	return out, nil
}
