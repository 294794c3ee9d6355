// Package mutate applies the defaults that rules say an object lacks (their
// `mutate` decisions, see pkg/policy.Mutation) to a copy of the object, add
// if absent only. The webhook diffs the copy against the request with
// admission.PatchResponseFromRaw (never a hand-built JSON patch), and the
// planned `meshguard check --fix` is to write it back to the manifest.
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
func Object(ctx context.Context, e *policy.Engine, obj map[string]any) (out map[string]any, applied []string, err error) {
	ms, err := e.Mutations(ctx, obj)
	if err != nil {
		return nil, nil, err
	}
	return Apply(obj, ms)
}

// Apply returns a deep copy of obj with every mutation applied where nothing
// is set yet (a missing key, or a null value or list element), creating the
// maps on the way; an existing value is never overwritten. applied lists,
// sorted and once each, the rules that changed something; they are merged
// into the object's AnnotationMutated annotation, so a second Apply of the
// same mutations changes nothing. obj itself is never modified, and out
// shares nothing with obj or the mutation values.
//
// A path through a value that is neither a map nor a list, a key into a
// list, an index into a map or out of range is an error naming the rule and
// the path (and so is metadata or its annotations not being maps, when the
// annotation has to be written).
func Apply(obj map[string]any, ms []policy.Mutation) (out map[string]any, applied []string, err error) {
	out, _ = deepCopy(obj).(map[string]any)
	if out == nil {
		out = map[string]any{}
	}
	for _, m := range ms {
		if len(m.Path) == 0 {
			return nil, nil, fmt.Errorf("applying %s's default: the path is empty", m.Rule)
		}
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
	if err := record(out, applied); err != nil {
		return nil, nil, fmt.Errorf("recording %s in the %s annotation: %w", strings.Join(applied, ","), AnnotationMutated, err)
	}
	return out, applied, nil
}

// record merges the ids into the AnnotationMutated annotation, creating
// metadata and annotations when absent (never replacing a value that is not
// a map, nor an annotation that is not a string).
func record(obj map[string]any, ids []string) error {
	md, err := child(obj, "metadata")
	if err != nil {
		return err
	}
	ann, err := child(md, "annotations")
	if err != nil {
		return fmt.Errorf("metadata.%w", err) // "metadata.annotations is a ..."
	}
	all := slices.Clone(ids)
	switch prev := ann[AnnotationMutated].(type) {
	case nil:
	case string:
		for _, id := range strings.Split(prev, ",") {
			if id = strings.TrimSpace(id); id != "" && !slices.Contains(all, id) {
				all = append(all, id)
			}
		}
	default:
		return fmt.Errorf("its value is a %T, not a string", prev)
	}
	sort.Strings(all)
	ann[AnnotationMutated] = strings.Join(all, ",")
	return nil
}

// child returns the map under key, creating it when absent or null.
func child(m map[string]any, key string) (map[string]any, error) {
	switch c := m[key].(type) {
	case nil:
		c2 := map[string]any{}
		m[key] = c2
		return c2, nil
	case map[string]any:
		return c, nil
	default:
		return nil, fmt.Errorf("%s is a %T, not a map", key, c)
	}
}

// set puts v at path (not empty) unless something is there; it reports
// whether it did.
func set(root map[string]any, path []any, v any) (bool, error) {
	var cur any = root
	for i, p := range path {
		last := i == len(path)-1
		switch c := cur.(type) {
		case map[string]any:
			k, ok := p.(string)
			if !ok {
				return false, fmt.Errorf("%s is a map, but the path gives index %v", where(path[:i]), p)
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
			if !ok {
				return false, fmt.Errorf("%s is a list, but the path gives key %q", where(path[:i]), p)
			}
			if idx < 0 || idx >= len(c) {
				return false, fmt.Errorf("%s has no element %d (it has %d)", where(path[:i]), idx, len(c))
			}
			if last {
				if c[idx] != nil {
					return false, nil
				}
				c[idx] = deepCopy(v)
				return true, nil
			}
			if c[idx] == nil {
				c[idx] = map[string]any{}
			}
			cur = c[idx]
		default:
			return false, fmt.Errorf("%s is a %T, not a map or a list", where(path[:i]), cur)
		}
	}
	return false, nil
}

// where names a path prefix in errors.
func where(path []any) string {
	if len(path) == 0 {
		return "the object"
	}
	return policy.FormatPath(path)
}

// deepCopy copies the maps and lists of decoded JSON (map[string]any and
// []any); everything else is a scalar and shared.
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
