// Package fix applies the rules' mutations to manifest files offline
// (`meshguard check --fix`), editing the YAML tree so that comments, key
// order and untouched values stay as they were. Which defaults to add is
// decided by pkg/mutate, exactly as the mutating webhook decides it; this
// package only writes the values it added into the YAML nodes.
package fix

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/meshguard/meshguard/pkg/manifest"
	"github.com/meshguard/meshguard/pkg/mutate"
	"github.com/meshguard/meshguard/pkg/policy"
)

// Change is what was added to one object.
type Change struct {
	Object policy.ObjectRef `json:"object"`
	Line   int              `json:"line"`
	Rules  []string         `json:"rules"`
	Paths  []string         `json:"paths"`
}

// File returns data with the missing defaults added to every object (items
// of a `kind: List` included), and what changed. The engine's inventory must
// already hold the other inputs (check.Run sets it). Documents that are not
// objects are kept as they are.
func File(ctx context.Context, e *policy.Engine, name string, data []byte) ([]byte, []Change, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	var changes []Change
	for {
		root := &yaml.Node{}
		err := dec.Decode(root)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		docs = append(docs, root)
		if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
			continue
		}
		n := root.Content[0]
		c, err := node(ctx, e, n)
		if err != nil {
			return nil, nil, fmt.Errorf("%s:%d: %w", name, n.Line, err)
		}
		changes = append(changes, c...)
	}
	if len(changes) == 0 {
		return data, nil, nil
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	for _, d := range docs {
		if err := enc.Encode(d); err != nil {
			return nil, nil, fmt.Errorf("%s: writing: %w", name, err)
		}
	}
	if err := enc.Close(); err != nil {
		return nil, nil, err
	}
	return buf.Bytes(), changes, nil
}

// node fixes one object node, or each item of a List.
func node(ctx context.Context, e *policy.Engine, n *yaml.Node) ([]Change, error) {
	v, err := manifest.NodeToValue(n)
	if err != nil {
		return nil, err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, nil
	}
	if kind, _ := obj["kind"].(string); kind == "List" || (len(kind) > 4 && kind[len(kind)-4:] == "List") {
		items := mapValue(n, "items")
		if items == nil || items.Kind != yaml.SequenceNode {
			return nil, nil
		}
		var out []Change
		for _, it := range items.Content {
			if it.Kind == yaml.MappingNode {
				c, err := node(ctx, e, it)
				if err != nil {
					return nil, err
				}
				out = append(out, c...)
			}
		}
		return out, nil
	}
	ms, err := e.Mutations(ctx, obj)
	if err != nil || len(ms) == 0 {
		return nil, err
	}
	fixed, applied, err := mutate.Apply(obj, ms)
	if err != nil || len(applied) == 0 {
		return nil, err
	}
	c := Change{Object: policy.RefOf(obj), Line: n.Line, Rules: applied}
	for _, m := range ms {
		if _, had := lookup(obj, m.Path); had {
			continue
		}
		added, ok := lookup(fixed, m.Path)
		if !ok {
			continue
		}
		if err := set(n, m.Path, added, false); err != nil {
			return nil, fmt.Errorf("writing %s: %w", policy.FormatPath(m.Path), err)
		}
		c.Paths = append(c.Paths, policy.FormatPath(m.Path))
	}
	mark := []any{"metadata", "annotations", mutate.AnnotationMutated}
	if v, ok := lookup(fixed, mark); ok {
		if err := set(n, mark, v, true); err != nil {
			return nil, err
		}
	}
	return []Change{c}, nil
}

// lookup reads the value at path; ok is false when it is absent or null.
func lookup(obj map[string]any, path []any) (any, bool) {
	var cur any = obj
	for _, p := range path {
		switch c := cur.(type) {
		case map[string]any:
			k, _ := p.(string)
			cur = c[k]
		case []any:
			i, ok := p.(int)
			if !ok || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
		if cur == nil {
			return nil, false
		}
	}
	return cur, true
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// set writes v at path in the node tree, creating maps on the way; an
// existing value is replaced only when overwrite is true or it is null.
func set(n *yaml.Node, path []any, v any, overwrite bool) error {
	cur := n
	for i, p := range path {
		last := i == len(path)-1
		switch cur.Kind {
		case yaml.MappingNode:
			k, ok := p.(string)
			if !ok {
				return fmt.Errorf("%s is a map, not a list", policy.FormatPath(path[:i]))
			}
			next := mapValue(cur, k)
			created := next == nil
			if created {
				key := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}
				next = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
				cur.Content = append(cur.Content, key, next)
			}
			if last {
				if !created && !overwrite && !isNull(next) {
					return nil
				}
				return encodeInto(next, v)
			}
			if isNull(next) {
				*next = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: next.Line}
			}
			cur = next
		case yaml.SequenceNode:
			idx, ok := p.(int)
			if !ok || idx < 0 || idx >= len(cur.Content) {
				return fmt.Errorf("%s has no element %v", policy.FormatPath(path[:i]), p)
			}
			next := cur.Content[idx]
			if last {
				if !overwrite && !isNull(next) {
					return nil
				}
				return encodeInto(next, v)
			}
			cur = next
		default:
			return fmt.Errorf("%s is a scalar", policy.FormatPath(path[:i]))
		}
	}
	return nil
}

// encodeInto replaces n's content with v, keeping n's comments. Strings that
// look like numbers or booleans are quoted, as YAML needs them to be.
func encodeInto(n *yaml.Node, v any) error {
	var fresh yaml.Node
	if err := fresh.Encode(v); err != nil {
		return err
	}
	if s, ok := v.(string); ok && fresh.Style == 0 {
		if _, err := strconv.ParseFloat(s, 64); err == nil {
			fresh.Style = yaml.DoubleQuotedStyle
		}
	}
	head, line, foot := n.HeadComment, n.LineComment, n.FootComment
	*n = fresh
	n.HeadComment, n.LineComment, n.FootComment = head, line, foot
	return nil
}
