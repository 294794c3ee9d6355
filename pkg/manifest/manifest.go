// Package manifest reads Kubernetes objects from YAML and JSON files,
// directories and stdin: multi-document files, `kind: List` unwrapped, with the
// line of every object and of every field kept for findings. A file that does
// not parse is reported with its name and line; it never stops the others.
package manifest

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unsafe"

	"github.com/open-policy-agent/opa/v1/ast"
	"go.yaml.in/yaml/v3"
)

// Stdin is the name under which objects read from standard input are reported.
const Stdin = "<stdin>"

// Document is one object read from a file.
type Document struct {
	// File is the path as given on the command line, or Stdin.
	File string
	// Index is the document's position in the file (0-based); Item is its
	// position in a `kind: List` (-1 when it is not a list item).
	Index, Item int
	// Line is where the object starts (1-based).
	Line int
	// Object is the decoded object, as sigs.k8s.io/yaml would give it: maps
	// with string keys, int64, float64, bool, string, nil. With
	// Options.Values it is nil for the objects Value holds.
	Object map[string]any

	lines lineIndex
	value ast.Object // with Options.Values, when Object is nil
}

// LineOf returns the line of the field at path (keys and indices, as in a
// finding's path), or of its nearest existing parent; 0 when unknown.
func (d *Document) LineOf(path []any) int {
	ix := d.lines
	if len(ix) == 0 {
		return 0
	}
	cur, line := 0, int(ix[0].line)
	for _, p := range path {
		e, next := ix[cur], -1
		switch e.kind {
		case yaml.MappingNode:
			key := fmt.Sprint(p)
			for c := cur + 1; c < int(e.end); c = int(ix[c].end) {
				if ix[c].key == key {
					next = c
					break
				}
			}
		case yaml.SequenceNode:
			if idx, ok := toIndex(p); ok && idx >= 0 {
				for c, i := cur+1, 0; c < int(e.end); c, i = int(ix[c].end), i+1 {
					if i == idx {
						next = c
						break
					}
				}
			}
		}
		if next < 0 {
			return line
		}
		cur, line = next, int(ix[next].line)
	}
	return line
}

// lineIndex is what LineOf reads of an object's parse tree, so that the
// tree need not be kept once the object is read: an entry per node, in the
// tree's order, aliases resolved (a document reaches here only once convert
// has bounded its aliases, or measure found none).
type lineIndex []lineEntry

type lineEntry struct {
	key  string // the key that leads to the node in its mapping; "" in a sequence
	line int32  // the key's line in a mapping, else the node's own line
	end  int32  // the entry after the node's subtree
	kind yaml.Kind
}

func indexLines(n *yaml.Node) lineIndex { return appendLines(nil, "", n.Line, n) }

func appendLines(ix lineIndex, key string, line int, n *yaml.Node) lineIndex {
	n = resolve(n)
	at := len(ix)
	ix = append(ix, lineEntry{key: key, line: int32(line), kind: n.Kind})
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			ix = appendLines(ix, n.Content[i].Value, n.Content[i].Line, n.Content[i+1])
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			ix = appendLines(ix, "", c.Line, c)
		}
	}
	ix[at].end = int32(len(ix))
	return ix
}

func toIndex(p any) (int, bool) {
	switch v := p.(type) {
	case int:
		return v, true
	case int64:
		return int(v), true
	case float64:
		return int(v), true
	case fmt.Stringer: // json.Number
		i, err := strconv.Atoi(v.String())
		return i, err == nil
	}
	return 0, false
}

// Error is an input problem: a file that cannot be read or parsed, or a
// document that is not a Kubernetes object.
type Error struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
}

func (e Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Message)
}

// Extensions are the file endings read from directories.
var Extensions = []string{".yaml", ".yml", ".json"}

