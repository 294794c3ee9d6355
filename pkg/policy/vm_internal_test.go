package policy

import (
	"strings"
	"testing"
)

// TestEveryQueryPlans: OPA plans every query of the built-in bundle, so no
// kind falls back to topdown.
func TestEveryQueryPlans(t *testing.T) {
	t.Setenv(EvaluatorEnv, "")
	e, err := New(t.Context(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	check := func(name string, kq *kindQuery) {
		n++
		if kq.program(t.Context()) == nil {
			t.Errorf("%s: no plan: %v", name, kq.planErr)
		}
	}
	for k, kq := range e.byKind {
		check(k.GroupKind.String()+" "+k.op, kq)
	}
	for gk, kq := range e.mutations {
		check(gk.String()+" mutations", kq)
	}
	if n < 40 {
		t.Errorf("only %d queries", n)
	}
	td, err := New(t.Context(), Options{Topdown: true})
	if err != nil {
		t.Fatal(err)
	}
	for k, kq := range td.byKind {
		if kq.program(t.Context()) != nil {
			t.Errorf("%v: planned with Options.Topdown", k)
		}
	}
}

// TestEvaluatorEnv: MESHGUARD_EVALUATOR picks topdown, and a value it does
// not know is an error that names it.
func TestEvaluatorEnv(t *testing.T) {
	t.Setenv(EvaluatorEnv, "topdown")
	e, err := New(t.Context(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for k, kq := range e.byKind {
		if kq.program(t.Context()) != nil {
			t.Fatalf("%v: planned with %s=topdown", k, EvaluatorEnv)
		}
	}
	t.Setenv(EvaluatorEnv, "fast")
	if _, err := New(t.Context(), Options{}); err == nil || !strings.Contains(err.Error(), `MESHGUARD_EVALUATOR="fast"`) {
		t.Fatalf("want an error naming the variable, got %v", err)
	}
}
