package policy

// An evaluator of OPA's intermediate representation (IR), the plan that OPA's
// own planner makes from the compiled bundle for its Wasm target. topdown,
// OPA's interpreter of the Rego AST, unifies terms, keeps bindings and looks
// rules up in the rule tree for every reference; a plan is already resolved
// into locals, lookups, scans and calls, so evaluating it costs a fraction of
// the allocations. The plan is obtained through rego's TargetPlugin hook
// (rego.Target(irTarget)), so the Rego is compiled, checked and planned by
// OPA itself; built-in functions are topdown's own implementations. The
// semantics of each statement follow OPA's Wasm compiler, which executes the
// same plans. TestVMMatchesTopdown holds every verdict of the corpus and the
// fixtures to topdown's.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/ir"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/topdown"
	"github.com/open-policy-agent/opa/v1/topdown/builtins"
)

// irTarget is the rego target name under which the planner hands its plan to
// planCapture.
const irTarget = "meshguard-ir"

var registerIR sync.Once

// planCapture is the TargetPlugin: it keeps the plan of the query being
// prepared. Plans are handed over through the prepare context, so one
// registration serves every engine.
type planCapture struct{}

type planKey struct{}

func (planCapture) IsTarget(t string) bool { return t == irTarget }

func (planCapture) PrepareForEval(ctx context.Context, p *ir.Policy, _ ...rego.PrepareOption) (rego.TargetPluginEval, error) {
	dst, ok := ctx.Value(planKey{}).(**ir.Policy)
	if !ok {
		return nil, errors.New("the IR target is only prepared by the meshguard engine")
	}
	*dst = p
	return planCapture{}, nil
}

func (planCapture) Eval(context.Context, *rego.EvalContext, ast.Value) (ast.Value, error) {
	return nil, errors.New("the IR target is evaluated by the meshguard engine, not by rego")
}

// planDecisions has OPA plan one query that reads every decision the engine
// judges with (refs: "data.<package>.deny", ".warn", ".mutate", and the
// index rules), and returns the plan, the program and, by ref, the
// function that computes each decision. A kind's query is then those
// functions called on the input and data: the bundle is planned once, and
// its library functions exist once. The caller holds the engine's compiler
// lock (rego.New sets the shared compiler's evaluation mode).
func planDecisions(ctx context.Context, c *ast.Compiler, refs []string) (*ir.Policy, *program, map[string]*vmFunc, error) {
	registerIR.Do(func() { rego.RegisterPlugin(irTarget, planCapture{}) })
	body := make([]string, len(refs))
	for i, r := range refs {
		body[i] = fmt.Sprintf("x%d := %s", i, r)
	}
	var p *ir.Policy
	_, err := rego.New(rego.Query(strings.Join(body, "; ")), rego.Compiler(c), rego.Target(irTarget)).
		PrepareForEval(context.WithValue(ctx, planKey{}, &p))
	if err != nil {
		return nil, nil, nil, err
	}
	if p == nil {
		return nil, nil, nil, errors.New("the planner returned no plan")
	}
	prog, fns, err := programFor(p, refs)
	return p, prog, fns, err
}

// programFor makes a plan ready to run, with the function of each ref.
func programFor(p *ir.Policy, refs []string) (*program, map[string]*vmFunc, error) {
	prog, err := newProgram(p)
	if err != nil {
		return nil, nil, err
	}
	fns := make(map[string]*vmFunc, len(refs))
	for _, r := range refs {
		// The planner names a rule's function g0.<its ref>, with (input,
		// data) as parameters.
		fn := prog.byName["g0."+r]
		if fn == nil || len(fn.params) != 2 {
			return nil, nil, fmt.Errorf("the plan has no function for %s", r)
		}
		fns[r] = fn
	}
	return prog, fns, nil
}

// program is the plan made ready to run: its functions by name and by data
// path, its tables, and the built-ins it calls.
type program struct {
	nfuncs   int // memo slots
	byName   map[string]*vmFunc
	byPath   map[string]*vmFunc
	strings  []ast.Value
	terms    []*ast.Term
	files    []string
	builtins map[string]topdown.BuiltinFunc
	// relations are the built-ins with many outputs (walk): the plan scans
	// the array of all of them.
	relations map[string]bool
	states    sync.Pool
}

type vmFunc struct {
	path   []string
	index  int // memo slot
	size   int // locals
	memo   bool
	params []ir.Local
	blocks []*ir.Block
}