// Expand turns command-line arguments into the list of files to read:
// directories are walked recursively (files with Extensions, sorted; .git is
// skipped), "-" is stdin, a named file is read whatever its ending. A path
// that does not exist is an Error; the others are still returned.
func Expand(args []string) ([]string, []Error) {
	var files []string
	var errs []Error
	for _, arg := range args {
		if arg == "-" {
			files = append(files, "-")
			continue
		}
		st, err := os.Stat(arg)
		if err != nil {
			errs = append(errs, Error{File: arg, Message: describe(err)})
			continue
		}
		if !st.IsDir() {
			files = append(files, arg)
			continue
		}
		var found []string
		err = filepath.WalkDir(arg, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				errs = append(errs, Error{File: p, Message: describe(err)})
				return nil
			}
			if d.IsDir() {
				if d.Name() == ".git" {
					return filepath.SkipDir
				}
				return nil
			}
			ext := strings.ToLower(filepath.Ext(p))
			for _, e := range Extensions {
				if ext == e {
					found = append(found, p)
				}
			}
			return nil
		})
		if err != nil {
			errs = append(errs, Error{File: arg, Message: describe(err)})
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	return files, errs
}

func describe(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// File is what one file held.
type File struct {
	Docs []Document
	// Skipped are documents that are not Kubernetes objects at all (no
	// apiVersion and no kind, e.g. a Helm values file or a kustomization
	// without them): reported, but not an error.
	Skipped []Error
	// Errors are documents that could not be read, parsed or understood.
	Errors []Error
}

// Options change what ReadFile and Parse keep of each object.
type Options struct {
	// Values leaves Document.Object nil for every object whose parse tree
	// says all of it (no aliases, no merge keys, not a `kind: List`): its
	// OPA value (Value) is made from the tree as it is read, and no map is
	// built. The other objects still get their map. check judges OPA values
	// and uses it.
	Values bool
}

// ReadFile reads one file ("-" is stdin).
func ReadFile(name string, stdin io.Reader) File { return Options{}.ReadFile(name, stdin) }

// Parse decodes every document of a file's content. Documents that parse are
// returned even when a later one fails. Plain block YAML is read by
// fastParse, anything else by yaml.v3: the same trees either way.
func Parse(name string, data []byte) File { return Options{}.Parse(name, data) }

// ReadFile is the package's ReadFile with the options.
func (o Options) ReadFile(name string, stdin io.Reader) File {
	var data []byte
	var err error
	if name == "-" {
		name = Stdin
		if stdin == nil {
			return File{Errors: []Error{{File: name, Message: "no standard input"}}}
		}
		data, err = io.ReadAll(stdin)
	} else {
		data, err = readFile(name)
	}
	if err != nil {
		return File{Errors: []Error{{File: name, Message: describe(err)}}}
	}
	// The buffer is ours and is never written again: the strings of the
	// objects are slices of it, not of a copy.
	return o.parse(name, unsafe.String(unsafe.SliceData(data), len(data)))
}

// Parse is the package's Parse with the options.
func (o Options) Parse(name string, data []byte) File { return o.parse(name, string(data)) }

func (o Options) parse(name string, data string) File {
	var f File
	if fast {
		if p, roots, ok := fastParse(data); ok {
			for index, root := range roots {
				f.document(o, name, index, root)
			}
			p.release() // the documents keep nothing of the trees
			return f
		}
	}
	dec := yaml.NewDecoder(strings.NewReader(data))
	for index := 0; ; index++ {
		var root yaml.Node
		err := dec.Decode(&root)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			f.Errors = append(f.Errors, parseError(name, err))
			break // the decoder cannot resume after a syntax error
		}
		f.document(o, name, index, &root)
	}
	return f
}

// fast says whether Parse tries fastParse first (tests compare both ways).
var fast = true

// document adds the objects of one parsed document.
func (f *File) document(o Options, name string, index int, root *yaml.Node) {
	if len(root.Content) == 0 {
		return
	}
	n := resolve(root.Content[0])
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // an empty document
	}
	if o.Values && f.fromTree(name, index, n) {
		return
	}
	v, err := convert(n, 0)
	if err != nil {
		f.Errors = append(f.Errors, Error{File: name, Line: n.Line, Message: fmt.Sprintf("document %d: %v", index+1, err)})
		return
	}
	obj, ok := v.(map[string]any)
	if !ok {
		f.Errors = append(f.Errors, Error{File: name, Line: n.Line, Message: fmt.Sprintf("document %d is a %s, not a Kubernetes object", index+1, kindName(v))})
		return
	}
	if obj["apiVersion"] == nil && obj["kind"] == nil {
		f.Skipped = append(f.Skipped, Error{File: name, Line: n.Line, Message: fmt.Sprintf("document %d has no apiVersion and no kind: not a Kubernetes object", index+1)})
		return
	}
	d, e := objects(name, index, n, obj)
	f.Docs = append(f.Docs, d...)
	f.Errors = append(f.Errors, e...)
}

