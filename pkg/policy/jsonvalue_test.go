package policy_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/meshguard/meshguard/internal/testutil"
	"github.com/meshguard/meshguard/pkg/manifest"
	"github.com/meshguard/meshguard/pkg/policy"
)

// referenceValue is the way ValueFromJSON replaces: encoding/json with
// UseNumber into any, then ast.InterfaceToValue. Input must be exactly one
// value (json.Valid), as for json.Unmarshal.
func referenceValue(data []byte) (ast.Value, error) {
	var raw json.RawMessage // the syntax, without decoding numbers
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return ast.InterfaceToValue(v)
}

func sameValue(t testing.TB, name string, data []byte) {
	t.Helper()
	want, werr := referenceValue(data)
	got, gerr := policy.ValueFromJSON(data)
	switch {
	case (werr == nil) != (gerr == nil):
		t.Fatalf("%s: encoding/json says %v, ValueFromJSON %v (input %q)", name, werr, gerr, data)
	case werr != nil:
		if werr.Error() != gerr.Error() {
			t.Fatalf("%s: error %q, want encoding/json's %q", name, gerr, werr)
		}
	case got.Compare(want) != 0:
		t.Fatalf("%s: got %v, want %v", name, got, want)
	}
}

func TestValueFromJSONEdgeCases(t *testing.T) {
	for _, in := range []string{
		`{}`, `[]`, `""`, `0`, `-0`, `1.50`, `1e5`, `-2.5E-3`, `1E700`, `12345678901234567890123`, `true`, `false`, `null`,
		` {"a" : [1, 2.0, "x", null, true, {}] } `,
		`{"a":1,"a":2}`, `{"a":{"x":1},"b":2,"a":[3]}`,
		`"tab\tquote\"slash\\/u\u00e9 pair\ud83d\ude00 lone\ud800"`,
		"\"caf\xc3\xa9\"", "\"bad\xffutf8\"", `"\u0000"`,
		// errors: every one must be worded as encoding/json words it
		``, ` `, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[1 2]`, `{"a":1}x`, `01`, `1.`, `.5`, `-`, `1e`, `+1`,
		`tru`, `nul`, `"abc`, "\"ctl\x01\"", `"\x"`, `{1:2}`, `[`, `]`, `{"a":1}{"b":2}`,
	} {
		sameValue(t, "edge case", []byte(in))
	}
	// Many keys, one of them repeated: the index past 16 keys.
	var b strings.Builder
	b.WriteString("{")
	for i := range 40 {
		b.WriteString(`"k` + string(rune('a'+i%26)) + string(rune('a'+i/26)) + `":` + string(rune('0'+i%10)) + ",")
	}
	b.WriteString(`"kaa":"last"}`)
	sameValue(t, "many keys", []byte(b.String()))
}

// TestValueFromJSONCorpus decodes every object of the corpus and the
// fixtures (as compact and as indented JSON) and every JSON file of the
// corpus as it is, and compares with encoding/json + InterfaceToValue.
func TestValueFromJSONCorpus(t *testing.T) {
	dirs := []string{testutil.Corpus(t), filepath.Join(testutil.RepoRoot(t), "test", "policies")}
	n := 0
	for _, o := range objectsIn(t, dirs...) {
		compact, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		indented, _ := json.MarshalIndent(o, "", "  ")
		sameValue(t, policy.RefOf(o).String(), compact)
		sameValue(t, policy.RefOf(o).String(), indented)
		v, err := policy.ValueFromJSON(compact)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := policy.RefOfValue(v.(ast.Object)), policy.RefOf(o); got != want {
			t.Fatalf("RefOfValue = %+v, RefOf = %+v", got, want)
		}
		n++
	}
	files, _ := manifest.Expand(dirs)
	raw := 0
	for _, f := range files {
		if filepath.Ext(f) != ".json" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sameValue(t, f, data)
		raw++
	}
	if n < 1000 {
		t.Fatalf("only %d objects compared", n)
	}
	t.Logf("%d objects and %d JSON files decode to the same values", n, raw)
}

func FuzzValueFromJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,"b",null]}`, `"\u00e9\ud83d\ude00"`, `{"a":1,"a":2}`, `[1e5,-0.5]`, `{"x":{"y":{}}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { sameValue(t, "fuzz", data) })
}

// BenchmarkValueFromJSON decodes the fixture objects' JSON; the reference
// sub-benchmark is encoding/json + ast.InterfaceToValue, the way it
// replaces.
func BenchmarkValueFromJSON(b *testing.B) {
	var docs [][]byte
	for _, o := range objectsIn(b, filepath.Join(testutil.RepoRoot(b), "test", "policies")) {
		raw, _ := json.Marshal(o)
		docs = append(docs, raw)
	}
	for name, decode := range map[string]func([]byte) (ast.Value, error){
		"ValueFromJSON": policy.ValueFromJSON,
		"reference": func(data []byte) (ast.Value, error) {
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.UseNumber()
			var v any
			if err := dec.Decode(&v); err != nil {
				return nil, err
			}
			return ast.InterfaceToValue(v)
		},
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, err := decode(docs[i%len(docs)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
