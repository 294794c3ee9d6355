package admission

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/meshguard/meshguard/internal/testutil"
	"github.com/meshguard/meshguard/pkg/manifest"
	"github.com/meshguard/meshguard/pkg/policy"
)

// mapInput is how the validating webhook built its input before it decoded
// objects straight to OPA values: the object decoded into a map with the
// namespace filled in (decode, which the mutator still uses), the review as
// a map, then ast.InterfaceToValue.
func mapInput(t *testing.T, req admission.Request, op string) (ast.Value, policy.ObjectRef) {
	t.Helper()
	r, err := check(req)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.decode(req); err != nil {
		t.Fatal(err)
	}
	obj := r.obj
	groups := []any{}
	for _, g := range req.UserInfo.Groups {
		groups = append(groups, g)
	}
	rq := map[string]any{
		"uid":       string(req.UID),
		"kind":      map[string]any{"group": req.Kind.Group, "version": req.Kind.Version, "kind": req.Kind.Kind},
		"operation": op,
		"namespace": req.Namespace,
		"name":      req.Name,
		"userInfo":  map[string]any{"username": req.UserInfo.Username, "groups": groups},
		"dryRun":    req.DryRun != nil && *req.DryRun,
	}
	if op == policy.OpDelete {
		rq["oldObject"] = obj
	} else {
		rq["object"] = obj
	}
	if op == policy.OpUpdate {
		dec := json.NewDecoder(bytes.NewReader(req.OldObject.Raw))
		dec.UseNumber()
		var old map[string]any
		if err := dec.Decode(&old); err != nil {
			t.Fatal(err)
		}
		rq["oldObject"] = old
	}
	v, err := ast.InterfaceToValue(map[string]any{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": rq})
	if err != nil {
		t.Fatal(err)
	}
	return v, r.ref
}

// TestInputMatchesMaps holds the webhook's input to the map-based one for
// every fixture object on CREATE, UPDATE and DELETE, with and without the
// request's namespace, and with a user in groups and a dry run.
func TestInputMatchesMaps(t *testing.T) {
	files, _ := manifest.Expand([]string{filepath.Join(testutil.RepoRoot(t), "test", "policies"), filepath.Join(testutil.RepoRoot(t), "examples")})
	dry := true
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "expected.yaml") {
			continue
		}
		for _, d := range manifest.ReadFile(f, nil).Docs {
			raw, err := json.Marshal(d.Object)
			if err != nil {
				t.Fatal(err)
			}
			ref := policy.RefOf(d.Object)
			for _, op := range []admissionv1.Operation{admissionv1.Create, admissionv1.Update, admissionv1.Delete} {
				for _, ns := range []string{"", "from-request"} {
					req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
						UID: "u1", Operation: op, Namespace: ns, Name: "req-name",
						Kind:     metav1.GroupVersionKind{Group: ref.GroupKind().Group, Version: "v1", Kind: ref.Kind},
						UserInfo: authenticationv1.UserInfo{Username: "alice", Groups: []string{"dev", "ops"}},
						DryRun:   &dry,
					}}
					if op == admissionv1.Delete {
						req.OldObject = runtime.RawExtension{Raw: raw}
					} else {
						req.Object = runtime.RawExtension{Raw: raw}
					}
					if op == admissionv1.Update {
						req.OldObject = runtime.RawExtension{Raw: []byte(`{"apiVersion":"v1","kind":"X","metadata":{"name":"old","labels":{"a":"1"}},"n":1.50}`)}
					}
					r, err := check(req)
					if err != nil {
						t.Fatal(err)
					}
					if err := r.decodeValue(req); err != nil {
						t.Fatalf("%s: %v", f, err)
					}
					want, wantRef := mapInput(t, req, string(op))
					if got := r.input(req); got.Compare(want) != 0 {
						t.Fatalf("%s %s (namespace %q):\ngot  %v\nwant %v", f, op, ns, got, want)
					}
					if r.ref != wantRef {
						t.Fatalf("%s: ref %+v, want %+v", f, r.ref, wantRef)
					}
					n++
				}
			}
		}
	}
	if n < 600 {
		t.Fatalf("only %d inputs compared", n)
	}
}
