package admission_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/go-logr/logr/funcr"
	"github.com/go-logr/logr/testr"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	cradmission "sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/meshguard/meshguard/pkg/admission"
	"github.com/meshguard/meshguard/pkg/policy"
)

const (
	permissivePA = `{"apiVersion":"security.istio.io/v1","kind":"PeerAuthentication","metadata":{"name":"default","namespace":"shop"},"spec":{"mtls":{"mode":"PERMISSIVE"}}}`
	strictPA     = `{"apiVersion":"security.istio.io/v1","kind":"PeerAuthentication","metadata":{"name":"default","namespace":"shop"},"spec":{"mtls":{"mode":"STRICT"}}}`
	allowAll     = `{"apiVersion":"security.istio.io/v1","kind":"AuthorizationPolicy","metadata":{"name":"all","namespace":"shop"},"spec":{"action":"ALLOW","rules":[{}]}}`
	retryWarn    = `{"apiVersion":"networking.istio.io/v1","kind":"VirtualService","metadata":{"name":"r","namespace":"shop"},"spec":{"hosts":["r"],"http":[{"timeout":"20s","retries":{"attempts":2},"route":[{"destination":{"host":"r"}}]}]}}`
	noTimeout    = `{"apiVersion":"networking.istio.io/v1","kind":"VirtualService","metadata":{"name":"r","namespace":"shop"},"spec":{"hosts":["r"],"http":[{"route":[{"destination":{"host":"r"}}]}]}}`
	configMap    = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"shop"}}`
	secret       = `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s","namespace":"shop"}}`
	deployment   = `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"shop"},"spec":{"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"web:1"}]}}}}`
)

func gvk(group, version, kind string) metav1.GroupVersionKind {
	return metav1.GroupVersionKind{Group: group, Version: version, Kind: kind}
}

var (
	paKind     = gvk("security.istio.io", "v1", "PeerAuthentication")
	apKind     = gvk("security.istio.io", "v1", "AuthorizationPolicy")
	vsKind     = gvk("networking.istio.io", "v1", "VirtualService")
	cmKind     = gvk("", "v1", "ConfigMap")
	secretKind = gvk("", "v1", "Secret")
	deployKind = gvk("apps", "v1", "Deployment")
)

func review(op admissionv1.Operation, kind metav1.GroupVersionKind, namespace, object string) cradmission.Request {
	r := cradmission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID:       types.UID("uid-" + strings.ToLower(string(op)) + "-" + kind.Kind),
		Kind:      kind,
		Namespace: namespace,
		Name:      "x",
		Operation: op,
		UserInfo:  authenticationv1.UserInfo{Username: "alice"},
	}}
	if op == admissionv1.Delete {
		r.OldObject = runtime.RawExtension{Raw: []byte(object)}
	} else if object != "" {
		r.Object = runtime.RawExtension{Raw: []byte(object)}
	}
	return r
}

func newEngine(t *testing.T, opts policy.Options) *policy.Engine {
	t.Helper()
	e, err := policy.New(t.Context(), opts)
	require.NoError(t, err)
	return e
}

// handlers wraps the meshguard handlers in controller-runtime's Webhook, as
// the server does, so responses are completed (UID, status) and panics
// recovered.
func handlers(t *testing.T, e *policy.Engine, m *admission.Metrics) (validate, mutate *cradmission.Webhook) {
	t.Helper()
	opts := admission.Options{Engine: func() *policy.Engine { return e }, Logger: testr.New(t), Metrics: m}
	v, err := admission.NewValidator(opts)
	require.NoError(t, err)
	mu, err := admission.NewMutator(opts)
	require.NoError(t, err)
	return &cradmission.Webhook{Handler: v}, &cradmission.Webhook{Handler: mu}
}

