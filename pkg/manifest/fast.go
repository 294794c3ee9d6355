package manifest

import (
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// fastParse reads the plain block YAML that nearly every Kubernetes manifest
// is written in, into the same yaml.Node trees as yaml.v3 (kinds, values,
// tags, styles, lines), at a fraction of the cost: yaml.v3's scanner and
// parser were the largest cost of `meshguard check`. It accepts only what
// it fully understands: block mappings and sequences indented with spaces,
// plain and quoted scalars on one line, literal and simple folded block
// scalars, one-line flow collections of scalars, comments and `---`
// separators. Anything else (anchors, aliases, tags, multi-line plain or
// quoted scalars, folded scalars with indented lines, directives, tabs,
// duplicate keys, whatever yaml.v3 would reject, ...) makes it return
// false, and the file is parsed by yaml.v3. TestFastParseMatchesYAMLv3
// holds it to yaml.v3 on the whole corpus, and FuzzFastParse on anything.
//
// The trees are valid until the parser is released (release), which the
// caller does once it holds what it needs of them: the nodes are reused by
// the next file, so that reading a large input does not make new memory for
// every tree.
func fastParse(data string) (*fastParser, []*yaml.Node, bool) {
	if len(data) == 0 || !printable(data) {
		return nil, nil, false
	}
	p := parsers.Get().(*fastParser)
	p.pos, p.noFinalNewline = 0, data[len(data)-1] != '\n'
	roots, ok := p.parse(data)
	if !ok {
		p.release()
		return nil, nil, false
	}
	return p, roots, true
}

var parsers = sync.Pool{New: func() any { return new(fastParser) }}

// release gives the parser, and the nodes of its trees, to the next file.
func (p *fastParser) release() {
	p.lines = p.lines[:0]
	p.slab, p.reuse, p.made = nil, 0, 0
	parsers.Put(p)
}

func (p *fastParser) parse(text string) ([]*yaml.Node, bool) {
	// Split into lines, keeping their numbers. The lines, and the values
	// of the nodes, are slices of the text.
	p.lines = slices.Grow(p.lines[:0], strings.Count(text, "\n")+1)
	for n, rest := 1, text; len(rest) > 0; n++ {
		i := strings.IndexByte(rest, '\n')
		var line string
		if i < 0 {
			line, rest = rest, ""
		} else {
			line, rest = rest[:i], rest[i+1:]
		}
		p.lines = append(p.lines, fastLine{n: n, text: line, ascii: ascii(line)})
	}
	var docs []*yaml.Node
	for {
		// Skip blank and comment lines, and one "---".
		start := p.pos
		sawSep := false
		for p.pos < len(p.lines) {
			t := p.lines[p.pos].text
			switch {
			case blank(t):
				p.pos++
				continue
			case t == "---" || strings.HasPrefix(t, "--- #"):
				if sawSep {
					return nil, false // an empty document between two separators
				}
				sawSep = true
				p.pos++
				continue
			case strings.HasPrefix(t, "---") || strings.HasPrefix(t, "...") || strings.HasPrefix(t, "%"):
				return nil, false
			}
			break
		}
		if p.pos >= len(p.lines) {
			if len(docs) == 0 && start == 0 {
				return nil, false // no document at all: let yaml.v3 say what it is
			}
			return docs, true
		}
		if len(docs) > 0 && !sawSep {
			return nil, false
		}
		l := p.lines[p.pos]
		if indentOf(l.text) != 0 {
			return nil, false
		}
		root, ok := p.block(0)
		if !ok {
			return nil, false
		}
		if p.pos < len(p.lines) && !strings.HasPrefix(p.lines[p.pos].text, "---") {
			return nil, false // something left at the document's level
		}
		p.runeColumns(root)
		docs = append(docs, &yaml.Node{Kind: yaml.DocumentNode, Line: root.Line, Column: 1, Content: []*yaml.Node{root}})
	}
}

// printable: UTF-8 of the characters YAML allows, without tabs, carriage
// returns, byte order marks or the line breaks of YAML 1.1 (NEL, LS, PS):
// yaml.v3 reads those.
func printable(data string) bool {
	for i := 0; i < len(data); {
		c := data[i]
		if c < utf8.RuneSelf {
			if (c < 0x20 && c != '\n') || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(data[i:])
		if r == utf8.RuneError || r == 0xfeff || r < 0xa0 || r == 0x2028 || r == 0x2029 || (r >= 0xd800 && r <= 0xdfff) || r == 0xfffe || r == 0xffff {
			return false
		}
		i += size
	}
	return true
}

// runeColumns turns the columns of nodes on lines with non-ASCII text from
// bytes into characters, as yaml.v3 counts them.
func (p *fastParser) runeColumns(n *yaml.Node) {
	if l := p.lines[n.Line-1]; !l.ascii && n.Column > 1 && n.Column-1 <= len(l.text) {
		n.Column = utf8.RuneCountInString(l.text[:n.Column-1]) + 1
	}
	for _, c := range n.Content {
		p.runeColumns(c)
	}
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

type fastLine struct {
	n     int
	text  string
	ascii bool
}

type fastParser struct {
	lines          []fastLine
	pos            int
	noFinalNewline bool // the last line ends the data without a line break
	slab           []yaml.Node
	made           int // nodes in the slabs so far
	// slabs are every slab the parser made, for the files it reads next;
	// reuse is the next one to take.
	slabs [][]yaml.Node
	reuse int
}

// node returns a node like n, from a slab: one allocation for many nodes,
// and none once the parser has read a file as large.
func (p *fastParser) node(n yaml.Node) *yaml.Node {
	if len(p.slab) == 0 {
		if p.reuse < len(p.slabs) {
			p.slab = p.slabs[p.reuse]
			p.reuse++
		} else {
			// About two nodes a line (a key and its value) for the
			// file's first slab; more when a file holds more.
			p.slab = make([]yaml.Node, max(16, min(2*len(p.lines)+4, 1024)-p.made))
			p.slabs = append(p.slabs, p.slab)
			p.reuse = len(p.slabs)
		}
		p.made += len(p.slab)
	}
	x := &p.slab[0]
	content := x.Content[:0] // a reused node's children array, for its next children
	*x = n
	x.Content = content
	p.slab = p.slab[1:]
	return x
}

func blank(t string) bool {
	s := trimSpaces(t)
	return s == "" || s[0] == '#'
}

func indentOf(t string) int { return len(t) - len(trimSpaces(t)) }

// trimSpaces and trimSpacesRight are strings.TrimLeft and TrimRight of " ",
// without the cutset's machinery (they run on every line).
func trimSpaces(s string) string {
	i := 0
	for i < len(s) && s[i] == ' ' {
		i++
	}
	return s[i:]
}

func trimSpacesRight(s string) string {
	i := len(s)
	for i > 0 && s[i-1] == ' ' {
		i--
	}
	return s[:i]
}

// next moves to the next line with content and returns its indent, or -1
// at the end of the document.
func (p *fastParser) next() int {
	for p.pos < len(p.lines) && blank(p.lines[p.pos].text) {
		p.pos++
	}
	if p.pos >= len(p.lines) || strings.HasPrefix(p.lines[p.pos].text, "---") || strings.HasPrefix(p.lines[p.pos].text, "...") {
		return -1
	}
	return indentOf(p.lines[p.pos].text)
}

// block reads the block node whose first line is at p.pos, indented by
// indent.
func (p *fastParser) block(indent int) (*yaml.Node, bool) {
	l := p.lines[p.pos]
	rest := l.text[indent:]
	if rest == "-" || strings.HasPrefix(rest, "- ") {
		return p.sequence(indent)
	}
	return p.mapping(indent, "")
}

// sequence reads "- item" lines at indent.
func (p *fastParser) sequence(indent int) (*yaml.Node, bool) {
	seq := p.node(yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: p.lines[p.pos].n, Column: indent + 1})
	for {
		in := p.next()
		if in != indent {
			if in > indent {
				return nil, false
			}
			return seq, true
		}
		l := p.lines[p.pos]
		rest := l.text[indent:]
		if rest != "-" && !strings.HasPrefix(rest, "- ") {
			return seq, true // the parent mapping's next key, at the same indent
		}
		item := trimSpaces(rest[1:])
		if item == "" || item[0] == '#' {
			// "-" alone: the item is the block below, or null.
			p.pos++
			in := p.next()
			if in <= indent {
				return nil, false // a null item: rare, let yaml.v3 place it
			}
			v, ok := p.block(in)
			if !ok {
				return nil, false
			}
			seq.Content = append(seq.Content, v)
			continue
		}
		col := len(l.text) - len(item) // where the item starts
		if item[0] == '-' && (len(item) == 1 || item[1] == ' ') {
			return nil, false // "- - x": a sequence in a sequence on one line
		}
		if key, _, ok := splitKey(item); ok && key != "" {
			// "- key: value": a mapping that starts on the dash's line.
			v, ok := p.mapping(col, item)
			if !ok {
				return nil, false
			}
			seq.Content = append(seq.Content, v)
			continue
		}
		v, ok := p.inlineValue(item, l.n, col+1, indent)
		if !ok {
			return nil, false
		}
		seq.Content = append(seq.Content, v)
	}
}

// mapping reads "key: value" lines at indent. first, when set, is the
// text of the first pair, which starts after a sequence's dash.
func (p *fastParser) mapping(indent int, first string) (*yaml.Node, bool) {
	m := p.node(yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: p.lines[p.pos].n, Column: indent + 1})
	var keys keySet
	for {
		var text string
		if first != "" {
			text, first = first, ""
		} else {
			in := p.next()
			if in != indent {
				if in > indent {
					return nil, false
				}
				return m, true
			}
			text = p.lines[p.pos].text[indent:]
			if text == "-" || strings.HasPrefix(text, "- ") {
				return nil, false // a sequence where a key belongs
			}
		}
		l := p.lines[p.pos]
		key, value, colon, ok := splitKeyAt(text)
		if !ok {
			return nil, false
		}
		kn, ok := p.keyNode(key, l.n, indent+1)
		if !ok || keys.has(m, kn.Value) {
			return nil, false // duplicate keys are yaml.v3's error to word
		}
		m.Content = append(m.Content, kn)
		if value != "" && value[0] != '#' {
			col := len(l.text) - len(value) + 1
			v, ok := p.inlineValue(value, l.n, col, indent)
			if !ok {
				return nil, false
			}
			m.Content = append(m.Content, v)
			continue
		}
		// "key:": the value is the block below, a sequence at the same
		// indent, or null.
		p.pos++
		in := p.next()
		switch {
		case in > indent:
			v, ok := p.block(in)
			if !ok {
				return nil, false
			}
			m.Content = append(m.Content, v)
		case in == indent && in >= 0 && (p.lines[p.pos].text[in:] == "-" || strings.HasPrefix(p.lines[p.pos].text[in:], "- ")):
			v, ok := p.sequence(in)
			if !ok {
				return nil, false
			}
			m.Content = append(m.Content, v)
		default:
			// yaml.v3 places the empty value just after the colon.
			m.Content = append(m.Content, p.node(yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: l.n, Column: len(l.text) - len(text) + colon + 2}))
		}
	}
}

