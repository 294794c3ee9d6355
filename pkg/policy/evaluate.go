package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
)

// ObjectRef names the object a finding is about.
type ObjectRef struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
}

func (r ObjectRef) String() string {
	if r.Namespace == "" {
		return r.Kind + " " + r.Name
	}
	return r.Kind + " " + r.Namespace + "/" + r.Name
}

// GroupKind of the object, ignoring the version.
func (r ObjectRef) GroupKind() GroupKind {
	group := ""
	if i := strings.IndexByte(r.APIVersion, '/'); i >= 0 {
		group = r.APIVersion[:i]
	}
	return GroupKind{Group: group, Kind: r.Kind}
}

// RefOf reads the reference of a decoded object.
func RefOf(obj map[string]any) ObjectRef {
	ref := ObjectRef{}
	ref.APIVersion, _ = obj["apiVersion"].(string)
	ref.Kind, _ = obj["kind"].(string)
	if md, ok := obj["metadata"].(map[string]any); ok {
		ref.Namespace, _ = md["namespace"].(string)
		ref.Name, _ = md["name"].(string)
		if ref.Name == "" {
			if gn, ok := md["generateName"].(string); ok {
				ref.Name = gn + "*"
			}
		}
	}
	return ref
}

// The keys RefOfValue, objectOf and annotationsOf read, made once.
var refKeys = struct {
	apiVersion, kind, metadata, namespace, name, generateName, annotations *ast.Term
	request, object, operation, oldObject                                  *ast.Term
}{
	ast.StringTerm("apiVersion"), ast.StringTerm("kind"), ast.StringTerm("metadata"),
	ast.StringTerm("namespace"), ast.StringTerm("name"), ast.StringTerm("generateName"), ast.StringTerm("annotations"),
	ast.StringTerm("request"), ast.StringTerm("object"), ast.StringTerm("operation"), ast.StringTerm("oldObject"),
}

// RefOfValue is RefOf for an object already in the OPA value the rules
// read (the webhook's, see ValueFromJSON).
func RefOfValue(obj ast.Object) ObjectRef {
	str := func(o ast.Object, key *ast.Term) string {
		if t := o.Get(key); t != nil {
			if s, ok := t.Value.(ast.String); ok {
				return string(s)
			}
		}
		return ""
	}
	ref := ObjectRef{APIVersion: str(obj, refKeys.apiVersion), Kind: str(obj, refKeys.kind)}
	if t := obj.Get(refKeys.metadata); t != nil {
		if md, ok := t.Value.(ast.Object); ok {
			ref.Namespace, ref.Name = str(md, refKeys.namespace), str(md, refKeys.name)
			if ref.Name == "" {
				if gn := md.Get(refKeys.generateName); gn != nil {
					if s, ok := gn.Value.(ast.String); ok {
						ref.Name = string(s) + "*"
					}
				}
			}
		}
	}
	return ref
}

// Finding is the one shape in which every front door reports a rule's verdict.
type Finding struct {
	Rule        string `json:"rule"`
	Version     string `json:"version"`
	Severity    string `json:"severity"`
	Action      Action `json:"action"`
	Message     string `json:"message"`
	Path        string `json:"path,omitempty"`
	Line        int    `json:"line,omitempty"`
	Remediation string `json:"remediation,omitempty"`
	// Exemption is set when the finding is exempted (Action "exempted").
	Exemption *Exemption `json:"exemption,omitempty"`
	// Object and Revision are carried by the report around the finding.
	Object   ObjectRef `json:"-"`
	Revision string    `json:"-"`
	// PathParts is Path as keys and indices, for locating the field.
	PathParts []any `json:"-"`
}

// EvalError is a policy evaluation failure: the rule could not decide, which
// must never be taken as "allowed".
type EvalError struct {
	Object ObjectRef
	Err    error
}

func (e *EvalError) Error() string {
	return fmt.Sprintf("evaluating policy for %s: %v", e.Object, e.Err)
}

func (e *EvalError) Unwrap() error { return e.Err }

// Evaluate judges one decoded object (the object itself, as written in YAML)
// as on CREATE, against every rule whose kinds include the object's kind.
func (e *Engine) Evaluate(ctx context.Context, obj map[string]any) ([]Finding, error) {
	ref := RefOf(obj)
	kq, ok := e.byKind[opKind{ref.GroupKind(), OpCreate}]
	if !ok || e.excludedRef(ref) {
		return nil, nil
	}
	v, err := ast.InterfaceToValue(obj)
	if err != nil {
		return nil, &EvalError{Object: ref, Err: fmt.Errorf("converting input: %w", err)}
	}
	return e.eval(ctx, kq, ref, v)
}

