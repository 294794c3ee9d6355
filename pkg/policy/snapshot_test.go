package policy_test

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"path/filepath"
	"reflect"
	"testing"
	"testing/fstest"

	"github.com/meshguard/meshguard/internal/testutil"
	"github.com/meshguard/meshguard/pkg/inventory"
	"github.com/meshguard/meshguard/pkg/policy"
	"github.com/meshguard/meshguard/policies"
)

// TestSnapshotEngineMatchesCompiled: an engine loaded from the bundle's
// snapshot has the rules, generators, parameters, inventory kinds and plan
// of one that compiles the bundle, and gives the same findings, mutations
// and generated objects for every object of the corpus, the fixtures and
// the examples (the corpus as inventory), without compiling, until the
// generators need the compiler.
func TestSnapshotEngineMatchesCompiled(t *testing.T) {
	t.Setenv(policy.EvaluatorEnv, "")
	ctx := t.Context()
	var snap bytes.Buffer
	if err := policy.WriteSnapshot(ctx, &snap); err != nil {
		t.Fatal(err)
	}
	fast, err := policy.NewFromSnapshot(ctx, snap.Bytes(), policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	slow, err := policy.NewCompiled(ctx, policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if fast.Compiled() || !slow.Compiled() {
		t.Fatalf("compiled: snapshot engine %v, compiling engine %v", fast.Compiled(), slow.Compiled())
	}
	same := func(what string, a, b any) {
		t.Helper()
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("%s: from the snapshot %v, compiled %v", what, a, b)
		}
	}
	same("rules", fast.Rules(), slow.Rules())
	same("generators", fast.Generators(), slow.Generators())
	same("parameters", fast.Params(), slow.Params())
	same("inventory kinds", fast.InventoryKeys(), slow.InventoryKeys())
	same("plan", fast.PlanRefs(), slow.PlanRefs())
	same("revision", fast.Revision(), slow.Revision())

	objs := objectsIn(t, testutil.Corpus(t), filepath.Join(testutil.RepoRoot(t), "test", "policies"), filepath.Join(testutil.RepoRoot(t), "examples"))
	inv := inventory.New()
	for _, o := range objs {
		inv.Add(o)
	}
	for _, e := range []*policy.Engine{fast, slow} {
		if err := e.SetInventory(ctx, inv.Document()); err != nil {
			t.Fatal(err)
		}
	}
	idxFast, err := fast.IndexDocument(ctx)
	if err != nil {
		t.Fatal(err)
	}
	idxSlow, _ := slow.IndexDocument(ctx)
	same("indexes", idxFast, idxSlow)
	judged, namespaces := 0, 0
	for _, o := range objs {
		ref := policy.RefOf(o)
		var got, want []any
		for _, e := range []*policy.Engine{fast, slow} {
			fs, err := e.Evaluate(ctx, o)
			ms, merr := e.Mutations(ctx, o)
			gen, gerr := e.Generate(ctx, o)
			out := []any{fs, errString(err), ms, errString(merr), gen, errString(gerr)}
			if e == fast {
				got = out
			} else {
				want = out
			}
		}
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		if !bytes.Equal(gj, wj) {
			t.Fatalf("%s: from the snapshot\n%s\ncompiled\n%s", ref, gj, wj)
		}
		if fast.Covers(ref.GroupKind()) {
			judged++
		}
		if ref.Kind == "Namespace" {
			namespaces++
		}
	}
	if judged < 2000 || namespaces < 100 {
		t.Fatalf("only %d objects judged, %d Namespaces generated for", judged, namespaces)
	}
	if !fast.Compiled() {
		t.Fatal("the generators ran without the compiled bundle")
	}
}

// TestSnapshotOfOtherFilesIsNotUsed: a snapshot is used only with the files
// it was made from, and one that does not decode is not used either.
func TestSnapshotOfOtherFilesIsNotUsed(t *testing.T) {
	var snap bytes.Buffer
	if err := policy.WriteSnapshot(t.Context(), &snap); err != nil {
		t.Fatal(err)
	}
	if !policy.ReadSnapshot(policy.WithSnapshot(snap.Bytes())) {
		t.Fatal("the snapshot of the embedded files is not used with them")
	}
	edited := policy.WithSnapshot(snap.Bytes()).(fstest.MapFS)
	if edited["istio/mtls_001/policy.rego"] == nil {
		t.Fatal("no istio/mtls_001/policy.rego in the bundle")
	}
	edited["istio/mtls_001/policy.rego"] = &fstest.MapFile{Data: append(bytes.Clone(edited["istio/mtls_001/policy.rego"].Data), "\n# edited\n"...)}
	if policy.ReadSnapshot(edited) {
		t.Fatal("the snapshot is used after a policy changed")
	}
	for _, bad := range [][]byte{nil, []byte("not a snapshot"), snap.Bytes()[:snap.Len()/2]} {
		if policy.ReadSnapshot(policy.WithSnapshot(bad)) {
			t.Fatalf("a snapshot of %d bytes that does not decode is used", len(bad))
		}
	}
	if _, err := policy.NewFromSnapshot(t.Context(), snap.Bytes(), policy.Options{}); err != nil {
		t.Fatal(err)
	}
}

// TestEmbeddedSnapshotIsCurrent: the snapshot in this build, when New uses
// it, is what WriteSnapshot makes now. Its digest covers the Rego, not the
// engine's code: a snapshot made by older code from the same Rego fails
// here rather than serving stale metadata (make snapshot remakes it, and
// make build and make test do).
func TestEmbeddedSnapshotIsCurrent(t *testing.T) {
	embedded, err := fs.ReadFile(policies.FS, policy.SnapshotFile)
	if err != nil || !policy.ReadSnapshot(policies.FS) {
		t.Skip("this build embeds no snapshot of its Rego (make snapshot writes one)")
	}
	var now bytes.Buffer
	if err := policy.WriteSnapshot(t.Context(), &now); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(embedded, now.Bytes()) {
		t.Fatalf("the embedded %s (%d bytes) is not what this code makes (%d bytes): run make snapshot", policy.SnapshotFile, len(embedded), now.Len())
	}
}