func newProgram(p *ir.Policy) (*program, error) {
	prog := &program{
		byName:    map[string]*vmFunc{},
		byPath:    map[string]*vmFunc{},
		builtins:  map[string]topdown.BuiltinFunc{},
		relations: map[string]bool{},
	}
	for _, sc := range p.Static.Strings {
		t := ast.StringTerm(sc.Value)
		prog.strings, prog.terms = append(prog.strings, t.Value), append(prog.terms, t)
	}
	for _, f := range p.Static.Files {
		prog.files = append(prog.files, f.Value)
	}
	var funcs []*vmFunc
	fields := localFields{}
	if p.Funcs != nil {
		for i, fn := range p.Funcs.Funcs {
			f := &vmFunc{path: fn.Path, index: i, memo: len(fn.Params) == 2, params: fn.Params, blocks: fn.Blocks}
			f.size = int(fn.Return) + 1
			for _, l := range fn.Params {
				f.size = max(f.size, int(l)+1)
			}
			for _, b := range fn.Blocks {
				f.size = max(f.size, maxLocal(b, fields)+1)
			}
			prog.byName[fn.Name] = f
			if len(fn.Path) > 0 {
				prog.byPath[strings.Join(fn.Path, "\x00")] = f
			}
			funcs = append(funcs, f)
		}
	}
	prog.nfuncs = len(funcs)
	var missing []string
	for _, b := range p.Static.BuiltinFuncs {
		fn := topdown.GetBuiltin(b.Name)
		if fn == nil {
			missing = append(missing, b.Name)
			continue
		}
		prog.builtins[b.Name] = fn
		if decl := ast.BuiltinMap[b.Name]; decl != nil && decl.Relation {
			prog.relations[b.Name] = true
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("the plan calls built-in functions topdown does not have: %s", strings.Join(missing, ", "))
	}
	for _, f := range funcs {
		f.blocks = foldBlocks(prog, f.blocks)
	}
	return prog, nil
}

// maxLocal is the highest local a block names (read off the statements'
// fields, nested blocks included). The fields to read are worked out once
// per type (fields), as walking every field by reflection took about a
// tenth of loading the bundle.
func maxLocal(b *ir.Block, fields localFields) int {
	m := 0
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			if !v.IsNil() {
				walk(v.Elem())
			}
		case reflect.Slice:
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i))
			}
		case reflect.Struct:
			for _, i := range fields.of(v.Type()) {
				walk(v.Field(i))
			}
		case reflect.Int:
			if v.Type() == localType {
				m = max(m, int(v.Int()))
			}
		}
	}
	walk(reflect.ValueOf(b))
	return m
}

var localType = reflect.TypeFor[ir.Local]()

// localFields are, by struct type, the exported fields that may hold a
// local: not strings, numbers of other types or locations.
type localFields map[reflect.Type]*structFields

type structFields struct {
	fields []int
	done   bool // false while the type's own fields are worked out
}

func (lf localFields) of(t reflect.Type) []int {
	if sf := lf[t]; sf != nil {
		return sf.fields
	}
	sf := &structFields{}
	lf[t] = sf
	for i := 0; i < t.NumField(); i++ {
		if f := t.Field(i); f.IsExported() && lf.mayHold(f.Type) {
			sf.fields = append(sf.fields, i)
		}
	}
	sf.done = true
	return sf.fields
}

func (lf localFields) mayHold(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return lf.mayHold(t.Elem())
	case reflect.Interface:
		return true
	case reflect.Struct:
		if sf := lf[t]; sf != nil && !sf.done {
			return true // a type that holds itself (a block's statements hold blocks)
		}
		return len(lf.of(t)) > 0
	case reflect.Int:
		return t == localType
	}
	return false
}

// Break codes of exec besides a break index (0 = to the end of the current
// block, n = n blocks further out).
const (
	brNone   = -1 // the block ran to its end
	brReturn = -2 // a function returned
)

// errCancelled is topdown's error for a cancelled evaluation.
var errCancelled = &topdown.Error{Code: topdown.CancelErr, Message: "caller cancelled query execution"}

// errConflict is an object merge that meets two values for one key.
var errConflict = errors.New("eval_conflict_error: object keys must be unique")

// conflict is the error of a complete rule (or an object rule's key) with
// two values, worded as topdown words it, the rule and both values named.
func (s *vmState) conflict(loc ir.Location, old, v *ast.Term) error {
	where := ""
	if files := s.prog.files; loc.File >= 0 && loc.File < len(files) {
		where = fmt.Sprintf("%s:%d: ", files[loc.File], loc.Row)
	}
	rule := "a rule"
	if s.fn != nil && len(s.fn.path) > 1 {
		rule = "rule data." + strings.Join(s.fn.path[1:], ".")
	}
	return fmt.Errorf("%seval_conflict_error: %s produced conflicting values: %v and %v", where, rule, old, v)
}