// EvaluateInput judges an object given as a ready OPA input value: the object
// itself or an AdmissionReview around it. ref names the object under
// judgement and op is the admission operation (OpCreate, OpUpdate or
// OpDelete): only the rules that judge op are evaluated.
func (e *Engine) EvaluateInput(ctx context.Context, ref ObjectRef, op string, input ast.Value) ([]Finding, error) {
	kq, ok := e.byKind[opKind{ref.GroupKind(), op}]
	if !ok || e.excludedRef(ref) {
		return nil, nil
	}
	return e.eval(ctx, kq, ref, input)
}

// Excluded reports whether the namespace is left alone by every rule.
func (e *Engine) Excluded(namespace string) bool { return e.excluded[namespace] }

// excludedRef reports whether the object is left alone: it is in an excluded
// namespace, or it is an excluded Namespace itself (as the API server sends a
// Namespace's own name as the request namespace, and as generators skip it).
func (e *Engine) excludedRef(ref ObjectRef) bool {
	if ref.Kind == "Namespace" && ref.GroupKind().Group == "" {
		return e.excluded[ref.Name]
	}
	return e.excluded[ref.Namespace]
}

// Mutation is a default that a rule says the object lacks: Value belongs at
// Path when nothing is there. Applying it never overwrites a value (see
// pkg/mutate).
type Mutation struct {
	Rule    string `json:"rule"`
	Version string `json:"version"`
	// Path is keys (string) and indices (int) from the object's root.
	Path  []any `json:"path"`
	Value any   `json:"value"`
}

// Mutations returns the defaults the rules would add to a decoded object.
func (e *Engine) Mutations(ctx context.Context, obj map[string]any) ([]Mutation, error) {
	ref := RefOf(obj)
	if _, ok := e.mutations[ref.GroupKind()]; !ok || e.excludedRef(ref) {
		return nil, nil
	}
	v, err := ast.InterfaceToValue(obj)
	if err != nil {
		return nil, &EvalError{Object: ref, Err: fmt.Errorf("converting input: %w", err)}
	}
	return e.MutationsInput(ctx, ref, v)
}

// MutationsInput is Mutations for a ready OPA input value (the object or an
// AdmissionReview around it).
func (e *Engine) MutationsInput(ctx context.Context, ref ObjectRef, input ast.Value) ([]Mutation, error) {
	kq, ok := e.mutations[ref.GroupKind()]
	if !ok || e.excludedRef(ref) {
		return nil, nil
	}
	if err := e.ensureIndexes(ctx); err != nil {
		return nil, &EvalError{Object: ref, Err: err}
	}
	values, err := e.decide(ctx, kq, input)
	if err != nil {
		return nil, &EvalError{Object: ref, Err: err}
	}
	if values == nil {
		return nil, &EvalError{Object: ref, Err: fmt.Errorf("the mutation query was undefined")}
	}
	var out []Mutation
	for i, b := range kq.bindings {
		set, ok := values[i].Value.(ast.Set)
		if !ok {
			return nil, &EvalError{Object: ref, Err: fmt.Errorf("%s.mutate is not a set", b.rule.Package)}
		}
		var err error
		set.Until(func(t *ast.Term) bool {
			var raw any
			if raw, err = ast.JSON(t.Value); err != nil {
				return true
			}
			var m Mutation
			if m, err = mutationOf(b.rule, raw); err != nil {
				return true
			}
			out = append(out, m)
			return false
		})
		if err != nil {
			return nil, &EvalError{Object: ref, Err: err}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Rule != out[j].Rule {
			return out[i].Rule < out[j].Rule
		}
		return FormatPath(out[i].Path) < FormatPath(out[j].Path)
	})
	return out, nil
}