// fromTree adds the object of a document whose tree says all of it as its
// OPA value, without a map (Options.Values). It reports false, having added
// nothing, for any other document (and for a List), which document then
// reads through its map: the same objects, errors and messages either way.
func (f *File) fromTree(name string, index int, n *yaml.Node) bool {
	if n.Kind != yaml.MappingNode {
		return false
	}
	terms, elems, ok := measure(n, 0)
	if !ok {
		return false
	}
	b := newTreeBuilder(terms, elems)
	v, err := b.value(n, "", n.Line)
	if err != nil {
		f.Errors = append(f.Errors, Error{File: name, Line: n.Line, Message: fmt.Sprintf("document %d: %v", index+1, err)})
		return true
	}
	obj := v.(ast.Object)
	field := func(key *ast.Term) any {
		if t := obj.Get(key); t != nil {
			if s, ok := t.Value.(ast.String); ok {
				return string(s)
			}
			if _, null := t.Value.(ast.Null); !null {
				return t.Value // present, not a string
			}
		}
		return nil
	}
	apiVersion, kind := field(apiVersionKey), field(kindKey)
	switch {
	case kind == "List":
		return false
	case apiVersion == nil && kind == nil:
		f.Skipped = append(f.Skipped, Error{File: name, Line: n.Line, Message: fmt.Sprintf("document %d has no apiVersion and no kind: not a Kubernetes object", index+1)})
	default:
		if err := notObject(name, index, n, apiVersion, kind); err != nil {
			f.Errors = append(f.Errors, *err)
			break
		}
		f.Docs = append(f.Docs, Document{File: name, Index: index, Item: -1, Line: n.Line, lines: b.lines, value: obj})
	}
	return true
}

var apiVersionKey, kindKey = ast.StringTerm("apiVersion"), ast.StringTerm("kind")

// notObject is the error of a document whose apiVersion or kind is missing
// (or not a string), nil for an object.
func notObject(name string, index int, n *yaml.Node, apiVersion, kind any) *Error {
	a, _ := apiVersion.(string)
	k, _ := kind.(string)
	if a != "" && k != "" {
		return nil
	}
	missing := "apiVersion"
	if k == "" {
		missing = "kind"
		if a == "" {
			missing = "apiVersion and kind"
		}
	}
	return &Error{File: name, Line: n.Line, Message: fmt.Sprintf("document %d is not a Kubernetes object: %s missing", index+1, missing)}
}

func objects(name string, index int, n *yaml.Node, obj map[string]any) ([]Document, []Error) {
	if err := notObject(name, index, n, obj["apiVersion"], obj["kind"]); err != nil {
		return nil, []Error{*err}
	}
	kind := obj["kind"].(string)
	if kind != "List" {
		return []Document{{File: name, Index: index, Item: -1, Line: n.Line, Object: obj, lines: indexLines(n)}}, nil
	}
	// A List: every item is an object of its own.
	items, ok := obj["items"].([]any)
	itemsNode := valueNode(n, "items")
	if !ok || itemsNode == nil || itemsNode.Kind != yaml.SequenceNode {
		return nil, []Error{{File: name, Line: n.Line, Message: fmt.Sprintf("document %d: %s items is not a list", index+1, kind)}}
	}
	var docs []Document
	var errs []Error
	for i, it := range items {
		itemNode := resolve(itemsNode.Content[i])
		if it == nil {
			continue // an empty item, as kubectl reads it
		}
		m, ok := it.(map[string]any)
		if !ok {
			errs = append(errs, Error{File: name, Line: itemNode.Line, Message: fmt.Sprintf("document %d: items[%d] is a %s, not a Kubernetes object", index+1, i, kindName(it))})
			continue
		}
		sub, e := objects(name, index, itemNode, m)
		for j := range sub {
			if sub[j].Item < 0 {
				sub[j].Item = i
			}
		}
		docs = append(docs, sub...)
		errs = append(errs, e...)
	}
	return docs, errs
}

func valueNode(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return resolve(n.Content[i+1])
		}
	}
	return nil
}

