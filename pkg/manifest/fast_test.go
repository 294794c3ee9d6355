package manifest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"go.yaml.in/yaml/v3"

	"github.com/meshguard/meshguard/internal/testutil"
)

// v3Roots parses data with yaml.v3 as Parse does without the fast path.
func v3Roots(data []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []*yaml.Node
	for {
		var root yaml.Node
		if err := dec.Decode(&root); err != nil {
			if err.Error() == "EOF" {
				return out, nil
			}
			return out, err
		}
		out = append(out, &root)
	}
}

// sameTree compares what Parse and LineOf read of two trees: kinds, tags,
// styles, values, lines and columns (not comments).
func sameTree(path string, a, b *yaml.Node) error {
	if a.Kind != b.Kind || a.Tag != b.Tag || a.Value != b.Value || a.Style != b.Style || a.Line != b.Line || a.Column != b.Column || len(a.Content) != len(b.Content) {
		return fmt.Errorf("%s: fast {kind %d tag %s value %q style %d at %d:%d, %d children}, yaml.v3 {kind %d tag %s value %q style %d at %d:%d, %d children}", path,
			a.Kind, a.Tag, a.Value, a.Style, a.Line, a.Column, len(a.Content), b.Kind, b.Tag, b.Value, b.Style, b.Line, b.Column, len(b.Content))
	}
	for i := range a.Content {
		if err := sameTree(fmt.Sprintf("%s/%d", path, i), a.Content[i], b.Content[i]); err != nil {
			return err
		}
	}
	return nil
}

// checkFast: when fastParse accepts data, yaml.v3 gives the same trees and
// Parse the same File. It reports whether the fast path was taken.
func checkFast(t *testing.T, name string, data []byte) bool {
	t.Helper()
	p, roots, ok := fastParse(string(data))
	if !ok {
		return false
	}
	defer p.release()
	want, err := v3Roots(data)
	if err != nil {
		t.Fatalf("%s: fastParse accepts what yaml.v3 rejects: %v", name, err)
	}
	// yaml.v3 may end with empty documents (a trailing "---"): they hold
	// nothing, as for Parse.
	for len(want) > len(roots) && (len(want[len(want)-1].Content) == 0 || want[len(want)-1].Content[0].Tag == "!!null") {
		want = want[:len(want)-1]
	}
	if len(roots) != len(want) {
		t.Fatalf("%s: %d documents, yaml.v3 %d", name, len(roots), len(want))
	}
	for i := range roots {
		// The document node's own position is not read; its content is.
		if roots[i].Kind != want[i].Kind || len(roots[i].Content) != len(want[i].Content) {
			t.Fatalf("%s doc %d: not the same document node", name, i)
		}
		for j := range roots[i].Content {
			if err := sameTree(fmt.Sprintf("%s doc %d", name, i), roots[i].Content[j], want[i].Content[j]); err != nil {
				t.Fatal(err)
			}
		}
	}
	fast = false
	slow := Parse(name, data)
	fast = true
	got := Parse(name, data)
	if !reflect.DeepEqual(got, slow) {
		t.Fatalf("%s: Parse differs with the fast path:\n%+v\n%+v", name, got, slow)
	}
	return true
}

// TestFastParseMatchesYAMLv3 runs every file of the corpus, the fixtures and
// the examples through both readers; most must take the fast path.
func TestFastParseMatchesYAMLv3(t *testing.T) {
	files, data := readAll(t, append(testDirs(t), filepath.Join(testutil.RepoRoot(t), "charts"))...)
	taken := 0
	var slow []string
	for i, f := range files {
		if checkFast(t, f, data[i]) {
			taken++
		} else {
			slow = append(slow, f)
		}
	}
	t.Logf("%d of %d files on the fast path", taken, len(files))
	if taken*10 < len(files)*7 {
		t.Errorf("only %d of %d files on the fast path; some of the others: %s", taken, len(files), strings.Join(slow[:min(10, len(slow))], " "))
	}
}