// vmState is one evaluation's state; states are pooled per program.
type vmState struct {
	prog   *program
	bctx   topdown.BuiltinContext
	cache  builtins.Cache
	memo   []*ast.Term
	err    error
	ret    *ast.Term // the value a function returned
	fn     *vmFunc   // the function running
	cancel topdown.Cancel
	// slab holds the locals of the frames, top is its first free slot.
	slab []*ast.Term
	top  int
	// A built-in's outputs: the last, or all of them for a relation.
	iter     func(*ast.Term) error
	out      *ast.Term
	all      []*ast.Term
	relation bool
}

// run calls the decision functions on input and data and returns their
// values, one for each (nil where a decision is undefined).
func (p *program) run(ctx context.Context, input, data ast.Value, fns []*vmFunc) ([]*ast.Term, error) {
	s, _ := p.states.Get().(*vmState)
	if s == nil {
		s = &vmState{prog: p, memo: make([]*ast.Term, p.nfuncs), cache: builtins.Cache{}}
		s.iter = s.collect
	}
	defer s.release()
	s.bctx = topdown.BuiltinContext{Context: ctx, Cache: s.cache}
	if ctx.Done() != nil {
		// As topdown does: a cancelled context stops loops and the
		// built-ins that check (numbers.range, ...).
		s.cancel = topdown.NewCancel()
		stop := context.AfterFunc(ctx, s.cancel.Cancel)
		defer stop()
		s.bctx.Cancel = s.cancel
	}
	var in *ast.Term // nil input: undefined, as for the index rules
	if input != nil {
		in = ast.NewTerm(input)
	}
	dt := ast.NewTerm(data)
	out := make([]*ast.Term, len(fns))
	for i, fn := range fns {
		v, callee := s.enter(fn)
		if callee != nil {
			callee[fn.params[0]], callee[fn.params[1]] = in, dt
			v = s.run(fn, callee)
		}
		if s.err != nil {
			return nil, s.err
		}
		out[i] = v
	}
	return out, nil
}

// alloc returns n cleared locals from the state's slab.
func (s *vmState) alloc(n int) []*ast.Term {
	if s.top+n > len(s.slab) {
		s.slab = make([]*ast.Term, max(2*len(s.slab), 512, n))
		s.top = 0
	}
	l := s.slab[s.top : s.top+n : s.top+n]
	s.top += n
	return l
}

// release clears the state (no value of this evaluation stays reachable)
// and returns it to the pool.
func (s *vmState) release() {
	clear(s.slab[:s.top])
	s.top = 0
	clear(s.memo)
	clear(s.cache)
	s.err, s.ret, s.out, s.all, s.cancel, s.fn = nil, nil, nil, nil, nil, nil
	s.bctx = topdown.BuiltinContext{}
	s.prog.states.Put(s)
}

// collect receives a built-in's outputs.
func (s *vmState) collect(t *ast.Term) error {
	if s.relation {
		s.all = append(s.all, t)
	}
	s.out = t
	return nil
}

var (
	trueTerm  = ast.InternedTerm(true)
	falseTerm = ast.InternedTerm(false)
)

func (s *vmState) read(l []*ast.Term, op ir.Operand) *ast.Term {
	switch v := op.Value.(type) {
	case ir.Local:
		return l[v]
	case ir.StringIndex:
		return s.prog.terms[v]
	case ir.Bool:
		if v {
			return trueTerm
		}
		return falseTerm
	}
	return nil
}

func equal(a, b *ast.Term) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a == b || ast.Compare(a.Value, b.Value) == 0
}