// keySet finds a mapping's keys so far: by a scan of the first few, by a
// map past them (a mapping of thousands of keys stays linear).
type keySet map[string]bool

// has reports whether m already has key, and notes key.
func (ks *keySet) has(m *yaml.Node, key string) bool {
	if *ks == nil {
		for i := 0; i < len(m.Content); i += 2 {
			if m.Content[i].Value == key {
				return true
			}
		}
		if len(m.Content) < 64 {
			return false
		}
		*ks = make(keySet, len(m.Content))
		for i := 0; i < len(m.Content); i += 2 {
			(*ks)[m.Content[i].Value] = true
		}
	}
	if (*ks)[key] {
		return true
	}
	(*ks)[key] = true
	return false
}

// splitKey splits "key: value" (or "key:") at its first ": "; the key may
// be quoted.
func splitKey(text string) (key, value string, ok bool) {
	key, value, _, ok = splitKeyAt(text)
	return key, value, ok
}

// splitKeyAt is splitKey that also returns the index of the colon.
func splitKeyAt(text string) (key, value string, colon int, ok bool) {
	if text == "" {
		return "", "", 0, false
	}
	i := 0
	if q := text[0]; q == '"' || q == '\'' {
		end := closingQuote(text, q)
		if end < 0 {
			return "", "", 0, false
		}
		i = end + 1
		if i >= len(text) || text[i] != ':' || (i+1 < len(text) && text[i+1] != ' ') {
			return "", "", 0, false
		}
	} else {
		for i < len(text) {
			if text[i] == ':' && (i+1 == len(text) || text[i+1] == ' ') {
				break
			}
			if text[i] == '#' && i > 0 && text[i-1] == ' ' {
				return "", "", 0, false
			}
			i++
		}
		if i >= len(text) {
			return "", "", 0, false
		}
	}
	key = trimSpacesRight(text[:i])
	value = trimSpaces(text[i+1:])
	return key, value, i, key != ""
}