func TestValidate(t *testing.T) {
	e := newEngine(t, policy.Options{})
	validate, _ := handlers(t, e, nil)
	dry := true
	dryRun := review(admissionv1.Create, paKind, "shop", permissivePA)
	dryRun.DryRun = &dry

	tests := []struct {
		name     string
		req      cradmission.Request
		allowed  bool
		code     int32
		message  []string
		warnings []string
	}{
		{"a PERMISSIVE PeerAuthentication is denied with the rule id", review(admissionv1.Create, paKind, "shop", permissivePA), false, http.StatusForbidden, []string{"ISTIO-MTLS-001: PeerAuthentication shop/default sets mtls.mode PERMISSIVE"}, nil},
		{"an update is judged like a create", review(admissionv1.Update, paKind, "shop", permissivePA), false, http.StatusForbidden, []string{"ISTIO-MTLS-001"}, nil},
		{"a dry run is judged like a real request", dryRun, false, http.StatusForbidden, []string{"ISTIO-MTLS-001"}, nil},
		{"a STRICT PeerAuthentication is allowed", review(admissionv1.Create, paKind, "shop", strictPA), true, http.StatusOK, nil, nil},
		{"an allow-all AuthorizationPolicy is denied", review(admissionv1.Create, apKind, "shop", allowAll), false, http.StatusForbidden, []string{"ISTIO-AUTHZ-001"}, nil},
		{"a warn rule is allowed with a warning", review(admissionv1.Create, vsKind, "shop", retryWarn), true, http.StatusOK, nil, []string{"ISTIO-TRAFFIC-002: "}},
		{"deleting an object no rule protects is allowed", review(admissionv1.Delete, paKind, "shop", permissivePA), true, http.StatusOK, nil, nil},
		{"a kind no rule covers is allowed", review(admissionv1.Create, secretKind, "shop", secret), true, http.StatusOK, nil, nil},
		{"an excluded namespace is allowed", review(admissionv1.Create, paKind, "kube-system", strings.Replace(permissivePA, `"shop"`, `"kube-system"`, 1)), true, http.StatusOK, nil, nil},
		{"the namespace of the request fills in a missing metadata.namespace", review(admissionv1.Create, paKind, "shop", strings.Replace(permissivePA, `,"namespace":"shop"`, "", 1)), false, http.StatusForbidden, []string{"PeerAuthentication shop/default"}, nil},
		{"a request without a uid is a 400", func() cradmission.Request {
			r := review(admissionv1.Create, paKind, "shop", strictPA)
			r.UID = ""
			return r
		}(), false, http.StatusBadRequest, []string{"no uid"}, nil},
		{"a request without a kind is a 400", review(admissionv1.Create, metav1.GroupVersionKind{}, "shop", strictPA), false, http.StatusBadRequest, []string{"no kind"}, nil},
		{"a create without an object is a 400", review(admissionv1.Create, paKind, "shop", ""), false, http.StatusBadRequest, []string{"has no object"}, nil},
		{"an object that does not decode is a 400", review(admissionv1.Create, paKind, "shop", `{"apiVersion": `), false, http.StatusBadRequest, []string{"does not decode"}, nil},
		{"an object that is not a JSON object is a 400", review(admissionv1.Create, paKind, "shop", `null`), false, http.StatusBadRequest, []string{"not a JSON object"}, nil},
		{"an unknown operation is a 400", review("PATCH", paKind, "shop", strictPA), false, http.StatusBadRequest, []string{"unknown operation"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := validate.Handle(t.Context(), tt.req)
			assert.Equal(t, tt.req.UID, resp.UID, "the response echoes the request uid")
			assert.Equal(t, tt.allowed, resp.Allowed)
			require.NotNil(t, resp.Result)
			assert.Equal(t, tt.code, resp.Result.Code)
			for _, m := range tt.message {
				assert.Contains(t, resp.Result.Message, m)
			}
			if tt.warnings == nil {
				assert.Empty(t, resp.Warnings)
			}
			for i, w := range tt.warnings {
				require.Greater(t, len(resp.Warnings), i)
				assert.True(t, strings.HasPrefix(resp.Warnings[i], w), "warning %q", resp.Warnings[i])
			}
		})
	}
}

// Every deny finding is listed, each with its rule id.
func TestValidateListsEveryDenyFinding(t *testing.T) {
	e := newEngine(t, policy.Options{})
	validate, _ := handlers(t, e, nil)
	obj := `{"apiVersion":"security.istio.io/v1","kind":"PeerAuthentication","metadata":{"name":"p","namespace":"shop"},"spec":{"selector":{"matchLabels":{"app":"a"}},"mtls":{"mode":"DISABLE"},"portLevelMtls":{"8080":{"mode":"PERMISSIVE"}}}}`
	resp := validate.Handle(t.Context(), review(admissionv1.Create, paKind, "shop", obj))
	require.False(t, resp.Allowed)
	findings, err := e.Evaluate(t.Context(), decode(t, obj))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(findings), 2)
	for _, f := range findings {
		assert.Contains(t, resp.Result.Message, f.Rule+": "+f.Message)
	}
}