func TestFastParseCases(t *testing.T) {
	for _, c := range []struct {
		src  string
		fast bool
	}{
		{"a: 1\nb: two\nc: 'x''y'\nd: \"q\\\"z\"\ne: [1, \"b\", c]\nf: {}\ng:\n- x\n- k: v\n  l: w\nh: |\n  one\n\n  two\ni: |-\n  x\nj:\nk: true\n", true},
		{"---\na: 1\n---\n# only a comment after\nb: 2\n", true},
		{"a: &x 1\nb: *x\n", false},
		{"a: 1\na: 2\n", false},
		{"a: b\n  c\n", false},
		{"a: >\n  folded\n  over lines\n\n  and a paragraph\nb: >-\n  stripped\n", true},
		{"a: >\n  folded\n    more indented\n", false},
		{"a: >\n\n  after a blank line\n", false},
		{"a: !!str 1\n", false},
		{"a:\n\tb: 1\n", false},
		{"a: \"multi\n  line\"\n", false},
		{"- a\n- b\n", true},
		{"a:\n  - 1\n  - 2\nb:\n- 3\n", true},
		{"key: value # comment\nurl: http://x:80/y\nempty: # nothing\n", true},
		{"a: b: c\n", false},
		{"<<: {a: 1}\n", false},
	} {
		if got := checkFast(t, "case", []byte(c.src)); got != c.fast {
			t.Errorf("%q: fast path %v, want %v", c.src, got, c.fast)
		}
	}
}

// FuzzFastParse: whatever fastParse accepts, yaml.v3 reads the same.
func FuzzFastParse(f *testing.F) {
	root := testutil.RepoRoot(f)
	seeds, _ := filepath.Glob(filepath.Join(root, "examples", "*.yaml"))
	for _, p := range seeds {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("a: [1, {b: c}]\nd: |\n  x\n"))
	f.Add([]byte("a: >-\n  x\n  y\n\n  z\nb: 1\n"))
	f.Fuzz(func(t *testing.T, data []byte) { checkFast(t, "fuzz", data) })
}

// readAll reads every file under dirs (as Expand finds them) into memory.
func readAll(tb testing.TB, dirs ...string) (files []string, data [][]byte) {
	tb.Helper()
	files, _ = Expand(dirs)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		data = append(data, b)
	}
	return files, data
}

// testDirs are the corpus, the rule fixtures and the examples.
func testDirs(tb testing.TB) []string {
	root := testutil.RepoRoot(tb)
	return []string{testutil.Corpus(tb), filepath.Join(root, "test", "policies"), filepath.Join(root, "examples")}
}

// TestValuesMatchMaps: parsing with Options.Values gives the same objects,
// errors and skipped documents as parsing with maps, each object's Value is
// ast.InterfaceToValue of its map and its lines are the same, for every
// file of the corpus, the fixtures and the examples, and for the cases the
// tree leaves to the map. Most objects get no map at all.
func TestValuesMatchMaps(t *testing.T) {
	files, data := readAll(t, testDirs(t)...)
	data = append(data, []byte("apiVersion: v1\nkind: ConfigMap\ndata:\n  1: a\n  \"1\": b\n"),
		[]byte("apiVersion: v1\nkind: ConfigMap\nbase: &b {x: 1}\ndata:\n  <<: *b\n  y: 2.5\n  z: 0x10\n  n: ~\n"),
		[]byte("apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n- 3\n"),
		[]byte("apiVersion: 1\nkind: ConfigMap\n---\nkind: ConfigMap\n---\nmetadata: {}\n---\n- a\n---\napiVersion: v1\nkind: ConfigMap\nx: .nan\n"))
	n, trees := 0, 0
	for i, b := range data {
		name := fmt.Sprintf("f%d", i)
		maps, values := Parse(name, b), Options{Values: true}.Parse(name, b)
		if !reflect.DeepEqual(maps.Errors, values.Errors) || !reflect.DeepEqual(maps.Skipped, values.Skipped) || len(maps.Docs) != len(values.Docs) {
			t.Fatalf("%s: with maps %d objects, errors %v, skipped %v; with values %d, %v, %v",
				files[min(i, len(files)-1)], len(maps.Docs), maps.Errors, maps.Skipped, len(values.Docs), values.Errors, values.Skipped)
		}
		for j, m := range maps.Docs {
			v := values.Docs[j]
			if m.File != v.File || m.Index != v.Index || m.Item != v.Item || m.Line != v.Line {
				t.Fatalf("%s:%d: document %+v with maps, %+v with values", m.File, m.Line, m, v)
			}
			want, err := ast.InterfaceToValue(m.Object)
			if err != nil {
				t.Fatal(err)
			}
			got, err := v.Value()
			if err != nil {
				t.Fatal(err)
			}
			if got.Compare(want) != 0 {
				t.Fatalf("%s:%d: Value %v, InterfaceToValue %v", m.File, m.Line, got, want)
			}
			for _, path := range [][]any{{"metadata", "name"}, {"spec"}, {"spec", "template", "spec", "containers", 0, "image"}, {"missing", "x"}} {
				if a, b := m.LineOf(path), v.LineOf(path); a != b {
					t.Fatalf("%s:%d: line of %v: %d with maps, %d with values", m.File, m.Line, path, a, b)
				}
			}
			if v.Object == nil {
				trees++
			}
			n++
		}
	}
	if n < 3000 || trees*10 < n*9 {
		t.Fatalf("%d objects, %d of them without a map", n, trees)
	}
}