// closingQuote is the index of the quote that ends a quoted scalar starting
// at s[0], or -1.
func closingQuote(s string, q byte) int {
	for i := 1; i < len(s); i++ {
		switch {
		case q == '\'' && s[i] == '\'':
			if i+1 < len(s) && s[i+1] == '\'' {
				i++
				continue
			}
			return i
		case q == '"' && s[i] == '\\':
			i++
		case q == '"' && s[i] == '"':
			return i
		}
	}
	return -1
}

func (p *fastParser) keyNode(key string, line, col int) (*yaml.Node, bool) {
	if len(key) > 512 {
		return nil, false // YAML bounds a key on one line to 1,024 characters
	}
	n, ok := p.scalarNode(key, line, col)
	if !ok || n.Kind != yaml.ScalarNode || n.Tag == "!!merge" || n.Tag == "!!null" {
		return nil, false
	}
	return n, true
}

// inlineValue reads the value that follows "key: " or "- " on a line: a
// scalar, a one-line flow collection or a literal block scalar (whose
// lines follow, indented deeper than indent).
func (p *fastParser) inlineValue(text string, line, col, indent int) (*yaml.Node, bool) {
	switch text[0] {
	case '|', '>':
		return p.blockScalar(text, line, col, indent)
	case '[', '{':
		v, rest, ok := p.flow(text, line, col)
		if !ok || !comment(rest) {
			return nil, false
		}
		p.pos++
		if p.next() > indent {
			return nil, false
		}
		return v, true
	}
	n, ok := p.scalarNode(text, line, col)
	if !ok {
		return nil, false
	}
	p.pos++
	// A scalar that goes on over the next lines is yaml.v3's to read (or
	// reject).
	if p.next() > indent {
		return nil, false
	}
	return n, true
}