// A rule set to audit by the config reaches the API server's audit log
// through auditAnnotations, and the request is allowed.
func TestValidateAuditAnnotations(t *testing.T) {
	cfg, err := policy.ParseConfig("config.yaml", []byte("enforcement:\n  ISTIO-MTLS-001: audit\n"))
	require.NoError(t, err)
	e := newEngine(t, policy.Options{Config: cfg})
	validate, _ := handlers(t, e, nil)
	resp := validate.Handle(t.Context(), review(admissionv1.Create, paKind, "shop", permissivePA))
	assert.True(t, resp.Allowed)
	assert.Empty(t, resp.Warnings)
	assert.Contains(t, resp.AuditAnnotations["ISTIO-MTLS-001"], "sets mtls.mode PERMISSIVE")
}

// An evaluation error is a 500: never allowed.
func TestValidateEvaluationErrorIsNeverAllowed(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "p.rego"), []byte(`# METADATA
# title: Conflicting
# custom:
#   id: X-ERR-001
#   version: 1.0.0
#   severity: low
#   action: deny
#   kinds: [{group: "", kind: ConfigMap}]
package x.err

_v := input.request.object.metadata.name

_v := "other"

deny contains "d" if _v
`), 0o600))
	e := newEngine(t, policy.Options{Dirs: []string{dir}, NoBuiltin: true})
	validate, _ := handlers(t, e, nil)
	resp := validate.Handle(t.Context(), review(admissionv1.Create, cmKind, "shop", configMap))
	assert.False(t, resp.Allowed)
	assert.Equal(t, int32(http.StatusInternalServerError), resp.Result.Code)
	assert.Contains(t, resp.Result.Message, "evaluating policy")
}

// A panic in a handler becomes a 500 that keeps the uid.
func TestPanicIsRecoveredWithTheUID(t *testing.T) {
	v, err := admission.NewValidator(admission.Options{Engine: func() *policy.Engine { panic("boom") }})
	require.NoError(t, err)
	wh := &cradmission.Webhook{Handler: v}
	resp := wh.Handle(t.Context(), review(admissionv1.Create, paKind, "shop", strictPA))
	assert.False(t, resp.Allowed)
	assert.Equal(t, int32(http.StatusInternalServerError), resp.Result.Code)
	assert.Equal(t, types.UID("uid-create-PeerAuthentication"), resp.UID)
}

func TestNewRequiresAnEngine(t *testing.T) {
	_, err := admission.NewValidator(admission.Options{})
	require.ErrorContains(t, err, "Engine is required")
	_, err = admission.NewMutator(admission.Options{})
	require.ErrorContains(t, err, "Engine is required")
}

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(s), &m))
	return m
}

type nsFunc func(ctx context.Context, ns string)

func (f nsFunc) Ensure(ctx context.Context, ns string) { f(ctx, ns) }