// TestValuesKeepMapsWhereTheTreeCannotSay: with Options.Values, a document
// with a merge key, or with two keys of one text, keeps its map; a plain one
// has none and keeps its lines.
func TestValuesKeepMapsWhereTheTreeCannotSay(t *testing.T) {
	for _, src := range []string{
		"apiVersion: v1\nkind: ConfigMap\nbase: &b {x: 1}\ndata:\n  <<: *b\n",
		"apiVersion: v1\nkind: ConfigMap\ndata:\n  1: a\n  \"1\": b\n",
	} {
		docs := Options{Values: true}.Parse("f", []byte(src)).Docs
		if len(docs) != 1 || docs[0].Object == nil {
			t.Errorf("%q: no map", src)
		}
	}
	d := Options{Values: true}.Parse("f", []byte("apiVersion: v1\nkind: ConfigMap\ndata: {a: b}\n")).Docs[0]
	if d.Object != nil || d.LineOf([]any{"data", "a"}) != 3 {
		t.Errorf("a plain document has a map, or lost its lines")
	}
}

// TestFastParseManyKeys: a mapping of many keys, one of them repeated far
// apart, is still the yaml.v3 path's to reject, and one without repeats is
// read fast (in linear time: 200,000 keys).
func TestFastParseManyKeys(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\ndata:\n")
	for i := range 200000 {
		fmt.Fprintf(&b, "  k%d: v\n", i)
	}
	if _, _, ok := fastParse(b.String()); !ok {
		t.Fatal("200,000 distinct keys: not on the fast path")
	}
	b.WriteString("  k7: again\n")
	if _, _, ok := fastParse(b.String()); ok {
		t.Fatal("a key repeated after 200,000 others was accepted")
	}
}

// BenchmarkParseCorpus reads every file of the corpus from memory: the
// reading step of `check` (docs/performance.md).
func BenchmarkParseCorpus(b *testing.B) {
	_, data := readAll(b, testutil.Corpus(b))
	b.ReportAllocs()
	for b.Loop() {
		for _, d := range data {
			Parse("f", d)
		}
	}
}

// treeLineOf is LineOf read off a yaml.v3 tree by walking it, as Document
// kept the tree before its line index: the reference the index is held to.
func treeLineOf(n *yaml.Node, path []any) int {
	line := n.Line
	for _, p := range path {
		n = resolve(n)
		var next *yaml.Node
		switch n.Kind {
		case yaml.MappingNode:
			key := fmt.Sprint(p)
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == key {
					line, next = n.Content[i].Line, n.Content[i+1]
					break
				}
			}
		case yaml.SequenceNode:
			if idx, ok := toIndex(p); ok && idx >= 0 && idx < len(n.Content) {
				next = n.Content[idx]
				line = next.Line
			}
		}
		if next == nil {
			return line
		}
		n = next
	}
	return line
}