// comment reports whether the rest of a line is empty or a comment.
func comment(rest string) bool {
	rest = trimSpaces(rest)
	return rest == "" || (rest[0] == '#')
}

// scalarNode reads one scalar that ends the line (a comment may follow).
func (p *fastParser) scalarNode(text string, line, col int) (*yaml.Node, bool) {
	n := p.node(yaml.Node{Kind: yaml.ScalarNode, Line: line, Column: col})
	switch q := text[0]; q {
	case '"', '\'':
		end := closingQuote(text, q)
		if end < 0 || !comment(text[end+1:]) || (end+1 < len(text) && text[end+1] != ' ' && text[end+1] != '#') {
			return nil, false
		}
		s, ok := unquote(text[1:end], q)
		if !ok {
			return nil, false
		}
		n.Value, n.Tag = s, "!!str"
		if q == '"' {
			n.Style = yaml.DoubleQuotedStyle
		} else {
			n.Style = yaml.SingleQuotedStyle
		}
		return n, true
	}
	s := text
	if i := strings.Index(s, " #"); i >= 0 {
		s = s[:i]
	}
	s = trimSpacesRight(s)
	if !plainOK(s) {
		return nil, false
	}
	n.Value = s
	n.Tag = plainTag(s)
	return n, true
}

// plainTag is the tag yaml.v3 resolves a plain scalar to (Node.ShortTag).
// A text whose first character can start no number, boolean, null or merge
// key is a string: yaml.v3's resolver says so too, at a cost (about a tenth
// of reading a file) that most keys and values need not pay.
func plainTag(s string) string {
	if s != "" && !resolvable[s[0]] {
		return "!!str"
	}
	n := yaml.Node{Kind: yaml.ScalarNode, Value: s}
	return n.ShortTag()
}

