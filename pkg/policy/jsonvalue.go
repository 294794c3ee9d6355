package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"sync"
	"unicode/utf8"

	"github.com/open-policy-agent/opa/v1/ast"
)

// ValueFromJSON decodes one JSON value straight into the OPA value the
// engine evaluates: what json.Decoder (with UseNumber) and
// ast.InterfaceToValue give, without the map in between. The webhook judges
// every object this way; on the fixture reviews it costs about a third of
// the two steps it replaces (BenchmarkValueFromJSON).
//
// The same value means: numbers keep their literal text, strings are
// unescaped as encoding/json does (invalid UTF-8 becomes U+FFFD), and a key
// given twice keeps its last value. Input that is not exactly one JSON value
// is an error worded by encoding/json.
func ValueFromJSON(data []byte) (ast.Value, error) {
	d, _ := decoders.Get().(*jsonDecoder)
	if d == nil {
		d = &jsonDecoder{strs: make(map[string]ast.Value, 256)}
	}
	d.data, d.pos = data, 0
	defer func() {
		clear(d.stack) // an error leaves a partial stack
		d.data, d.stack = nil, d.stack[:0]
		decoders.Put(d)
	}()
	d.space()
	v, err := d.value(0)
	if err == nil {
		d.space()
		if d.pos != len(d.data) {
			err = errJSONSyntax
		}
	}
	if err != nil {
		return nil, jsonError(data, err)
	}
	return v, nil
}

// errJSONSyntax is what the decoder returns on any malformed input; the
// error the caller sees comes from encoding/json, which words it.
var errJSONSyntax = errors.New("invalid JSON")

// maxJSONDepth is encoding/json's nesting limit.
const maxJSONDepth = 10000

// jsonError words a failure: a syntax error as encoding/json words it
// (it wins over a number out of range, as it does in encoding/json).
func jsonError(data []byte, err error) error {
	var v json.RawMessage // checks the syntax only, as the caller's decoder would
	if jerr := json.Unmarshal(data, &v); jerr != nil {
		return jerr
	}
	return err
}

// decoders are pooled for their stack and their table of strings.
var decoders sync.Pool

// maxStrings bounds a decoder's table of short strings; maxShort is the
// longest string it keeps.
const maxStrings, maxShort = 8192, 32

type jsonDecoder struct {
	data []byte
	pos  int
	// strs holds the short strings read before (keys, kinds, versions,
	// ...) as values, so that a repeated one costs no allocation. Strings
	// are immutable: every value decoded may share them.
	strs map[string]ast.Value
	// stack holds the keys and values of the objects and arrays being read
	// (nested ones above their parents); each gets its terms in one slab
	// when it closes.
	stack []ast.Value
}

// terms makes the values from stack[from:] terms, in one allocation, and
// pops them.
func (d *jsonDecoder) terms(from int) []ast.Term {
	ts := make([]ast.Term, len(d.stack)-from)
	for i, v := range d.stack[from:] {
		ts[i].Value = v
	}
	clear(d.stack[from:])
	d.stack = d.stack[:from]
	return ts
}

func (d *jsonDecoder) space() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *jsonDecoder) value(depth int) (ast.Value, error) {
	if d.pos >= len(d.data) {
		return nil, errJSONSyntax
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return d.object(depth + 1)
	case c == '[':
		return d.array(depth + 1)
	case c == '"':
		return d.string()
	case c == 't':
		return d.literal("true", ast.InternedTerm(true).Value)
	case c == 'f':
		return d.literal("false", ast.InternedTerm(false).Value)
	case c == 'n':
		return d.literal("null", ast.NullValue)
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	}
	return nil, errJSONSyntax
}

func (d *jsonDecoder) literal(word string, v ast.Value) (ast.Value, error) {
	if !bytes.HasPrefix(d.data[d.pos:], []byte(word)) {
		return nil, errJSONSyntax
	}
	d.pos += len(word)
	return v, nil
}

func (d *jsonDecoder) object(depth int) (ast.Value, error) {
	if depth > maxJSONDepth {
		return nil, errJSONSyntax
	}
	d.pos++ // {
	d.space()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return ast.NewObject(), nil
	}
	from := len(d.stack)
	var index map[string]int // for objects with many keys
	for {
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return nil, errJSONSyntax
		}
		k, err := d.string()
		if err != nil {
			return nil, err
		}
		d.space()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return nil, errJSONSyntax
		}
		d.pos++
		d.space()
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		index = d.setKey(from, index, k, v)
		closed, err := d.after('}')
		if err != nil {
			return nil, err
		}
		if !closed {
			continue
		}
		ts := d.terms(from)
		kvs := make([][2]*ast.Term, len(ts)/2)
		for i := range kvs {
			kvs[i] = [2]*ast.Term{&ts[2*i], &ts[2*i+1]}
		}
		return ast.NewObject(kvs...), nil
	}
}