// TestLineIndexMatchesTree: LineOf gives, for the path of every node of
// every object of the corpus, the fixtures and the examples (and for paths
// one step past it, and a few that are not there), the line a walk of the
// yaml.v3 tree gives.
func TestLineIndexMatchesTree(t *testing.T) {
	files, all := readAll(t, append(testDirs(t), filepath.Join("testdata", "anchors.yaml"))...)
	paths := 0
	for k, name := range files {
		data := all[k]
		trees, _ := v3Roots(data)
		for _, values := range []bool{false, true} {
			for _, d := range (Options{Values: values}).Parse(name, data).Docs {
				if d.Item >= 0 || d.Index >= len(trees) {
					continue // a List item: its tree is the List's
				}
				tree := resolve(trees[d.Index].Content[0])
				var walk func(n *yaml.Node, path []any, depth int)
				walk = func(n *yaml.Node, path []any, depth int) {
					for _, p := range [][]any{path, append(slices.Clip(path), "missing"), append(slices.Clip(path), 99999), append(slices.Clip(path), -1)} {
						if got, want := d.LineOf(p), treeLineOf(tree, p); got != want {
							t.Fatalf("%s: line of %v: %d, the tree says %d", name, p, got, want)
						}
						paths++
					}
					if n = resolve(n); depth > 50 {
						return
					}
					switch n.Kind {
					case yaml.MappingNode:
						for i := 0; i+1 < len(n.Content); i += 2 {
							walk(n.Content[i+1], append(slices.Clip(path), n.Content[i].Value), depth+1)
						}
					case yaml.SequenceNode:
						for i, c := range n.Content {
							walk(c, append(slices.Clip(path), i), depth+1)
						}
					}
				}
				walk(tree, nil, 0)
			}
		}
	}
	if paths < 500_000 {
		t.Fatalf("only %d paths compared", paths)
	}
	t.Logf("%d paths compared", paths)
}

// TestPlainTag: plainTag resolves a plain scalar as yaml.v3 does, for every
// first character and texts that are and are not numbers, booleans, null or
// timestamps.
func TestPlainTag(t *testing.T) {
	rests := []string{"", "a", "1", "0", ".5", "x1", "rue", "ull", "es", "o", "<", "2001-12-14", "_000", "e3", " b"}
	n := 0
	for c := 1; c < 256; c++ {
		for _, rest := range rests {
			s := string(rune(c)) + rest
			if c >= 0x80 {
				s = string([]byte{byte(c)}) + rest
			}
			want := (&yaml.Node{Kind: yaml.ScalarNode, Value: s}).ShortTag()
			if got := plainTag(s); got != want {
				t.Fatalf("plainTag(%q) = %s, yaml.v3 says %s", s, got, want)
			}
			n++
		}
	}
	for _, s := range []string{"", "~", "null", "true", "False", "yes", "on", "0x1F", "0o17", "1e3", "-.inf", ".nan", "<<", "2001-12-14t21:59:43.10-05:00", "+12", "-"} {
		if got, want := plainTag(s), (&yaml.Node{Kind: yaml.ScalarNode, Value: s}).ShortTag(); got != want {
			t.Fatalf("plainTag(%q) = %s, yaml.v3 says %s", s, got, want)
		}
	}
}

// TestReadFileMatchesOS: readFile gives what os.ReadFile gives, errors
// included: a file, an empty one, one whose size fstat does not know, a
// directory and a path that does not exist.
func TestReadFileMatchesOS(t *testing.T) {
	dir := t.TempDir()
	full, empty := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "empty.yaml")
	if err := os.WriteFile(full, bytes.Repeat([]byte("kind: ConfigMap\n"), 10000), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{full, empty, "/proc/self/status", dir, filepath.Join(dir, "missing.yaml")} {
		got, gotErr := readFile(name)
		want, wantErr := os.ReadFile(name)
		if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Fatalf("%s: error %v, os.ReadFile %v", name, gotErr, wantErr)
		}
		if name != "/proc/self/status" && !bytes.Equal(got, want) {
			t.Fatalf("%s: %d bytes, os.ReadFile %d", name, len(got), len(want))
		}
		if name == "/proc/self/status" && wantErr == nil && len(got) == 0 {
			t.Fatalf("%s: nothing read", name)
		}
	}
}