func mutationOf(r *Rule, raw any) (Mutation, error) {
	m := Mutation{Rule: r.ID, Version: r.Version}
	obj, ok := raw.(map[string]any)
	if !ok {
		return m, fmt.Errorf("%s.mutate returned %T, want {\"path\": [...], \"value\": ...}", r.Package, raw)
	}
	path, ok := obj["path"].([]any)
	if !ok || len(path) == 0 {
		return m, fmt.Errorf("%s.mutate returned a mutation without a path array", r.Package)
	}
	for _, p := range path {
		switch v := p.(type) {
		case string:
			m.Path = append(m.Path, v)
		case json.Number:
			i, err := v.Int64()
			if err != nil || i < 0 {
				return m, fmt.Errorf("%s.mutate: path element %s is not an index", r.Package, v)
			}
			m.Path = append(m.Path, int(i))
		default:
			return m, fmt.Errorf("%s.mutate: path element %v is neither a key nor an index", r.Package, p)
		}
	}
	value, ok := obj["value"]
	if !ok {
		return m, fmt.Errorf("%s.mutate returned a mutation of %s without a value", r.Package, FormatPath(m.Path))
	}
	m.Value = plainNumbers(value)
	return m, nil
}

// plainNumbers turns the json.Number values of a Rego result into int64 or
// float64, as decoded YAML has them.
func plainNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = plainNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = plainNumbers(e)
		}
	}
	return v
}

// decide evaluates a kind's query on the input: the value of each binding
// (each package's deny, warn or mutate), nil when the query is undefined.
func (e *Engine) decide(ctx context.Context, kq *kindQuery, input ast.Value) ([]*ast.Term, error) {
	prog, fns := kq.program(ctx)
	if prog == nil {
		q, err := kq.topdownQuery(ctx)
		if err != nil {
			return nil, err
		}
		rs, err := q.Eval(ctx, rego.EvalParsedInput(input))
		if err != nil || len(rs) == 0 {
			return nil, err
		}
		// Topdown gives Go values, a set as a list.
		values := make([]*ast.Term, len(kq.bindings))
		for i, b := range kq.bindings {
			v, err := ast.InterfaceToValue(rs[0].Bindings[b.name])
			if err != nil {
				return nil, err
			}
			if list, ok := v.(*ast.Array); ok {
				set := ast.NewSet()
				list.Foreach(set.Add)
				v = set
			}
			values[i] = ast.NewTerm(v)
		}
		return values, nil
	}
	dv, done, err := e.readData(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	values, err := prog.run(ctx, input, dv, fns)
	if err != nil {
		return nil, err
	}
	for _, v := range values {
		if v == nil {
			return nil, nil // undefined, as the query would be
		}
	}
	return values, nil
}

// readData is the whole data document as the plan reads it, in a read
// transaction, as topdown holds one: writes to the inventory wait until the
// evaluation is done with the data it read. done ends the transaction.
func (e *Engine) readData(ctx context.Context) (data ast.Value, done func(), err error) {
	txn, err := e.store.NewTransaction(ctx)
	if err != nil {
		return nil, nil, err
	}
	done = func() { e.store.Abort(ctx, txn) }
	v, err := e.store.Read(ctx, txn, storage.RootPath)
	if err != nil {
		done()
		return nil, nil, err
	}
	dv, ok := v.(ast.Value)
	if !ok {
		done()
		return nil, nil, fmt.Errorf("the policy store returned %T, not an OPA value", v)
	}
	return dv, done, nil
}

func (e *Engine) eval(ctx context.Context, kq *kindQuery, ref ObjectRef, input ast.Value) ([]Finding, error) {
	if err := e.ensureIndexes(ctx); err != nil {
		return nil, &EvalError{Object: ref, Err: err}
	}
	values, err := e.decide(ctx, kq, input)
	if err != nil {
		return nil, &EvalError{Object: ref, Err: err}
	}
	if values == nil {
		return nil, &EvalError{Object: ref, Err: fmt.Errorf("the decision query was undefined")}
	}
	n := 0
	for i, b := range kq.bindings {
		set, ok := values[i].Value.(ast.Set)
		if !ok {
			return nil, &EvalError{Object: ref, Err: fmt.Errorf("%s.%s is not a set", b.rule.Package, b.action)}
		}
		n += set.Len()
	}
	if n == 0 {
		return nil, nil // most objects pass most rules
	}
	out := make([]Finding, 0, n)
	for i, b := range kq.bindings {
		set := values[i].Value.(ast.Set)
		if set.Len() == 0 {
			continue
		}
		var err error
		set.Until(func(t *ast.Term) bool {
			var f Finding
			if f, err = e.finding(b, ref, t.Value); err != nil {
				return true
			}
			out = append(out, f)
			return false
		})
		if err != nil {
			return nil, &EvalError{Object: ref, Err: err}
		}
	}
	e.exempt(ctx, input, ref, out)
	SortFindings(out)
	return out, nil
}

// finding reads one element of a package's deny or warn: a message, or an
// object with msg and optionally id, severity and path.
func (e *Engine) finding(b binding, ref ObjectRef, v ast.Value) (Finding, error) {
	r := b.rule
	f := Finding{
		Rule:        r.ID,
		Version:     r.Version,
		Severity:    r.Severity,
		Action:      b.action,
		Remediation: r.Remediation,
		Object:      ref,
		Revision:    e.revision,
	}
	if a, ok := e.enforcement[r.ID]; ok {
		f.Action = a
	}
	switch v := v.(type) {
	case ast.String: // conftest style: deny contains msg if ...
		f.Message = string(v)
	case ast.Object:
		msg, ok := stringAt(v, findingKeys.msg)
		if !ok {
			return f, fmt.Errorf("%s.%s returned a finding without a string msg", r.Package, b.action)
		}
		f.Message = msg
		if id, ok := stringAt(v, findingKeys.id); ok && id != r.ID {
			return f, fmt.Errorf("%s.%s returned a finding with id %s, but the package METADATA says %s", r.Package, b.action, id, r.ID)
		}
		if s, ok := stringAt(v, findingKeys.severity); ok && s != "" {
			f.Severity = s
		}
		if t := v.Get(findingKeys.path); t != nil {
			switch p := t.Value.(type) {
			case *ast.Array:
				parts := make([]any, p.Len())
				for i := range parts {
					switch x := p.Elem(i).Value.(type) {
					case ast.String:
						parts[i] = string(x)
					case ast.Number:
						parts[i] = json.Number(x)
					default:
						var err error
						if parts[i], err = ast.JSON(x); err != nil {
							return f, err
						}
					}
				}
				f.PathParts = parts
				f.Path = FormatPath(parts)
			case ast.String:
				f.Path = string(p)
				f.PathParts = ParsePath(f.Path)
			}
		}
	default:
		raw, _ := ast.JSON(v) // named by its Go type, as Rego results are
		return f, fmt.Errorf("%s.%s returned %T, want an object with msg or a string", r.Package, b.action, raw)
	}
	f.Message = strings.TrimPrefix(f.Message, r.ID+": ")
	return f, nil
}

// The keys of a finding object, made once.
var findingKeys = struct{ msg, id, severity, path *ast.Term }{
	ast.StringTerm("msg"), ast.StringTerm("id"), ast.StringTerm("severity"), ast.StringTerm("path"),
}

// stringAt is the string at key of o, if there is one.
func stringAt(o ast.Object, key *ast.Term) (string, bool) {
	if t := o.Get(key); t != nil {
		if s, ok := t.Value.(ast.String); ok {
			return string(s), true
		}
	}
	return "", false
}

// SortFindings orders findings by rule, path and message, so output is stable.
func SortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return a.Message < b.Message
	})
}