// after reads what follows an element of an object or array: a comma
// (false: another element comes) or the closing bracket (true).
func (d *jsonDecoder) after(closing byte) (bool, error) {
	d.space()
	if d.pos >= len(d.data) {
		return false, errJSONSyntax
	}
	switch d.data[d.pos] {
	case ',':
		d.pos++
		d.space()
		return false, nil
	case closing:
		d.pos++
		return true, nil
	}
	return false, errJSONSyntax
}

// setKey pushes k: v onto the stack of the object that starts at from, or
// replaces the value of a key given before (the last one wins, as in
// encoding/json's map). Past a few keys, index finds them.
func (d *jsonDecoder) setKey(from int, index map[string]int, key, v ast.Value) map[string]int {
	kv := d.stack[from:]
	k := string(key.(ast.String))
	if index != nil {
		if i, ok := index[k]; ok {
			kv[i+1] = v
			return index
		}
		index[k] = len(kv)
	} else {
		for i := 0; i < len(kv); i += 2 {
			if string(kv[i].(ast.String)) == k {
				kv[i+1] = v
				return nil
			}
		}
		if len(kv) == 32 {
			index = make(map[string]int, 64)
			for i := 0; i < len(kv); i += 2 {
				index[string(kv[i].(ast.String))] = i
			}
			index[k] = len(kv)
		}
	}
	d.stack = append(d.stack, key, v)
	return index
}

func (d *jsonDecoder) array(depth int) (ast.Value, error) {
	if depth > maxJSONDepth {
		return nil, errJSONSyntax
	}
	d.pos++ // [
	d.space()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return ast.NewArray(), nil
	}
	from := len(d.stack)
	for {
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		d.stack = append(d.stack, v)
		closed, err := d.after(']')
		if err != nil {
			return nil, err
		}
		if !closed {
			continue
		}
		ts := d.terms(from)
		elems := make([]*ast.Term, len(ts))
		for i := range ts {
			elems[i] = &ts[i]
		}
		return ast.NewArray(elems...), nil
	}
}

// string reads a quoted string. Plain ASCII is sliced (a short one found in
// the table if read before); anything with an escape or a byte above 0x7f
// is unquoted by encoding/json itself, so that escapes, surrogate pairs and
// invalid UTF-8 come out as they do there.
func (d *jsonDecoder) string() (ast.Value, error) {
	start := d.pos
	d.pos++ // "
	plain := true
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			if !plain {
				var s string
				if err := json.Unmarshal(d.data[start:d.pos], &s); err != nil {
					return nil, errJSONSyntax
				}
				return ast.String(s), nil
			}
			b := d.data[start+1 : d.pos-1]
			if len(b) > maxShort {
				return ast.String(string(b)), nil
			}
			if v, ok := d.strs[string(b)]; ok {
				return v, nil
			}
			v := ast.Value(ast.String(string(b)))
			if len(d.strs) < maxStrings {
				d.strs[string(v.(ast.String))] = v
			}
			return v, nil
		case c == '\\':
			plain = false
			d.pos += 2
		case c < 0x20:
			return nil, errJSONSyntax
		case c >= utf8.RuneSelf:
			plain = false
			d.pos++
		default:
			d.pos++
		}
	}
	return nil, errJSONSyntax
}

// number reads a number as JSON's grammar spells it and keeps its text.
func (d *jsonDecoder) number() (ast.Value, error) {
	start := d.pos
	if d.data[d.pos] == '-' {
		d.pos++
	}
	digits := func() int {
		n := 0
		for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
			d.pos++
			n++
		}
		return n
	}
	switch {
	case d.pos < len(d.data) && d.data[d.pos] == '0':
		d.pos++
	case digits() == 0:
		return nil, errJSONSyntax
	}
	if d.pos < len(d.data) && d.data[d.pos] == '.' {
		d.pos++
		if digits() == 0 {
			return nil, errJSONSyntax
		}
	}
	if d.pos < len(d.data) && (d.data[d.pos] == 'e' || d.data[d.pos] == 'E') {
		d.pos++
		if d.pos < len(d.data) && (d.data[d.pos] == '+' || d.data[d.pos] == '-') {
			d.pos++
		}
		if digits() == 0 {
			return nil, errJSONSyntax
		}
	}
	text := string(d.data[start:d.pos])
	if t := ast.InternedIntNumberTermFromString(text); t != nil {
		return t.Value, nil
	}
	return ast.NumberChecked(text) // too large an exponent is an error there too
}