func TestMutate(t *testing.T) {
	e := newEngine(t, policy.Options{})
	ns := map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "meshed", "labels": map[string]any{"istio-injection": "enabled"}}}
	var ensured []string
	opts := admission.Options{
		Engine: func() *policy.Engine { return e },
		Logger: testr.New(t),
		Namespaces: nsFunc(func(ctx context.Context, name string) {
			ensured = append(ensured, name)
			if name == "meshed" {
				require.NoError(t, e.PutInventory(ctx, []string{"namespaces", "meshed"}, ns))
			}
		}),
	}
	m, err := admission.NewMutator(opts)
	require.NoError(t, err)
	mutate := &cradmission.Webhook{Handler: m}

	resp := mutate.Handle(t.Context(), review(admissionv1.Create, vsKind, "shop", noTimeout))
	require.True(t, resp.Allowed)
	assert.Equal(t, types.UID("uid-create-VirtualService"), resp.UID)
	patched := applyPatch(t, noTimeout, resp)
	http0 := patched["spec"].(map[string]any)["http"].([]any)[0].(map[string]any)
	assert.Equal(t, "15s", http0["timeout"], "the default timeout is added")
	assert.Contains(t, patched["metadata"].(map[string]any)["annotations"].(map[string]any)["meshguard.io/mutated"], "ISTIO-TRAFFIC-001")

	again := mutate.Handle(t.Context(), review(admissionv1.Create, vsKind, "shop", mustJSON(t, patched)))
	assert.True(t, again.Allowed)
	assert.Empty(t, again.Patches, "a mutated object is not mutated again")

	meshed := strings.Replace(deployment, `"namespace":"shop"`, `"namespace":"meshed"`, 1)
	resp = mutate.Handle(t.Context(), review(admissionv1.Create, deployKind, "meshed", meshed))
	require.True(t, resp.Allowed)
	patched = applyPatch(t, meshed, resp)
	ann := patched["spec"].(map[string]any)["template"].(map[string]any)["metadata"].(map[string]any)["annotations"].(map[string]any)
	assert.Equal(t, "100m", ann["sidecar.istio.io/proxyCPU"])
	assert.Equal(t, "128Mi", ann["sidecar.istio.io/proxyMemory"])
	assert.Equal(t, "1024Mi", ann["sidecar.istio.io/proxyMemoryLimit"])
	assert.Contains(t, ensured, "meshed", "the request's namespace is made known before judging")

	resp = mutate.Handle(t.Context(), review(admissionv1.Create, deployKind, "shop", deployment))
	assert.True(t, resp.Allowed)
	assert.Empty(t, resp.Patches, "no sidecar outside a meshed namespace, so no sidecar resources")

	for _, req := range []cradmission.Request{
		review(admissionv1.Delete, vsKind, "shop", noTimeout),
		review(admissionv1.Create, cmKind, "shop", configMap),
	} {
		resp = mutate.Handle(t.Context(), req)
		assert.True(t, resp.Allowed, "%s %s", req.Operation, req.Kind.Kind)
		assert.Empty(t, resp.Patches)
	}
	bad := review(admissionv1.Create, vsKind, "shop", "{")
	resp = mutate.Handle(t.Context(), bad)
	assert.False(t, resp.Allowed)
	assert.Equal(t, int32(http.StatusBadRequest), resp.Result.Code)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// applyPatch applies the response's JSON patch with the API server's own
// library semantics (via jsonpatch round trip through the Response).
func applyPatch(t *testing.T, original string, resp cradmission.Response) map[string]any {
	t.Helper()
	require.NotEmpty(t, resp.Patches, "a patch was expected")
	patch, err := json.Marshal(resp.Patches)
	require.NoError(t, err)
	p, err := jsonpatch.DecodePatch(patch)
	require.NoError(t, err)
	out, err := p.Apply([]byte(original))
	require.NoError(t, err)
	return decode(t, string(out))
}

func TestMetricsCountDecisions(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := admission.NewMetrics(reg)
	require.NoError(t, err)
	m.SetBundle("test-rev")
	e := newEngine(t, policy.Options{})
	validate, _ := handlers(t, e, m)
	validate.Handle(t.Context(), review(admissionv1.Create, paKind, "shop", permissivePA))
	validate.Handle(t.Context(), review(admissionv1.Create, paKind, "shop", strictPA))
	families, err := reg.Gather()
	require.NoError(t, err)
	value := func(name string, labels map[string]string) float64 {
		for _, f := range families {
			if f.GetName() != name {
				continue
			}
		metrics:
			for _, m := range f.GetMetric() {
				for _, l := range m.GetLabel() {
					if want, ok := labels[l.GetName()]; ok && want != l.GetValue() {
						continue metrics
					}
				}
				return sample(m)
			}
		}
		return -1
	}
	assert.InDelta(t, 1, value("meshguard_admission_requests_total", map[string]string{"webhook": "validate", "kind": "PeerAuthentication.security.istio.io", "verdict": "denied"}), 0)
	assert.InDelta(t, 1, value("meshguard_admission_requests_total", map[string]string{"verdict": "allowed"}), 0)
	assert.InDelta(t, 1, value("meshguard_admission_findings_total", map[string]string{"rule": "ISTIO-MTLS-001", "action": "deny"}), 0)
	assert.InDelta(t, 1, value("meshguard_admission_request_duration_seconds", map[string]string{"webhook": "validate", "verdict": "denied"}), 0, "one latency sample per request")
	assert.InDelta(t, 1, value("meshguard_bundle_info", map[string]string{"revision": "test-rev"}), 0)
}

