package admission_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admission/v1"
	cradmission "sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/meshguard/meshguard/internal/testutil"
	"github.com/meshguard/meshguard/pkg/admission"
	"github.com/meshguard/meshguard/pkg/manifest"
	"github.com/meshguard/meshguard/pkg/policy"
)

// seedReviews are AdmissionReview bodies of the fixture objects.
func seedReviews(f *testing.F) [][]byte {
	f.Helper()
	files, _ := manifest.Expand([]string{filepath.Join(testutil.RepoRoot(f), "test", "policies")})
	var out [][]byte
	for _, name := range files {
		if strings.HasSuffix(name, "expected.yaml") {
			continue
		}
		for _, d := range manifest.ReadFile(name, nil).Docs {
			ref := policy.RefOf(d.Object)
			gk := ref.GroupKind()
			raw, _ := json.Marshal(d.Object)
			body, _ := json.Marshal(map[string]any{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": map[string]any{
				"uid": "u", "operation": "CREATE", "namespace": ref.Namespace, "name": ref.Name,
				"kind":   map[string]any{"group": gk.Group, "version": "v1", "kind": gk.Kind},
				"object": json.RawMessage(raw),
			}})
			out = append(out, body)
		}
	}
	return out
}

// FuzzValidate sends arbitrary bodies through the HTTP path of the validating
// webhook: it must always answer a well-formed AdmissionReview, never panic,
// and never allow a request it could not read (no uid means a 400).
func FuzzValidate(f *testing.F) {
	for _, s := range seedReviews(f) {
		f.Add(s)
	}
	f.Add([]byte(`{"apiVersion":"v1","kind":"Pod"}`))
	f.Add([]byte(``))
	f.Add([]byte(`{"request":{"uid":"x","kind":{"kind":"PeerAuthentication","group":"security.istio.io"},"operation":"CREATE","object":[1]}}`))
	e, err := policy.New(f.Context(), policy.Options{})
	if err != nil {
		f.Fatal(err)
	}
	v, err := admission.NewValidator(admission.Options{Engine: func() *policy.Engine { return e }, Logger: logr.Discard()})
	if err != nil {
		f.Fatal(err)
	}
	wh := &cradmission.Webhook{Handler: v, LogConstructor: func(logr.Logger, *cradmission.Request) logr.Logger { return logr.Discard() }}
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/validate", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		wh.ServeHTTP(w, req)
		var ar admissionv1.AdmissionReview
		if err := json.Unmarshal(w.Body.Bytes(), &ar); err != nil || ar.Response == nil {
			t.Fatalf("not an AdmissionReview answer: %v: %s", err, w.Body.String())
		}
		if ar.Response.UID == "" && ar.Response.Allowed {
			t.Fatalf("a request without a uid was allowed: %s", body)
		}
	})
}

// FuzzMutate: the mutating webhook never panics, and applying its patch and
// mutating again yields no patch (idempotency).
func FuzzMutate(f *testing.F) {
	for _, s := range seedReviews(f) {
		f.Add(s)
	}
	e, err := policy.New(f.Context(), policy.Options{})
	if err != nil {
		f.Fatal(err)
	}
	m, err := admission.NewMutator(admission.Options{Engine: func() *policy.Engine { return e }, Logger: logr.Discard()})
	if err != nil {
		f.Fatal(err)
	}
	wh := &cradmission.Webhook{Handler: m, LogConstructor: func(logr.Logger, *cradmission.Request) logr.Logger { return logr.Discard() }}
	f.Fuzz(func(t *testing.T, body []byte) {
		var ar admissionv1.AdmissionReview
		if err := json.Unmarshal(body, &ar); err != nil || ar.Request == nil {
			return
		}
		req := cradmission.Request{AdmissionRequest: *ar.Request}
		resp := wh.Handle(t.Context(), req)
		if !resp.Allowed || len(resp.Patches) == 0 {
			return
		}
		patched := applyPatchT(t, req.Object.Raw, resp)
		req.Object.Raw = patched
		again := wh.Handle(t.Context(), req)
		if len(again.Patches) > 0 {
			t.Fatalf("a second mutation patched again: %v", again.Patches)
		}
	})
}

func applyPatchT(t *testing.T, original []byte, resp cradmission.Response) []byte {
	t.Helper()
	patch, err := json.Marshal(resp.Patches)
	if err != nil {
		t.Fatal(err)
	}
	p, err := jsonpatch.DecodePatch(patch)
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.Apply(original)
	if err != nil {
		t.Fatalf("the patch does not apply: %v", err)
	}
	return out
}