// resolvable are the first characters yaml.v3's resolver looks further at.
var resolvable = func() (t [256]bool) {
	for _, c := range []byte("+-0123456789yYnNtTfFoO~<.") {
		t[c] = true
	}
	return t
}()

// plainOK: a plain scalar on one line in block context that yaml.v3 reads
// as this very text.
func plainOK(s string) bool {
	if s == "" {
		return false
	}
	switch s[0] {
	case '&', '*', '!', '|', '>', '%', '@', '`', '[', ']', '{', '}', ',', '#', '"', '\'':
		return false
	case '-', '?', ':':
		if len(s) == 1 || s[1] == ' ' {
			return false
		}
	}
	if strings.Contains(s, ": ") || strings.HasSuffix(s, ":") || strings.Contains(s, " #") {
		return false
	}
	return s != "<<"
}

// unquote reads the inside of a one-line quoted scalar.
func unquote(s string, q byte) (string, bool) {
	if q == '\'' {
		return strings.ReplaceAll(s, "''", "'"), true
	}
	if strings.IndexByte(s, '\\') < 0 {
		return s, true
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(s) {
			return "", false
		}
		switch s[i] {
		case '\\', '"', '/':
			b.WriteByte(s[i])
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		default:
			return "", false // other escapes: yaml.v3's to read
		}
	}
	return b.String(), true
}

// flow reads a one-line flow collection of scalars (and nested flow
// collections) and returns what follows it.
func (p *fastParser) flow(text string, line, col int) (*yaml.Node, string, bool) {
	open := text[0]
	n := p.node(yaml.Node{Line: line, Column: col, Style: yaml.FlowStyle})
	closing := byte(']')
	if open == '{' {
		n.Kind, n.Tag, closing = yaml.MappingNode, "!!map", '}'
	} else {
		n.Kind, n.Tag = yaml.SequenceNode, "!!seq"
	}
	i := 1
	skip := func() {
		for i < len(text) && text[i] == ' ' {
			i++
		}
	}
	seen := map[string]bool{}
	item := func(stop string) (*yaml.Node, bool) {
		key := strings.IndexByte(stop, ':') >= 0 // a flow mapping's key
		skip()
		if i >= len(text) {
			return nil, false
		}
		switch c := text[i]; c {
		case '[', '{':
			v, rest, ok := p.flow(text[i:], line, col+i)
			if !ok {
				return nil, false
			}
			i = len(text) - len(rest)
			return v, true
		case '"', '\'':
			end := closingQuote(text[i:], c)
			if end < 0 || (key && end > 512) {
				return nil, false
			}
			s, ok := unquote(text[i+1:i+end], c)
			if !ok {
				return nil, false
			}
			v := p.node(yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s, Line: line, Column: col + i, Style: yaml.DoubleQuotedStyle})
			if c == '\'' {
				v.Style = yaml.SingleQuotedStyle
			}
			i += end + 1
			return v, true
		}
		start := i
		for i < len(text) {
			c := text[i]
			if strings.IndexByte(",[]{}", c) >= 0 {
				break // the caller wants its own comma or closing bracket here
			}
			if c == ':' && key {
				break
			}
			if c == ':' || c == '#' || c == '&' || c == '*' || c == '!' {
				return nil, false
			}
			i++
		}
		s := trimSpacesRight(text[start:i])
		if s == "" || !plainOK(s) || strings.ContainsAny(s[:1], "-?") || (key && len(s) > 512) {
			return nil, false
		}
		v := p.node(yaml.Node{Kind: yaml.ScalarNode, Value: s, Line: line, Column: col + start, Tag: plainTag(s)})
		return v, true
	}
	skip()
	if i < len(text) && text[i] == closing {
		return n, text[i+1:], true
	}
	for {
		if n.Kind == yaml.MappingNode {
			k, ok := item(":,}")
			if !ok || k.Kind != yaml.ScalarNode || seen[k.Value] || k.Tag == "!!null" {
				return nil, "", false
			}
			seen[k.Value] = true
			skip()
			if i+1 >= len(text) || text[i] != ':' || text[i+1] != ' ' {
				return nil, "", false
			}
			i++
			v, ok := item(",}")
			if !ok {
				return nil, "", false
			}
			n.Content = append(n.Content, k, v)
		} else {
			v, ok := item(",]")
			if !ok {
				return nil, "", false
			}
			n.Content = append(n.Content, v)
		}
		skip()
		if i >= len(text) {
			return nil, "", false
		}
		switch text[i] {
		case ',':
			i++
			skip()
			if i < len(text) && text[i] == closing {
				return nil, "", false // a trailing comma
			}
		case closing:
			return n, text[i+1:], true
		default:
			return nil, "", false
		}
	}
}