// exec runs the statements of one block. A statement that is undefined ends
// the block (break 0).
func (s *vmState) exec(l []*ast.Term, stmts []ir.Stmt) int {
	for _, stmt := range stmts {
		switch st := stmt.(type) {
		case *ir.DotStmt:
			src, ok := st.Source.Value.(ir.Local)
			if !ok {
				return 0
			}
			v := dot(l[src], s.read(l, st.Key))
			if v == nil {
				return 0
			}
			l[st.Target] = v
		case *callStmt:
			v := s.call(l, st)
			if s.err != nil {
				return brReturn
			}
			if v == nil {
				return 0
			}
			l[st.result] = v
		case *ir.AssignVarStmt:
			l[st.Target] = s.read(l, st.Source)
		case *ir.EqualStmt:
			if !equal(s.read(l, st.A), s.read(l, st.B)) {
				return 0
			}
		case *ir.NotEqualStmt:
			if equal(s.read(l, st.A), s.read(l, st.B)) {
				return 0
			}
		case *constStmt:
			l[st.target] = st.value
		case *arrayStmt:
			elems := make([]*ast.Term, len(st.values))
			for i, op := range st.values {
				if elems[i] = s.read(l, op); elems[i] == nil {
					s.err = fmt.Errorf("array append of an undefined value")
					return brReturn
				}
			}
			l[st.target] = ast.NewTerm(ast.NewArray(elems...))
		case *objectStmt:
			kvs := make([][2]*ast.Term, len(st.keys))
			for i := range st.keys {
				k, v := s.read(l, st.keys[i]), s.read(l, st.values[i])
				if k == nil || v == nil {
					s.err = fmt.Errorf("object insert of an undefined key or value")
					return brReturn
				}
				kvs[i] = [2]*ast.Term{k, v}
			}
			l[st.target] = ast.NewTerm(ast.NewObject(kvs...))
		case *ir.ScanStmt:
			if r := s.scan(l, st); r != brNone {
				return r
			}
		case *ir.NotStmt:
			switch r := s.exec(l, st.Block.Stmts); {
			case r == brNone:
				return 0 // the negated block held
			case r == brReturn:
				return r
			case r > 0:
				return r - 1
			}
		case *ir.BlockStmt:
			for _, b := range st.Blocks {
				switch r := s.exec(l, b.Stmts); {
				case r == brReturn:
					return r
				case r > 0:
					return r - 1
				}
			}
		case *ir.BreakStmt:
			return int(st.Index)
		case *ir.ReturnLocalStmt:
			s.ret = l[st.Source]
			return brReturn
		case *ir.ResetLocalStmt:
			l[st.Target] = nil
		case *ir.IsDefinedStmt:
			if l[st.Source] == nil {
				return 0
			}
		case *ir.IsUndefinedStmt:
			if l[st.Source] != nil {
				return 0
			}
		case *ir.AssignVarOnceStmt:
			v := s.read(l, st.Source)
			if old := l[st.Target]; old != nil && !equal(old, v) {
				s.err = s.conflict(st.Location, old, v)
				return brReturn
			}
			l[st.Target] = v
		case *ir.MakeObjectStmt:
			l[st.Target] = ast.NewTerm(ast.NewObject())
		case *ir.MakeSetStmt:
			l[st.Target] = ast.NewTerm(ast.NewSet())
		case *ir.MakeArrayStmt:
			l[st.Target] = ast.NewTerm(ast.NewArray(make([]*ast.Term, 0, st.Capacity)...))
		case *ir.MakeNullStmt:
			l[st.Target] = ast.InternedNullTerm
		case *ir.MakeNumberIntStmt:
			l[st.Target] = ast.InternedTerm(int(st.Value))
		case *ir.MakeNumberRefStmt:
			l[st.Target] = ast.NumberTerm(json.Number(s.prog.strings[st.Index].(ast.String)))
		case *ir.AssignIntStmt:
			l[st.Target] = ast.InternedTerm(int(st.Value))
		case *ir.LenStmt:
			n, ok := length(s.read(l, st.Source))
			if !ok {
				return 0
			}
			l[st.Target] = ast.InternedTerm(n)
		case *ir.ObjectInsertStmt:
			s.mutable(l, st.Object)
			obj, ok := valueOf(l[st.Object]).(ast.Object)
			if !ok {
				s.err = fmt.Errorf("object insert into %v", l[st.Object])
				return brReturn
			}
			obj.Insert(s.read(l, st.Key), s.read(l, st.Value))
		case *ir.ObjectInsertOnceStmt:
			s.mutable(l, st.Object)
			obj, ok := valueOf(l[st.Object]).(ast.Object)
			if !ok {
				s.err = fmt.Errorf("object insert into %v", l[st.Object])
				return brReturn
			}
			k, v := s.read(l, st.Key), s.read(l, st.Value)
			if old := obj.Get(k); old != nil {
				if !equal(old, v) {
					s.err = s.conflict(st.Location, old, v)
					return brReturn
				}
				continue
			}
			obj.Insert(k, v)
		case *ir.SetAddStmt:
			s.mutable(l, st.Set)
			set, ok := valueOf(l[st.Set]).(ast.Set)
			if !ok {
				s.err = fmt.Errorf("set add into %v", l[st.Set])
				return brReturn
			}
			set.Add(s.read(l, st.Value))
		case *ir.ArrayAppendStmt:
			s.mutable(l, st.Array)
			arr, ok := valueOf(l[st.Array]).(*ast.Array)
			if !ok {
				s.err = fmt.Errorf("array append to %v", l[st.Array])
				return brReturn
			}
			l[st.Array].Value = arr.Append(s.read(l, st.Value))
		case *ir.ObjectMergeStmt:
			a, aok := valueOf(l[st.A]).(ast.Object)
			b, bok := valueOf(l[st.B]).(ast.Object)
			if !aok || !bok {
				s.err = errors.New("object merge of a value that is no object")
				return brReturn
			}
			m, ok := a.Merge(b)
			if !ok {
				s.err = errConflict
				return brReturn
			}
			l[st.Target] = ast.NewTerm(m)
		case *ir.IsArrayStmt:
			if _, ok := valueOf(s.read(l, st.Source)).(*ast.Array); !ok {
				return 0
			}
		case *ir.IsObjectStmt:
			if _, ok := valueOf(s.read(l, st.Source)).(ast.Object); !ok {
				return 0
			}
		case *ir.IsSetStmt:
			if _, ok := valueOf(s.read(l, st.Source)).(ast.Set); !ok {
				return 0
			}
		case *ir.CallDynamicStmt:
			key := make([]string, len(st.Path))
			for i, op := range st.Path {
				str, ok := valueOf(s.read(l, op)).(ast.String)
				if !ok {
					return 0
				}
				key[i] = string(str)
			}
			fn := s.prog.byPath[strings.Join(key, "\x00")]
			if fn == nil {
				return 0 // no rule there: the caller reads data
			}
			v := s.callDynamic(fn, l, st.Args)
			if s.err != nil {
				return brReturn
			}
			if v == nil {
				return 3
			}
			l[st.Result] = v
		case *ir.WithStmt:
			if r := s.with(l, st); r != brNone {
				return r
			}
		case *ir.NopStmt:
		default:
			s.err = fmt.Errorf("unsupported IR statement %T", stmt)
			return brReturn
		}
	}
	return brNone
}