func sample(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Histogram != nil:
		return float64(m.GetHistogram().GetSampleCount())
	}
	return -1
}

// Over HTTP, controller-runtime's transport with our handler: bodies that are
// not AdmissionReviews are rejected with a 400 and never allowed.
func TestServeHTTP(t *testing.T) {
	e := newEngine(t, policy.Options{})
	validate, _ := handlers(t, e, nil)
	srv := httptest.NewServer(validate)
	defer srv.Close()
	post := func(body string) admissionv1.AdmissionReview {
		t.Helper()
		resp, err := http.Post(srv.URL, "application/json", bytes.NewBufferString(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		var ar admissionv1.AdmissionReview
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&ar))
		require.NotNil(t, ar.Response)
		return ar
	}
	for name, body := range map[string]string{
		"a bare object":       `{"apiVersion":"v1","kind":"Pod"}`,
		"an empty JSON value": `{}`,
		"not JSON":            `hello`,
	} {
		ar := post(body)
		assert.False(t, ar.Response.Allowed, name)
		assert.Equal(t, int32(http.StatusBadRequest), ar.Response.Result.Code, name)
	}
	req := review(admissionv1.Create, paKind, "shop", permissivePA)
	body, err := json.Marshal(admissionv1.AdmissionReview{TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"}, Request: &req.AdmissionRequest})
	require.NoError(t, err)
	ar := post(string(body))
	assert.Equal(t, "admission.k8s.io/v1", ar.APIVersion)
	assert.Equal(t, req.UID, ar.Response.UID)
	assert.False(t, ar.Response.Allowed)
	assert.Contains(t, ar.Response.Result.Message, "ISTIO-MTLS-001")
}

// DELETE judges the old object, with the rules that list DELETE only.
func TestValidateDeleteJudgesTheOldObject(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "p.rego"), []byte(`# METADATA
# title: Keep managed
# custom:
#   id: X-KEEP-001
#   version: 1.0.0
#   severity: high
#   action: deny
#   operations: [DELETE]
#   kinds: [{group: "", kind: ConfigMap}]
package x.keep

deny contains "managed by meshguard" if input.request.oldObject.metadata.labels.managed == "yes"
`), 0o600))
	e := newEngine(t, policy.Options{Dirs: []string{dir}, NoBuiltin: true})
	validate, _ := handlers(t, e, nil)
	managed := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"shop","labels":{"managed":"yes"}}}`
	resp := validate.Handle(t.Context(), review(admissionv1.Delete, cmKind, "shop", managed))
	assert.False(t, resp.Allowed)
	assert.Contains(t, resp.Result.Message, "X-KEEP-001: managed by meshguard")
	resp = validate.Handle(t.Context(), review(admissionv1.Create, cmKind, "shop", managed))
	assert.True(t, resp.Allowed, "the DELETE rule does not judge CREATE")
	noOld := review(admissionv1.Delete, cmKind, "shop", managed)
	noOld.OldObject.Raw = nil
	resp = validate.Handle(t.Context(), noOld)
	assert.Equal(t, int32(http.StatusBadRequest), resp.Result.Code)
}

// An exempted deny does not deny: the request is allowed and the exemption
// goes to the audit log.
func TestValidateExempted(t *testing.T) {
	e := newEngine(t, policy.Options{})
	validate, _ := handlers(t, e, nil)
	exempted := strings.Replace(permissivePA, `"namespace":"shop"`, `"namespace":"shop","annotations":{"meshguard.io/exempt":"ISTIO-MTLS-001","meshguard.io/exempt-reason":"migration TICKET-1","meshguard.io/exempt-until":"2999-01-01"}`, 1)
	resp := validate.Handle(t.Context(), review(admissionv1.Create, paKind, "shop", exempted))
	assert.True(t, resp.Allowed)
	assert.Empty(t, resp.Warnings)
	assert.Contains(t, resp.AuditAnnotations["ISTIO-MTLS-001"], "exempted by the object until 2999-01-01 (migration TICKET-1)")
}

// UPDATE gives the rules the old object too.
func TestValidateUpdateSeesTheOldObject(t *testing.T) {
	e := newEngine(t, policy.Options{})
	validate, _ := handlers(t, e, nil)
	managed := `{"apiVersion":"security.istio.io/v1","kind":"PeerAuthentication","metadata":{"name":"default","namespace":"shop","labels":{"app.kubernetes.io/managed-by":"meshguard"}},"spec":{"mtls":{"mode":"STRICT"}}}`
	unlabelled := `{"apiVersion":"security.istio.io/v1","kind":"PeerAuthentication","metadata":{"name":"default","namespace":"shop"},"spec":{"mtls":{"mode":"STRICT"}}}`
	req := review(admissionv1.Update, paKind, "shop", unlabelled)
	req.OldObject = runtime.RawExtension{Raw: []byte(managed)}
	resp := validate.Handle(t.Context(), req)
	assert.False(t, resp.Allowed)
	assert.Contains(t, resp.Result.Message, "ISTIO-DEFAULTS-001")
	req.OldObject = runtime.RawExtension{Raw: []byte("{")}
	resp = validate.Handle(t.Context(), req)
	assert.Equal(t, int32(http.StatusBadRequest), resp.Result.Code)
}

// A slow evaluation ends at the deadline with a 500 that says so.
func TestEvaluationDeadline(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "slow.rego"), []byte(`# METADATA
# title: Slow
# custom:
#   id: X-SLOW-001
#   version: 1.0.0
#   severity: low
#   action: deny
#   kinds: [{group: "", kind: ConfigMap}]
package x.slow

