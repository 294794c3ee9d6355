package policy_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshguard/meshguard/internal/testutil"
	"github.com/meshguard/meshguard/pkg/inventory"
	"github.com/meshguard/meshguard/pkg/manifest"
	"github.com/meshguard/meshguard/pkg/policy"
)

// objectsIn decodes every object under the directories.
func objectsIn(t *testing.T, dirs ...string) []map[string]any {
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
// object of the corpus and of the rule fixtures, with them as inventory, gets
// the same findings and the same mutations from both.
func TestVMMatchesTopdown(t *testing.T) {
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
		g, _ := json.Marshal([]any{got, errString(gotErr), gm, errString(gmErr)})
		w, _ := json.Marshal([]any{want, errString(wantErr), wm, errString(wmErr)})
		if string(g) != string(w) {
			mismatches++
			if mismatches <= 10 {
				t.Errorf("%s:\n vm:      %s\n topdown: %s", ref, g, w)
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

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