// mutable makes the local's value one the statement may change in place: a
// frozen constant is replaced by a copy of it.
func (s *vmState) mutable(l []*ast.Term, x ir.Local) {
	if t := l[x]; t != nil && t.Location == frozen {
		c := t.Copy()
		c.Location = nil
		l[x] = c
	}
}

func valueOf(t *ast.Term) ast.Value {
	if t == nil {
		return nil
	}
	return t.Value
}

func (s *vmState) scan(l []*ast.Term, st *ir.ScanStmt) int {
	// Inside the scan's block, break 0 is the next element, break 1 leaves
	// the scan (as in OPA's Wasm: a loop within a block), break n > 1 is
	// break n-2 of the block around the scan.
	stop := brNone
	switch src := valueOf(l[st.Source]).(type) {
	case *ast.Array:
		// No closure for arrays, the common case: it would be allocated.
		for i := 0; i < src.Len(); i++ {
			if r, done := s.scanStep(l, st, ast.InternedTerm(i), src.Elem(i)); done {
				return r
			}
		}
	case ast.Object:
		src.Until(func(k, v *ast.Term) bool {
			r, done := s.scanStep(l, st, k, v)
			stop = r
			return done
		})
	case ast.Set:
		src.Until(func(e *ast.Term) bool {
			r, done := s.scanStep(l, st, e, e)
			stop = r
			return done
		})
	}
	return stop
}

// scanStep runs a scan's block on one element: done says the scan ends,
// with r what it returns.
func (s *vmState) scanStep(l []*ast.Term, st *ir.ScanStmt, k, v *ast.Term) (r int, done bool) {
	if s.cancel != nil && s.cancel.Cancelled() {
		s.err = errCancelled
		return brReturn, true
	}
	l[st.Key] = k
	l[st.Value] = v
	switch r := s.exec(l, st.Block.Stmts); {
	case r == brNone || r == 0:
		return brNone, false
	case r == brReturn:
		return brReturn, true
	case r == 1:
		return brNone, true
	default:
		return r - 2, true
	}
}

