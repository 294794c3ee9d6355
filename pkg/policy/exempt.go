package policy

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage"
)

// The exemption annotations (RULES.md project decision 3), on an object or
// on its Namespace.
const (
	AnnotationExempt       = "meshguard.io/exempt"        // rule ids, comma-separated, or "*"
	AnnotationExemptReason = "meshguard.io/exempt-reason" // required
	AnnotationExemptUntil  = "meshguard.io/exempt-until"  // required, YYYY-MM-DD, inclusive
)

// Exemption says why a finding does not act: it is reported with action
// "exempted" and this record.
type Exemption struct {
	Reason string `json:"reason"`
	Until  string `json:"until"`
	// From is where the annotations are: "object" or "namespace <name>".
	From string `json:"from"`
}

// exemptionRequest is the set of exemption annotations of one place.
type exemptionRequest struct {
	rules         []string // ids, or "*"
	reason, until string
	from          string
}

// parseExemption reads the annotations; ok is false when there is no
// meshguard.io/exempt annotation at all.
func parseExemption(ann map[string]string, from string) (exemptionRequest, bool) {
	list, ok := ann[AnnotationExempt]
	if !ok {
		return exemptionRequest{}, false
	}
	r := exemptionRequest{reason: strings.TrimSpace(ann[AnnotationExemptReason]), until: strings.TrimSpace(ann[AnnotationExemptUntil]), from: from}
	for _, id := range strings.Split(list, ",") {
		if id = strings.TrimSpace(id); id != "" {
			r.rules = append(r.rules, id)
		}
	}
	return r, true
}

// ParseExemption reads the exemption annotations of one object for rule id
// at the given day. It returns the exemption when it applies, or, when the
// annotations name the rule but the exemption does not apply, why not. Both
// are zero when the annotations do not name the rule.
func ParseExemption(ann map[string]string, from, id string, today time.Time) (*Exemption, string) {
	r, ok := parseExemption(ann, from)
	if !ok {
		return nil, ""
	}
	return r.check(id, today)
}

func (r exemptionRequest) check(id string, today time.Time) (*Exemption, string) {
	if !slices.Contains(r.rules, id) && !slices.Contains(r.rules, "*") {
		return nil, ""
	}
	if r.reason == "" {
		return nil, fmt.Sprintf("the exemption on the %s does not apply: %s is missing", r.from, AnnotationExemptReason)
	}
	if r.until == "" {
		return nil, fmt.Sprintf("the exemption on the %s does not apply: %s is missing", r.from, AnnotationExemptUntil)
	}
	until, err := time.Parse(time.DateOnly, r.until)
	if err != nil {
		return nil, fmt.Sprintf("the exemption on the %s does not apply: %s %q is not a date (YYYY-MM-DD)", r.from, AnnotationExemptUntil, r.until)
	}
	day := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)
	if day.After(until) {
		return nil, fmt.Sprintf("the exemption on the %s does not apply: it expired on %s", r.from, r.until)
	}
	return &Exemption{Reason: r.reason, Until: r.until, From: r.from}, ""
}

// exempt applies the exemptions of the object and of its Namespace to the
// findings: an exempted finding gets action "exempted" and the exemption;
// a finding named by an exemption that does not apply (no reason, no or a
// bad date, expired) keeps its action and says why in its message. Rules
// the config makes non-exemptable are never exempted.
func (e *Engine) exempt(ctx context.Context, input ast.Value, ref ObjectRef, findings []Finding) {
	if len(findings) == 0 {
		return
	}
	var places []exemptionRequest
	if r, ok := parseExemption(annotationsOf(objectOf(input)), "object"); ok {
		places = append(places, r)
	}
	if ref.Namespace != "" {
		if r, ok := parseExemption(e.namespaceAnnotations(ctx, ref.Namespace), "namespace "+ref.Namespace); ok {
			places = append(places, r)
		}
	}
	if len(places) == 0 {
		return
	}
	today := e.now().UTC()
	for i := range findings {
		f := &findings[i]
		var notes []string
		for _, p := range places {
			ex, why := p.check(f.Rule, today)
			if ex != nil && e.nonExemptable[f.Rule] {
				ex, why = nil, fmt.Sprintf("the exemption on the %s does not apply: the config makes %s non-exemptable", p.from, f.Rule)
			}
			if ex != nil {
				f.Action, f.Exemption, notes = ActionExempted, ex, nil
				break
			}
			if why != "" {
				notes = append(notes, why)
			}
		}
		if len(notes) > 0 {
			f.Message += " (" + strings.Join(notes, "; ") + ")"
		}
	}
}

func (e *Engine) now() time.Time {
	if e.clock != nil {
		return e.clock()
	}
	return time.Now()
}

// namespaceAnnotations reads a Namespace's annotations from the inventory.
func (e *Engine) namespaceAnnotations(ctx context.Context, ns string) map[string]string {
	v, err := storage.ReadOne(ctx, e.store, storage.Path{"inventory", "namespaces", ns, "metadata", "annotations"})
	if err != nil {
		return nil
	}
	switch a := v.(type) {
	case ast.Object:
		return stringMap(a)
	case map[string]any:
		out := map[string]string{}
		for k, x := range a {
			if s, ok := x.(string); ok {
				out[k] = s
			}
		}
		return out
	}
	return nil
}

// objectOf is the object under judgement in an input: the input itself, or
// the object (oldObject on DELETE) of an AdmissionReview.
func objectOf(input ast.Value) ast.Object {
	obj, ok := input.(ast.Object)
	if !ok {
		return nil
	}
	if k := obj.Get(refKeys.kind); k != nil && k.Value.Compare(ast.String("AdmissionReview")) == 0 {
		req, ok := get(obj, refKeys.request).(ast.Object)
		if !ok {
			return nil
		}
		if o, ok := get(req, refKeys.object).(ast.Object); ok {
			if op, _ := get(req, refKeys.operation).(ast.String); op != ast.String(OpDelete) {
				return o
			}
		}
		o, _ := get(req, refKeys.oldObject).(ast.Object)
		return o
	}
	return obj
}

func get(o ast.Object, key *ast.Term) ast.Value {
	if o == nil {
		return nil
	}
	t := o.Get(key)
	if t == nil {
		return nil
	}
	return t.Value
}

func annotationsOf(obj ast.Object) map[string]string {
	md, _ := get(obj, refKeys.metadata).(ast.Object)
	a, _ := get(md, refKeys.annotations).(ast.Object)
	return stringMap(a)
}

func stringMap(o ast.Object) map[string]string {
	if o == nil {
		return nil
	}
	out := map[string]string{}
	o.Foreach(func(k, v *ast.Term) {
		ks, ok1 := k.Value.(ast.String)
		vs, ok2 := v.Value.(ast.String)
		if ok1 && ok2 {
			out[string(ks)] = string(vs)
		}
	})
	return out
}
