// Package mutate applies the defaults that rules say an object lacks (their
// `mutate` decisions, see pkg/policy.Mutation) to a copy of the object, add
// if absent only. The webhook diffs the copy against the request with
// admission.PatchResponseFromRaw; `check --fix` writes it back.
package mutate

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/meshguard/meshguard/pkg/policy"
)

// AnnotationMutated lists, comma-separated, the rules that changed an object.
const AnnotationMutated = "meshguard.io/mutated"

// Object asks the engine for the object's missing defaults and applies them
// (see Apply).
func Object(ctx context.Context, e *policy.Engine, obj map[string]any) (map[string]any, []string, error) {
	ms, err := e.Mutations(ctx, obj)
	if err != nil {
		return nil, nil, err
	}
	return Apply(obj, ms)
}

// Apply returns a deep copy of obj with every mutation applied where nothing
// is set yet (a missing key or a null value), creating the maps on the way;
// an existing value is never overwritten. applied lists, sorted, the rules
// that changed something; they are added to the AnnotationMutated annotation.
// obj itself is never modified. A path through a value that is not a map, or
// an index out of range, is an error naming the rule and the path.
func Apply(obj map[string]any, ms []policy.Mutation) (out map[string]any, applied []string, err error) {
	out, _ = deepCopy(obj).(map[string]any)
	if out == nil {
		out = map[string]any{}
	}
	for _, m := range ms {
		changed, err := set(out, m.Path, m.Value)
		if err != nil {
			return nil, nil, fmt.Errorf("applying %s's default at %s: %w", m.Rule, policy.FormatPath(m.Path), err)
		}
		if changed && !slices.Contains(applied, m.Rule) {
			applied = append(applied, m.Rule)
		}
	}
	if len(applied) == 0 {
		return out, nil, nil
	}
	sort.Strings(applied)
	md, _ := out["metadata"].(map[string]any)
	if md == nil {
		md = map[string]any{}
		out["metadata"] = md
	}
	ann, _ := md["annotations"].(map[string]any)
	if ann == nil {
		ann = map[string]any{}
		md["annotations"] = ann
	}
	ids := slices.Clone(applied)
	if prev, ok := ann[AnnotationMutated].(string); ok {
		for _, id := range strings.Split(prev, ",") {
			if id = strings.TrimSpace(id); id != "" && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	sort.Strings(ids)
	ann[AnnotationMutated] = strings.Join(ids, ",")
	return out, applied, nil
}

// set puts v at path unless something is there; it reports whether it did.
func set(root map[string]any, path []any, v any) (bool, error) {
	if len(path) == 0 {
		return false, fmt.Errorf("empty path")
	}
	var cur any = root
	for i, p := range path {
		last := i == len(path)-1
		switch c := cur.(type) {
		case map[string]any:
			k, ok := p.(string)
			if !ok {
				return false, fmt.Errorf("%s is a map, but the path gives index %v", policy.FormatPath(path[:i]), p)
			}
			if last {
				if c[k] != nil {
					return false, nil
				}
				c[k] = deepCopy(v)
				return true, nil
			}
			if c[k] == nil {
				c[k] = map[string]any{}
			}
			cur = c[k]
		case []any:
			idx, ok := p.(int)
			if !ok || idx < 0 || idx >= len(c) {
				return false, fmt.Errorf("%s has no element %v", policy.FormatPath(path[:i]), p)
			}
			if last {
				if c[idx] != nil {
					return false, nil
				}
				c[idx] = deepCopy(v)
				return true, nil
			}
			cur = c[idx]
		default:
			return false, fmt.Errorf("%s is a %T, not a map or a list", policy.FormatPath(path[:i]), cur)
		}
	}
	return false, nil
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = deepCopy(e)
		}
		return s
	default:
		return v
	}
}