func (s *vmState) with(l []*ast.Term, st *ir.WithStmt) int {
	saved := l[st.Local]
	memo := s.memo
	s.memo = make([]*ast.Term, s.prog.nfuncs)
	defer func() {
		l[st.Local] = saved
		s.memo = memo
	}()
	v := s.read(l, st.Value)
	if len(st.Path) == 0 {
		l[st.Local] = v
	} else {
		path := make([]*ast.Term, len(st.Path))
		for i, idx := range st.Path {
			path[i] = s.prog.terms[idx]
		}
		l[st.Local] = ast.NewTerm(upsert(valueOf(saved), path, v))
	}
	switch r := s.exec(l, st.Block.Stmts); {
	case r == brNone:
		return brNone
	case r == brReturn:
		return r
	case r == 0:
		return 0
	default:
		return r - 1
	}
}

// upsert returns a copy of doc with v at path, creating objects on the way.
func upsert(doc ast.Value, path []*ast.Term, v *ast.Term) ast.Value {
	obj, ok := doc.(ast.Object)
	if !ok {
		obj = ast.NewObject()
	} else {
		obj = obj.Copy()
	}
	if len(path) == 1 {
		obj.Insert(path[0], v)
		return obj
	}
	obj.Insert(path[0], ast.NewTerm(upsert(valueOf(obj.Get(path[0])), path[1:], v)))
	return obj
}

func (s *vmState) call(l []*ast.Term, st *callStmt) *ast.Term {
	if fn := st.fn; fn != nil {
		v, callee := s.enter(fn)
		if callee == nil {
			return v
		}
		for i, op := range st.args {
			callee[fn.params[i]] = s.read(l, op)
		}
		return s.run(fn, callee)
	}
	if st.builtin == nil {
		s.err = fmt.Errorf("unknown function %s", st.name)
		return nil
	}
	operands := s.alloc(len(st.args))
	for i, op := range st.args {
		operands[i] = s.read(l, op)
	}
	s.out, s.all, s.relation = nil, s.all[:0], st.relation
	if err := st.builtin(s.bctx, operands, s.iter); err != nil {
		var halt topdown.Halt
		if errors.As(err, &halt) {
			s.err = err
		}
		return nil // topdown's default: a failing built-in is undefined
	}
	if s.relation {
		return ast.NewTerm(ast.NewArray(slices.Clone(s.all)...))
	}
	return s.out
}

// callStmt is a CallStmt with its function or built-in found when the plan
// is loaded.
type callStmt struct {
	ir.Location
	name     string
	fn       *vmFunc
	builtin  topdown.BuiltinFunc
	relation bool
	args     []ir.Operand
	result   ir.Local
}

// enter is a call's memoized value (a rule without arguments already
// evaluated), or else a fresh frame for the caller to put the arguments in.
func (s *vmState) enter(fn *vmFunc) (*ast.Term, []*ast.Term) {
	if fn.memo {
		if v := s.memo[fn.index]; v != nil {
			return v, nil
		}
	}
	return nil, s.alloc(fn.size)
}

// callDynamic calls a function found by its data path.
func (s *vmState) callDynamic(fn *vmFunc, l []*ast.Term, args []ir.Local) *ast.Term {
	v, callee := s.enter(fn)
	if callee == nil {
		return v
	}
	for i, a := range args {
		callee[fn.params[i]] = l[a]
	}
	return s.run(fn, callee)
}

// run runs a function's blocks on its frame.
func (s *vmState) run(fn *vmFunc, l []*ast.Term) *ast.Term {
	caller := s.fn
	s.fn = fn
	defer func() { s.fn = caller }()
	var ret *ast.Term
	for _, b := range fn.blocks {
		if s.exec(l, b.Stmts) == brReturn {
			ret = s.ret
			break
		}
	}
	if s.err != nil {
		return nil
	}
	if fn.memo && ret != nil {
		s.memo[fn.index] = ret
	}
	return ret
}

// dot looks key up in a collection: undefined (nil) when absent or when v is
// a scalar.
func dot(t, key *ast.Term) *ast.Term {
	if t == nil || key == nil {
		return nil
	}
	switch c := t.Value.(type) {
	case ast.Object:
		return c.Get(key)
	case *ast.Array:
		n, ok := key.Value.(ast.Number)
		if !ok {
			return nil
		}
		i, ok := n.Int()
		if !ok || i < 0 || i >= c.Len() {
			return nil
		}
		return c.Elem(i)
	case ast.Set:
		if c.Contains(key) {
			return key
		}
	}
	return nil
}

