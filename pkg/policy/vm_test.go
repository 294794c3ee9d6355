package policy_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/meshguard/meshguard/internal/testutil"
	"github.com/meshguard/meshguard/pkg/inventory"
	"github.com/meshguard/meshguard/pkg/manifest"
	"github.com/meshguard/meshguard/pkg/policy"
)

// objectsIn decodes every object under the directories.
func objectsIn(t testing.TB, dirs ...string) []map[string]any {
	t.Helper()
	files, _ := manifest.Expand(dirs)
	var objs []map[string]any
	for _, f := range files {
		if strings.HasSuffix(f, "expected.yaml") {
			continue
		}
		for _, d := range manifest.ReadFile(f, nil).Docs {
			objs = append(objs, d.Object)
		}
	}
	return objs
}

// TestVMMatchesTopdown holds the engine's evaluator to OPA's topdown: every
// object of the corpus, the rule fixtures and the examples, with them as
// inventory, gets the same findings and mutations from both, as a file
// (check, audit) and inside an AdmissionReview on CREATE, UPDATE and DELETE
// (the webhook).
func TestVMMatchesTopdown(t *testing.T) {
	t.Setenv(policy.EvaluatorEnv, "") // else both engines could be topdown
	ctx := t.Context()
	objs := objectsIn(t, testutil.Corpus(t), filepath.Join(testutil.RepoRoot(t), "test", "policies"), filepath.Join(testutil.RepoRoot(t), "examples"))
	engines := map[string]*policy.Engine{}
	for name, opts := range map[string]policy.Options{"vm": {}, "topdown": {Topdown: true}} {
		e, err := policy.New(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		inv := inventory.New()
		for _, o := range objs {
			inv.Add(o)
		}
		if err := e.SetInventory(ctx, inv.Document()); err != nil {
			t.Fatal(err)
		}
		engines[name] = e
	}
	judged, mismatches := 0, 0
	for _, o := range objs {
		ref := policy.RefOf(o)
		if !engines["vm"].Covers(ref.GroupKind()) {
			continue
		}
		judged++
		got, gotErr := engines["vm"].Evaluate(ctx, o)
		want, wantErr := engines["topdown"].Evaluate(ctx, o)
		gm, gmErr := engines["vm"].Mutations(ctx, o)
		wm, wmErr := engines["topdown"].Mutations(ctx, o)
		g := []any{got, errString(gotErr), gm, errString(gmErr)}
		w := []any{want, errString(wantErr), wm, errString(wmErr)}
		// The webhook's input: an AdmissionReview, on every operation.
		for _, op := range []string{policy.OpCreate, policy.OpUpdate, policy.OpDelete} {
			in := review(t, o, op)
			got, gotErr := engines["vm"].EvaluateInput(ctx, ref, op, in)
			want, wantErr := engines["topdown"].EvaluateInput(ctx, ref, op, in)
			g, w = append(g, got, errString(gotErr)), append(w, want, errString(wantErr))
		}
		gj, _ := json.Marshal(g)
		wj, _ := json.Marshal(w)
		if string(gj) != string(wj) {
			mismatches++
			if mismatches <= 10 {
				t.Errorf("%s:\n vm:      %s\n topdown: %s", ref, gj, wj)
			}
		}
	}
	if mismatches > 0 {
		t.Errorf("%d of %d objects judged differently", mismatches, judged)
	}
	if judged < 1000 {
		t.Errorf("only %d objects judged", judged)
	}
}

// review is the AdmissionReview the webhook builds around an object (on
// UPDATE, the object is its own old object).
func review(t *testing.T, obj map[string]any, op string) ast.Value {
	t.Helper()
	ref := policy.RefOf(obj)
	gk := ref.GroupKind()
	rq := map[string]any{
		"uid": "u", "operation": op, "namespace": ref.Namespace, "name": ref.Name,
		"kind":     map[string]any{"group": gk.Group, "kind": gk.Kind},
		"userInfo": map[string]any{"username": "parity", "groups": []any{"system:authenticated"}},
	}
	switch op {
	case policy.OpDelete:
		rq["oldObject"] = obj
	case policy.OpUpdate:
		rq["object"], rq["oldObject"] = obj, obj
	default:
		rq["object"] = obj
	}
	v, err := ast.InterfaceToValue(map[string]any{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": rq})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestVMConcurrentFirstUse: goroutines that meet every kind at once (the
// bundle planned on first use, each kind's functions resolved on its first
// object, states pooled, frozen constants copied where changed) get
// topdown's findings. Run with -race.
func TestVMConcurrentFirstUse(t *testing.T) {
	t.Setenv(policy.EvaluatorEnv, "")
	ctx := t.Context()
	byKind := map[policy.GroupKind]map[string]any{}
	for _, o := range objectsIn(t, filepath.Join(testutil.RepoRoot(t), "test", "policies")) {
		if gk := policy.RefOf(o).GroupKind(); byKind[gk] == nil {
			byKind[gk] = o
		}
	}
	vm, err := policy.New(ctx, policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	td, err := policy.New(ctx, policy.Options{Topdown: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[policy.GroupKind]string{}
	for gk, o := range byKind {
		fs, err := td.Evaluate(ctx, o)
		j, _ := json.Marshal([]any{fs, errString(err)})
		want[gk] = string(j)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range 4 {
		wg.Go(func() {
			for gk, o := range byKind {
				fs, err := vm.Evaluate(ctx, o)
				j, _ := json.Marshal([]any{fs, errString(err)})
				if string(j) != want[gk] {
					mu.Lock()
					t.Errorf("%s:\n vm:      %s\n topdown: %s", gk, j, want[gk])
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if len(byKind) < 30 {
		t.Errorf("only %d kinds", len(byKind))
	}
}