func kindName(v any) string {
	switch v.(type) {
	case []any:
		return "list"
	case string:
		return "string"
	case nil:
		return "null"
	default:
		return "scalar"
	}
}

func parseError(name string, err error) Error {
	msg := err.Error()
	line := 0
	// yaml.v3 errors read "yaml: line N: ..."
	if rest, ok := strings.CutPrefix(msg, "yaml: line "); ok {
		if i := strings.IndexByte(rest, ':'); i > 0 {
			if n, err := strconv.Atoi(rest[:i]); err == nil {
				line = n
				msg = strings.TrimSpace(rest[i+1:])
			}
		}
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	return Error{File: name, Line: line, Message: "invalid YAML: " + msg}
}

func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

const maxDepth = 512

// convert turns a YAML node into the value sigs.k8s.io/yaml would produce:
// map keys are always strings (an unquoted `8080:` key is "8080"), and
// scalars follow their resolved tag.
// budget bounds how many values a document may expand to through aliases
// (a "billion laughs" document is a few lines that expand to millions of
// values): at most ten times the nodes written, plus some slack.
type budget struct{ left int }

func newBudget(n *yaml.Node) *budget {
	count := 0
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		count++
		if n.Kind != yaml.AliasNode {
			for _, c := range n.Content {
				walk(c)
			}
		}
	}
	walk(n)
	return &budget{left: 10*count + 10000}
}

func convert(n *yaml.Node, depth int) (any, error) { return newBudget(n).convert(n, depth) }

func (b *budget) convert(n *yaml.Node, depth int) (any, error) {
	b.left--
	if b.left < 0 {
		return nil, fmt.Errorf("line %d: excessive aliasing: the document expands to far more values than it holds", n.Line)
	}
	if depth > maxDepth {
		return nil, fmt.Errorf("line %d: nesting deeper than %d", n.Line, maxDepth)
	}
	n = resolve(n)
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := resolve(n.Content[i]), n.Content[i+1]
			if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
				if err := b.merge(m, v, depth); err != nil {
					return nil, err
				}
				continue
			}
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: a map key must be a scalar", k.Line)
			}
			val, err := b.convert(v, depth+1)
			if err != nil {
				return nil, err
			}
			m[k.Value] = val
		}
		return m, nil
	case yaml.SequenceNode:
		s := make([]any, len(n.Content))
		for i, c := range n.Content {
			v, err := b.convert(c, depth+1)
			if err != nil {
				return nil, err
			}
			s[i] = v
		}
		return s, nil
	case yaml.ScalarNode:
		return scalar(n)
	case yaml.AliasNode:
		return nil, fmt.Errorf("line %d: unresolved alias", n.Line)
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node", n.Line)
}

// merge applies a YAML merge key (<<: *anchor or a list of them); keys
// already set win.
func (b *budget) merge(m map[string]any, v *yaml.Node, depth int) error {
	v = resolve(v)
	sources := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		sources = v.Content
	}
	for _, s := range sources {
		val, err := b.convert(s, depth+1)
		if err != nil {
			return err
		}
		sm, ok := val.(map[string]any)
		if !ok {
			return fmt.Errorf("line %d: a merge key needs a map", s.Line)
		}
		for k, x := range sm {
			if _, set := m[k]; !set {
				m[k] = x
			}
		}
	}
	return nil
}

func scalar(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!str", "!!binary", "!!timestamp":
		return n.Value, nil
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		return b, nil
	case "!!int":
		if i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64); err == nil {
			return i, nil
		}
		var i int64
		if err := n.Decode(&i); err == nil {
			return i, nil
		}
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, fmt.Errorf("line %d: %q is not a number", n.Line, n.Value)
		}
		return f, nil
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, fmt.Errorf("line %d: %q is not a number", n.Line, n.Value)
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("line %d: %q is not a JSON number", n.Line, n.Value)
		}
		return f, nil
	default:
		return n.Value, nil
	}
}

// NodeToValue converts a YAML node the way Parse does (maps with string
// keys, int64, float64, bool, string, nil; aliases and merge keys resolved).
func NodeToValue(n *yaml.Node) (any, error) { return convert(n, 0) }