func length(t *ast.Term) (int, bool) {
	switch c := valueOf(t).(type) {
	case *ast.Array:
		return c.Len(), true
	case ast.Object:
		return c.Len(), true
	case ast.Set:
		return c.Len(), true
	case ast.String:
		return utf8.RuneCountInString(string(c)), true
	}
	return 0, false
}

// --- constants ---------------------------------------------------------------

// constStmt sets a local to a value built at load time: the planner spells a
// constant (a rule's METADATA chain, a table) as one statement per element,
// run again on every evaluation. Every evaluation shares the value, which is
// frozen: it is never changed in place.
type constStmt struct {
	ir.Location
	target ir.Local
	value  *ast.Term
}

// arrayStmt builds an array literal with an element that is not a constant
// (the planner's MakeArrayStmt followed by one ArrayAppendStmt per element),
// at once: appending made a new array for every element, and a copy of the
// constant elements before the first that is not.
type arrayStmt struct {
	ir.Location
	target ir.Local
	values []ir.Operand
}

// objectStmt is arrayStmt for an object literal (MakeObjectStmt, then one
// ObjectInsertStmt per key).
type objectStmt struct {
	ir.Location
	target       ir.Local
	keys, values []ir.Operand
}

// objectLiteral is the objectStmt of the statements that start with mk when
// the next ones insert into it and one key or value is not a constant; nil
// otherwise (and the constant ones are folded as other constants are).
func objectLiteral(stmts []ir.Stmt, mk *ir.MakeObjectStmt, constant func(ir.Operand) *ast.Term) *objectStmt {
	lit := &objectStmt{Location: mk.Location, target: mk.Target}
	folded := true
	self := func(op ir.Operand) bool { v, ok := op.Value.(ir.Local); return ok && v == mk.Target }
	for _, st := range stmts[1:] {
		ins, ok := st.(*ir.ObjectInsertStmt)
		if !ok || ins.Object != mk.Target {
			break
		}
		if self(ins.Key) || self(ins.Value) {
			return nil // the object inside itself
		}
		lit.keys, lit.values = append(lit.keys, ins.Key), append(lit.values, ins.Value)
		folded = folded && constant(ins.Key) != nil && constant(ins.Value) != nil
	}
	if len(lit.keys) == 0 || folded {
		return nil
	}
	for i := range lit.keys {
		stmts[1+i].GetLocation().Text = nil
	}
	return lit
}

// arrayLiteral is the arrayStmt of the statements that start with mk, when
// the next ones append each of its elements (as many as its capacity) and
// one of them is not a constant; nil otherwise, and the constant ones are
// folded as other constants are.
func arrayLiteral(stmts []ir.Stmt, mk *ir.MakeArrayStmt, constant func(ir.Operand) *ast.Term) *arrayStmt {
	n := int(mk.Capacity)
	if n == 0 || len(stmts) <= n {
		return nil
	}
	lit := &arrayStmt{Location: mk.Location, target: mk.Target, values: make([]ir.Operand, n)}
	folded := true
	for i := range n {
		a, ok := stmts[1+i].(*ir.ArrayAppendStmt)
		if !ok || a.Array != mk.Target {
			return nil
		}
		if v, ok := a.Value.Value.(ir.Local); ok && v == mk.Target {
			return nil // the array inside itself
		}
		lit.values[i] = a.Value
		folded = folded && constant(a.Value) != nil
	}
	if folded {
		return nil
	}
	for i := range n {
		stmts[1+i].GetLocation().Text = nil
	}
	return lit
}

// foldBlocks folds the constants of a function's (or the plan's) blocks.
func foldBlocks(p *program, blocks []*ir.Block) []*ir.Block {
	out := make([]*ir.Block, len(blocks))
	for i, b := range blocks {
		out[i] = foldBlock(p, b)
	}
	return out
}

// frozen marks the folded constants and every collection in them (as their
// location, which evaluation does not read): a statement that would change
// one in place changes a copy (see mutable).
var frozen = &ast.Location{File: "meshguard: constant"}

func freeze(t *ast.Term) {
	if t.Location == frozen {
		return
	}
	switch v := t.Value.(type) {
	case ast.Object:
		t.Location = frozen
		v.Foreach(func(k, x *ast.Term) { freeze(k); freeze(x) })
	case *ast.Array:
		t.Location = frozen
		v.Foreach(freeze)
	case ast.Set:
		t.Location = frozen
		v.Foreach(freeze)
	}
}