// blockScalar reads a literal ("|", "|-") or folded (">", ">-") block
// scalar, a comment may follow, whose lines are indented deeper than
// indent. A folded scalar must have all its lines at one indent and no
// leading blank line (the other cases fold in ways of their own).
func (p *fastParser) blockScalar(text string, line, col, indent int) (*yaml.Node, bool) {
	folded := text[0] == '>'
	header := text[1:]
	strip := strings.HasPrefix(header, "-")
	if strip {
		header = header[1:]
	}
	if header != "" && (header[0] != ' ' || !comment(header)) {
		return nil, false // "|+", an indentation indicator, ...: yaml.v3's to read
	}
	p.pos++
	// The content's indent is that of its first line with text; lines of
	// spaces only must not be longer (yaml.v3 reads those in ways of its
	// own).
	contentIndent := -1
	for j := p.pos; j < len(p.lines); j++ {
		if t := p.lines[j].text; trimSpaces(t) != "" {
			contentIndent = indentOf(t)
			break
		}
	}
	if contentIndent <= indent {
		return nil, false // an empty block scalar: yaml.v3's to read
	}
	var lines []string
	j := p.pos
	for ; j < len(p.lines); j++ {
		t := p.lines[j].text
		if trimSpaces(t) == "" {
			if len(t) > contentIndent {
				return nil, false
			}
			lines = append(lines, "")
			continue
		}
		if in := indentOf(t); in < contentIndent {
			break
		} else if folded && in > contentIndent {
			return nil, false
		}
		lines = append(lines, t[contentIndent:])
	}
	if folded && len(lines) > 0 && lines[0] == "" {
		return nil, false
	}
	p.pos = j
	last := j - 1 // the scalar's last line with text
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1] // trailing blank lines are chomped
		last--
	}
	style, body := yaml.LiteralStyle, strings.Join(lines, "\n")
	if folded {
		style, body = yaml.FoldedStyle, fold(lines)
	}
	if !strip && (last < len(p.lines)-1 || !p.noFinalNewline) {
		body += "\n" // clipped to the one line break there is
	}
	return p.node(yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Style: style, Value: body, Line: line, Column: col}), true
}

// fold joins the lines of a folded scalar: a line break between two lines
// becomes a space, and each blank line between them a line break.
func fold(lines []string) string {
	var b strings.Builder
	blanks := 0
	for i, l := range lines {
		if l == "" {
			blanks++
			continue
		}
		if i > 0 {
			if blanks == 0 {
				b.WriteByte(' ')
			} else {
				b.WriteString(strings.Repeat("\n", blanks))
			}
		}
		b.WriteString(l)
		blanks = 0
	}
	return b.String()
}