// FormatPath renders keys and indices as a field path:
// ["spec", "http", 0, "timeout"] is spec.http[0].timeout and a key that is not
// an identifier is quoted: metadata.annotations["sidecar.istio.io/proxyCPU"].
func FormatPath(parts []any) string {
	var sb strings.Builder
	for _, p := range parts {
		switch v := p.(type) {
		case string:
			if isIdent(v) {
				if sb.Len() > 0 {
					sb.WriteByte('.')
				}
				sb.WriteString(v)
			} else {
				sb.WriteString("[" + strconv.Quote(v) + "]")
			}
		default:
			fmt.Fprintf(&sb, "[%v]", v)
		}
	}
	return sb.String()
}

// ParsePath is the inverse of FormatPath; integers in brackets become ints.
func ParsePath(s string) []any {
	var parts []any
	for i := 0; i < len(s); {
		switch s[i] {
		case '.':
			i++
		case '[':
			end := strings.IndexByte(s[i:], ']')
			if s[i+1] == '"' {
				// quoted key: find the closing quote
				if q, err := strconv.QuotedPrefix(s[i+1:]); err == nil {
					k, _ := strconv.Unquote(q)
					parts = append(parts, k)
					i += 1 + len(q) + 1
					continue
				}
			}
			if end < 0 {
				return append(parts, s[i:])
			}
			if n, err := strconv.Atoi(s[i+1 : i+end]); err == nil {
				parts = append(parts, n)
			} else {
				parts = append(parts, s[i+1:i+end])
			}
			i += end + 1
		default:
			end := strings.IndexAny(s[i:], ".[")
			if end < 0 {
				end = len(s) - i
			}
			parts = append(parts, s[i:i+end])
			i += end
		}
	}
	return parts
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return false
	}
	return true
}
