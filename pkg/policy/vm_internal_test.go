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
		if prog, _ := kq.program(t.Context()); prog == nil {
			t.Errorf("%s: no plan: %v", name, e.plan.err)
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
		if prog, _ := kq.program(t.Context()); prog != nil {
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
		if prog, _ := kq.program(t.Context()); prog != nil {
			t.Fatalf("%v: planned with %s=topdown", k, EvaluatorEnv)
		}
	}
	t.Setenv(EvaluatorEnv, "fast")
	if _, err := New(t.Context(), Options{}); err == nil || !strings.Contains(err.Error(), `MESHGUARD_EVALUATOR="fast"`) {
		t.Fatalf("want an error naming the variable, got %v", err)
	}
}

// TestPlanFailureFallsBackToTopdown: when the bundle does not plan (here a
// decision no rule computes, so the plan has no function for it), every
// kind is judged by topdown, with the same findings.
func TestPlanFailureFallsBackToTopdown(t *testing.T) {
	t.Setenv(EvaluatorEnv, "")
	ctx := t.Context()
	e, err := NewCompiled(ctx, Options{}) // an engine from a snapshot is planned already
	if err != nil {
		t.Fatal(err)
	}
	e.plan.refs = append(e.plan.refs, "data.meshguard.nowhere.deny")
	pa := map[string]any{"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
		"metadata": map[string]any{"name": "p", "namespace": "shop"}, "spec": map[string]any{"mtls": map[string]any{"mode": "PERMISSIVE"}}}
	fs, err := e.Evaluate(ctx, pa)
	if err != nil {
		t.Fatal(err)
	}
	if e.plan.err == nil || !strings.Contains(e.plan.err.Error(), "data.meshguard.nowhere.deny") {
		t.Fatalf("want a plan error naming the decision, got %v", e.plan.err)
	}
	for k, kq := range e.byKind {
		if prog, _ := kq.program(ctx); prog != nil {
			t.Fatalf("%v: planned although the bundle's plan failed", k)
		}
	}
	if len(fs) == 0 || fs[0].Rule != "ISTIO-MTLS-001" {
		t.Fatalf("topdown's findings: %+v", fs)
	}
}