func foldBlock(p *program, b *ir.Block) *ir.Block {
	out := make([]ir.Stmt, 0, len(b.Stmts))
	known := map[ir.Local]*ast.Term{}
	var order []ir.Local
	flush := func() {
		for _, l := range order {
			if v, ok := known[l]; ok {
				freeze(v)
				out = append(out, &constStmt{target: l, value: v})
				delete(known, l)
			}
		}
		order = order[:0]
	}
	// constant is the value of an operand known here.
	constant := func(op ir.Operand) *ast.Term {
		switch v := op.Value.(type) {
		case ir.StringIndex:
			return p.terms[v]
		case ir.Bool:
			return ast.InternedTerm(bool(v))
		case ir.Local:
			if t, ok := known[v]; ok {
				return t
			}
		}
		return nil
	}
	set := func(l ir.Local, t *ast.Term) {
		if _, ok := known[l]; ok {
			flush()
		}
		known[l] = t
		order = append(order, l)
	}
	start := func(l ir.Local, v ast.Value) { set(l, ast.NewTerm(v)) }
	for i := 0; i < len(b.Stmts); i++ {
		st := b.Stmts[i]
		// The source text of each statement is for debug prints only; the
		// file and row stay for errors.
		st.GetLocation().Text = nil
		switch s := st.(type) {
		case *ir.MakeObjectStmt:
			if lit := objectLiteral(b.Stmts[i:], s, constant); lit != nil {
				flush()
				out = append(out, lit)
				i += len(lit.keys)
				continue
			}
			start(s.Target, ast.NewObject())
			continue
		case *ir.MakeArrayStmt:
			if lit := arrayLiteral(b.Stmts[i:], s, constant); lit != nil {
				flush()
				out = append(out, lit)
				i += len(lit.values)
				continue
			}
			start(s.Target, ast.NewArray())
			continue
		case *ir.MakeSetStmt:
			start(s.Target, ast.NewSet())
			continue
		case *ir.MakeNumberIntStmt:
			start(s.Target, ast.InternedTerm(int(s.Value)).Value)
			continue
		case *ir.MakeNumberRefStmt:
			start(s.Target, ast.Number(p.strings[s.Index].(ast.String)))
			continue
		case *ir.MakeNullStmt:
			start(s.Target, ast.Null{})
			continue
		case *ir.AssignVarStmt:
			if v := constant(s.Source); v != nil {
				set(s.Target, v)
				continue
			}
		case *ir.ObjectInsertStmt:
			if t, ok := known[s.Object]; ok {
				k, v := constant(s.Key), constant(s.Value)
				if k != nil && v != nil {
					t.Value.(ast.Object).Insert(k, v)
					continue
				}
			}
		case *ir.ObjectInsertOnceStmt:
			if t, ok := known[s.Object]; ok {
				k, v := constant(s.Key), constant(s.Value)
				obj := t.Value.(ast.Object)
				if k != nil && v != nil && (obj.Get(k) == nil || equal(obj.Get(k), v)) {
					obj.Insert(k, v)
					continue
				}
			}
		case *ir.ArrayAppendStmt:
			if t, ok := known[s.Array]; ok {
				if v := constant(s.Value); v != nil {
					t.Value = t.Value.(*ast.Array).Append(v)
					continue
				}
			}
		case *ir.SetAddStmt:
			if t, ok := known[s.Set]; ok {
				if v := constant(s.Value); v != nil {
					t.Value.(ast.Set).Add(v)
					continue
				}
			}
		}
		// Any other statement may read, change or skip what was built:
		// the constants are set before it.
		flush()
		out = append(out, foldNested(p, st))
	}
	flush()
	return &ir.Block{Stmts: out}
}

// foldNested folds the blocks inside a statement, and finds what a call
// calls.
func foldNested(p *program, st ir.Stmt) ir.Stmt {
	switch s := st.(type) {
	case *ir.CallStmt:
		return &callStmt{Location: s.Location, name: s.Func, fn: p.byName[s.Func], builtin: p.builtins[s.Func],
			relation: p.relations[s.Func], args: s.Args, result: s.Result}
	case *ir.BlockStmt:
		c := *s
		c.Blocks = make([]*ir.Block, len(s.Blocks))
		for i, b := range s.Blocks {
			c.Blocks[i] = foldBlock(p, b)
		}
		return &c
	case *ir.ScanStmt:
		c := *s
		c.Block = foldBlock(p, s.Block)
		return &c
	case *ir.NotStmt:
		c := *s
		c.Block = foldBlock(p, s.Block)
		return &c
	case *ir.WithStmt:
		c := *s
		c.Block = foldBlock(p, s.Block)
		return &c
	}
	return st
}