deny contains "slow" if count([x | some x in numbers.range(1, 100000000); x % 7 == 3]) < 0
`), 0o600))
	e := newEngine(t, policy.Options{Dirs: []string{dir}, NoBuiltin: true})
	v, err := admission.NewValidator(admission.Options{Engine: func() *policy.Engine { return e }, Logger: testr.New(t), EvalTimeout: 100 * time.Millisecond})
	require.NoError(t, err)
	wh := &cradmission.Webhook{Handler: v}
	start := time.Now()
	resp := wh.Handle(t.Context(), review(admissionv1.Create, cmKind, "shop", configMap))
	assert.Less(t, time.Since(start), 5*time.Second, "the deadline ends the evaluation")
	assert.False(t, resp.Allowed)
	assert.Equal(t, int32(http.StatusInternalServerError), resp.Result.Code)
	assert.Contains(t, resp.Result.Message, "took longer than the deadline")
}

// With a stale inventory the verdict is still given (from the last state
// seen) and says so: a warning on the validating answer, inventoryStale in
// the decision log of both webhooks.
func TestStaleInventoryIsSaid(t *testing.T) {
	e := newEngine(t, policy.Options{})
	var lines []string
	log := funcr.NewJSON(func(obj string) { lines = append(lines, obj) }, funcr.Options{})
	stale := false
	opts := admission.Options{Engine: func() *policy.Engine { return e }, Logger: log,
		InventoryStale: func() (bool, time.Duration) { return stale, 45 * time.Second }}
	v, err := admission.NewValidator(opts)
	require.NoError(t, err)
	m, err := admission.NewMutator(opts)
	require.NoError(t, err)
	validate, mutate := &cradmission.Webhook{Handler: v}, &cradmission.Webhook{Handler: m}

	resp := validate.Handle(t.Context(), review(admissionv1.Create, paKind, "shop", strictPA))
	assert.True(t, resp.Allowed)
	assert.Empty(t, resp.Warnings)
	require.Len(t, lines, 1)
	assert.NotContains(t, lines[0], "inventoryStale")

	stale = true
	resp = validate.Handle(t.Context(), review(admissionv1.Create, paKind, "shop", permissivePA))
	assert.False(t, resp.Allowed, "still judged")
	assert.Contains(t, resp.Result.Message, "ISTIO-MTLS-001")
	require.Len(t, resp.Warnings, 1)
	assert.True(t, strings.HasPrefix(resp.Warnings[0], admission.StaleWarning+" (its watch of the API server has been broken for 45s)"), resp.Warnings[0])
	assert.Contains(t, lines[1], `"inventoryStale":true`)

	mutate.Handle(t.Context(), review(admissionv1.Create, vsKind, "shop", `{"apiVersion":"networking.istio.io/v1","kind":"VirtualService","metadata":{"name":"x","namespace":"shop"},"spec":{"hosts":["r"],"http":[{"route":[{"destination":{"host":"r"}}]}]}}`))
	require.Len(t, lines, 3)
	assert.Contains(t, lines[2], `"webhook":"mutate"`)
	assert.Contains(t, lines[2], `"inventoryStale":true`)
}
