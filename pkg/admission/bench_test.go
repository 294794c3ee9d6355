package admission_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	cradmission "sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/meshguard/meshguard/internal/testutil"
	"github.com/meshguard/meshguard/pkg/admission"
	"github.com/meshguard/meshguard/pkg/manifest"
	"github.com/meshguard/meshguard/pkg/policy"
)

// fixtureReviews are CREATE AdmissionReviews of every fixture object.
func fixtureReviews(b *testing.B) [][]byte {
	b.Helper()
	files, _ := manifest.Expand([]string{filepath.Join(testutil.RepoRoot(b), "test", "policies")})
	var out [][]byte
	for _, f := range files {
		if strings.HasSuffix(f, "expected.yaml") {
			continue
		}
		for _, d := range manifest.ReadFile(f, nil).Docs {
			ref := policy.RefOf(d.Object)
			gk := ref.GroupKind()
			version := ref.APIVersion[strings.IndexByte(ref.APIVersion, '/')+1:]
			raw, _ := json.Marshal(d.Object)
			body, _ := json.Marshal(map[string]any{
				"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
				"request": map[string]any{
					"uid": "u", "operation": "CREATE", "namespace": ref.Namespace, "name": ref.Name,
					"kind":   map[string]any{"group": gk.Group, "version": version, "kind": gk.Kind},
					"object": json.RawMessage(raw), "userInfo": map[string]any{"username": "bench"},
				},
			})
			out = append(out, body)
		}
	}
	return out
}

// BenchmarkValidateHTTP is the validating webhook's HTTP handler (decode,
// judge, encode, decision log to a discarding sink) on the fixture reviews,
// without TLS or the network.
func BenchmarkValidateHTTP(b *testing.B) {
	e, err := policy.New(b.Context(), policy.Options{})
	if err != nil {
		b.Fatal(err)
	}
	v, err := admission.NewValidator(admission.Options{Engine: func() *policy.Engine { return e }, Logger: logr.Discard()})
	if err != nil {
		b.Fatal(err)
	}
	wh := &cradmission.Webhook{Handler: v, LogConstructor: func(base logr.Logger, _ *cradmission.Request) logr.Logger { return logr.Discard() }}
	reviews := fixtureReviews(b)
	// Every kind is planned on its first review: plan them before timing.
	for _, r := range reviews {
		req := httptest.NewRequest(http.MethodPost, "/validate", bytes.NewReader(r))
		req.Header.Set("Content-Type", "application/json")
		wh.ServeHTTP(httptest.NewRecorder(), req)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, "/validate", bytes.NewReader(reviews[i%len(reviews)]))
			req.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			wh.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatal(w.Code)
			}
			i++
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reviews/s")
}