// Value is the object as the OPA value the rules read: what
// ast.InterfaceToValue(d.Object) gives. With Options.Values it was made
// from the parse tree when the document was read, without a map.
func (d *Document) Value() (ast.Value, error) {
	if d.value != nil {
		return d.value, nil
	}
	return ast.InterfaceToValue(d.Object)
}

// measure reports whether a tree says all of its value (what convert and
// ast.InterfaceToValue give: false for what only convert handles, aliases,
// merge keys and two keys of one text), and counts the terms and array
// elements its value has below the root, for treeBuilder.
func measure(n *yaml.Node, depth int) (terms, elems int, ok bool) {
	if depth > maxDepth {
		return 0, 0, false
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!merge" {
				return 0, 0, false
			}
			t, e, ok := measure(n.Content[i+1], depth+1)
			if !ok {
				return 0, 0, false
			}
			terms, elems = terms+t+2, elems+e
		}
		return terms, elems, !repeatedKey(n) // "1" and 1 are one key of the map: it has the last one
	case yaml.SequenceNode:
		for _, c := range n.Content {
			t, e, ok := measure(c, depth+1)
			if !ok {
				return 0, 0, false
			}
			terms, elems = terms+t+1, elems+e+1
		}
		return terms, elems, true
	case yaml.ScalarNode:
		return 0, 0, true
	}
	return 0, 0, false
}

// treeBuilder makes, in one walk of a tree measure accepts, its OPA value
// and its line index, its terms, array elements and index entries each
// taken from one allocation sized by measure.
type treeBuilder struct {
	terms []ast.Term
	elems []*ast.Term
	kvs   [][2]*ast.Term // the pairs of the mappings being built, innermost last
	lines lineIndex
}

func newTreeBuilder(terms, elems int) *treeBuilder {
	// An entry for the root and for each value: a pair has two terms, an
	// element one.
	entries := 1 + (terms-elems)/2 + elems
	return &treeBuilder{terms: make([]ast.Term, terms), elems: make([]*ast.Term, elems), lines: make(lineIndex, 0, entries)}
}

func (b *treeBuilder) term(v ast.Value) *ast.Term {
	t := &b.terms[0]
	t.Value = v
	b.terms = b.terms[1:]
	return t
}

// value builds n, reached by key (in a mapping) on line.
func (b *treeBuilder) value(n *yaml.Node, key string, line int) (ast.Value, error) {
	at := len(b.lines)
	b.lines = append(b.lines, lineEntry{key: key, line: int32(line), kind: n.Kind})
	var v ast.Value
	switch n.Kind {
	case yaml.MappingNode:
		base := len(b.kvs)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			x, err := b.value(n.Content[i+1], k.Value, k.Line)
			if err != nil {
				return nil, err
			}
			b.kvs = append(b.kvs, [2]*ast.Term{b.term(ast.String(k.Value)), b.term(x)})
		}
		v = ast.NewObject(b.kvs[base:]...)
		clear(b.kvs[base:])
		b.kvs = b.kvs[:base]
	case yaml.SequenceNode:
		elems := b.elems[:len(n.Content):len(n.Content)]
		b.elems = b.elems[len(n.Content):]
		for i, c := range n.Content {
			x, err := b.value(c, "", c.Line)
			if err != nil {
				return nil, err
			}
			elems[i] = b.term(x)
		}
		v = ast.NewArray(elems...)
	default:
		x, err := scalar(n)
		if err != nil {
			return nil, err
		}
		if s, ok := x.(string); ok {
			v = ast.String(s)
		} else if v, err = ast.InterfaceToValue(x); err != nil {
			return nil, err
		}
	}
	b.lines[at].end = int32(len(b.lines))
	return v, nil
}

// repeatedKey reports whether two keys of a mapping have the same text.
func repeatedKey(n *yaml.Node) bool {
	if len(n.Content) > 32 {
		seen := make(map[string]bool, len(n.Content)/2)
		for i := 0; i < len(n.Content); i += 2 {
			if seen[n.Content[i].Value] {
				return true
			}
			seen[n.Content[i].Value] = true
		}
		return false
	}
	for i := 0; i < len(n.Content); i += 2 {
		for j := 0; j < i; j += 2 {
			if n.Content[i].Value == n.Content[j].Value {
				return true
			}
		}
	}
	return false
}
