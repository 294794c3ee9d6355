package policy

import (
	"bytes"
	"math/rand/v2"
	"reflect"
	"testing"
)

// samePlan compares two plans field by field, a nil slice equal to an empty
// one (the compact form does not tell them apart, and nothing reads the
// difference); it returns the path of the first difference.
func samePlan(a, b reflect.Value, path string) string {
	if a.Kind() != b.Kind() {
		return path
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				return path
			}
			return ""
		}
		if a.Elem().Type() != b.Elem().Type() {
			return path
		}
		return samePlan(a.Elem(), b.Elem(), path)
	case reflect.Slice:
		if a.Len() != b.Len() {
			return path
		}
		for i := 0; i < a.Len(); i++ {
			if d := samePlan(a.Index(i), b.Index(i), path+"[]"); d != "" {
				return d
			}
		}
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			if f := a.Type().Field(i); f.IsExported() {
				if d := samePlan(a.Field(i), b.Field(i), path+"."+f.Name); d != "" {
					return d
				}
			}
		}
	default:
		if a.Interface() != b.Interface() {
			return path
		}
	}
	return ""
}

// TestPlanCodecRoundTrips: the compact form of the built-in bundle's plan
// reads back as the same plan, and writes again as the same bytes.
func TestPlanCodecRoundTrips(t *testing.T) {
	e, err := NewCompiled(t.Context(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := e.planned(t.Context())
	if p.err != nil {
		t.Fatal(p.err)
	}
	plan := snapshotPlan{Strings: p.policy.Static.Strings, Files: p.policy.Static.Files, Funcs: p.policy.Funcs, Builtins: []string{"sprintf", "count"}}
	enc, err := encodeIR(nil, &plan)
	if err != nil {
		t.Fatal(err)
	}
	var back snapshotPlan
	if err := decodeIR(enc, &back); err != nil {
		t.Fatal(err)
	}
	if d := samePlan(reflect.ValueOf(plan), reflect.ValueOf(back), "plan"); d != "" {
		t.Fatalf("the plan read back differs at %s", d)
	}
	again, err := encodeIR(nil, &back)
	if err != nil || !bytes.Equal(again, enc) {
		t.Fatalf("written again: %d bytes, first %d (%v)", len(again), len(enc), err)
	}
	if len(p.policy.Funcs.Funcs) < 100 {
		t.Fatalf("only %d functions", len(p.policy.Funcs.Funcs))
	}
}

// TestPlanCodecRejectsDamage: a cut or altered plan is an error or a plan,
// never a panic.
func TestPlanCodecRejectsDamage(t *testing.T) {
	e, err := NewCompiled(t.Context(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := e.planned(t.Context())
	plan := snapshotPlan{Strings: p.policy.Static.Strings[:20], Funcs: p.policy.Funcs}
	plan.Funcs.Funcs = plan.Funcs.Funcs[:5]
	enc, err := encodeIR(nil, &plan)
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(enc); n += max(1, len(enc)/500) {
		var back snapshotPlan
		if err := decodeIR(enc[:n], &back); err == nil {
			t.Fatalf("a plan cut to %d of %d bytes reads without an error", n, len(enc))
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		bad := bytes.Clone(enc)
		bad[r.IntN(len(bad))] = byte(r.IntN(256))
		var back snapshotPlan
		_ = decodeIR(bad, &back) // must return
	}
}
