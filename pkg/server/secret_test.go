package server_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshguard/meshguard/internal/testutil"
	"github.com/meshguard/meshguard/pkg/server"
)

// Policies that read secret values: one denies (its message does not quote
// the value), one fails evaluation on them with a conflict, one is slow on
// them (the deadline ends it), one passes a value to a builtin that fails.
const secretPolicies = `# METADATA
# title: Tokens
# custom:
#   id: X-SEC-001
#   version: 1.0.0
#   severity: low
#   action: deny
#   kinds: [{group: "", kind: Secret}, {group: "", kind: ConfigMap}]
package x.sec

import data.meshguard.lib.kube

deny contains "holds a token" if contains(kube.obj.data.token, "tok")

deny contains "holds a token" if contains(kube.obj.metadata.annotations["example.com/token"], "tok")
`

const conflictPolicy = `# METADATA
# title: Conflict
# custom:
#   id: X-SEC-002
#   version: 1.0.0
#   severity: low
#   action: deny
#   kinds: [{group: "", kind: ConfigMap}]
package x.conflict

import data.meshguard.lib.kube

value := kube.obj.data.token

value := "other" if kube.obj.metadata.name == "conflict"

deny contains "conflict" if value == "x"

deny contains sprintf("%d", [to_number(kube.obj.data.token)]) if kube.obj.metadata.name == "builtin"
`

const slowPolicy = `# METADATA
# title: Slow on secrets
# custom:
#   id: X-SEC-003
#   version: 1.0.0
#   severity: low
#   action: deny
#   kinds: [{group: "", kind: Secret}]
package x.slowsec

import data.meshguard.lib.kube

deny contains kube.obj.data.token if {
	kube.obj.metadata.name == "slow"
	count([x | some x in numbers.range(1, 100000000); x % 7 == 3]) < 0
}
`

// Objects carrying secret-like data (a Secret, a token in a ConfigMap and
// in an annotation) through validate and mutate, allowed, denied,
// undecodable, failing evaluation and timing out: their values never reach
// the log (decision log, error log, controller-runtime's webhook log).
func TestSecretsNeverReachTheLogs(t *testing.T) {
	ca, err := testutil.NewCA()
	require.NoError(t, err)
	certDir := t.TempDir()
	_, err = ca.WriteServing(certDir)
	require.NoError(t, err)
	dir := t.TempDir()
	for name, src := range map[string]string{"sec.rego": secretPolicies, "conflict.rego": conflictPolicy, "slow.rego": slowPolicy} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600))
	}
	var logs logBuffer
	r := start(t, server.Options{CertDir: certDir, Standalone: true, Dirs: []string{dir}, EvalTimeout: 300 * time.Millisecond, Logger: logs.logger(t)}, ca)

	const (
		plain  = "tok-3f9a1c7e5b2d4680-SUPERSECRET"
		bearer = "Bearer tok-eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.SIGNATURE"
	)
	encoded := base64.StdEncoding.EncodeToString([]byte(plain))
	secrets := []string{plain, encoded, "3f9a1c7e5b2d4680", "SUPERSECRET", "eyJhbGciOiJIUzI1NiJ9", "c2VjcmV0"}

	type call struct {
		name, path, kind, group string
		object                  string // raw JSON of the object (may be invalid inside a valid review)
		wantCode                int32  // 0: allowed; else the result code
		rawBody                 string // a whole body instead of a review: a 400
	}
	secretObj := func(name, token string) string {
		return `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"` + name + `","namespace":"shop"},"type":"Opaque","data":{"token":"` + token + `"},"stringData":{"password":"` + plain + `"}}`
	}
	cm := func(name, token string) string {
		return `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"` + name + `","namespace":"shop","annotations":{"example.com/token":"` + bearer + `"}},"data":{"token":"` + token + `"}}`
	}
	calls := []call{
		{name: "a Secret denied", path: server.PathValidate, kind: "Secret", object: secretObj("s", plain), wantCode: http.StatusForbidden},
		{name: "a Secret allowed (base64 data)", path: server.PathValidate, kind: "Secret", object: secretObj("s", encoded)},
		{name: "a Secret mutated", path: server.PathMutate, kind: "Secret", object: secretObj("s", plain)},
		{name: "a Secret timing out", path: server.PathValidate, kind: "Secret", object: secretObj("slow", plain), wantCode: http.StatusInternalServerError},
		{name: "a ConfigMap with a token", path: server.PathValidate, kind: "ConfigMap", object: cm("c", plain), wantCode: http.StatusForbidden},
		{name: "a ConfigMap failing evaluation", path: server.PathValidate, kind: "ConfigMap", object: cm("conflict", plain), wantCode: http.StatusInternalServerError},
		{name: "a ConfigMap passing the token to a builtin", path: server.PathValidate, kind: "ConfigMap", object: cm("builtin", plain), wantCode: http.StatusForbidden},
		{name: "a ConfigMap mutated", path: server.PathMutate, kind: "ConfigMap", object: cm("c", plain)},
		{name: "a PeerAuthentication with a token annotation", path: server.PathValidate, kind: "PeerAuthentication", group: "security.istio.io",
			object: `{"apiVersion":"security.istio.io/v1","kind":"PeerAuthentication","metadata":{"name":"default","namespace":"shop","annotations":{"example.com/token":"` + bearer + `"}},"spec":{"mtls":{"mode":"PERMISSIVE"}}}`, wantCode: http.StatusForbidden},
		{name: "an object that is not a JSON object", path: server.PathValidate, kind: "Secret", object: `"` + plain + `"`, wantCode: http.StatusBadRequest},
		{name: "an object of the wrong shape", path: server.PathValidate, kind: "ConfigMap", object: `[` + `"` + plain + `"]`, wantCode: http.StatusBadRequest},
		{name: "a truncated body", path: server.PathValidate, rawBody: `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1","kind":{"kind":"Secret"},"operation":"CREATE","object":{"data":{"token":"` + plain + `"`},
		{name: "a body that is no JSON", path: server.PathMutate, rawBody: `"` + plain + " " + bearer + `"`},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			body := []byte(c.rawBody)
			if c.rawBody == "" {
				review := map[string]any{
					"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
					"request": map[string]any{
						"uid": "11111111-2222-3333-4444-555555555555", "operation": "CREATE", "namespace": "shop", "name": "x",
						"kind":   map[string]any{"group": c.group, "version": "v1", "kind": c.kind},
						"object": json.RawMessage(c.object),
					},
				}
				var err error
				body, err = json.Marshal(review)
				require.NoError(t, err)
			}
			resp, err := r.client.Post(r.webhook+c.path, "application/json", bytes.NewReader(body))
			require.NoError(t, err)
			defer resp.Body.Close()
			out, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			if c.rawBody != "" {
				c.wantCode = http.StatusBadRequest
				if resp.StatusCode != http.StatusOK { // refused before decoding
					assert.Equal(t, http.StatusBadRequest, resp.StatusCode, string(out))
					return
				}
			}
			require.Equal(t, http.StatusOK, resp.StatusCode)
			var ar struct {
				Response struct {
					Allowed bool `json:"allowed"`
					Status  struct {
						Code int32 `json:"code"`
					} `json:"status"`
				} `json:"response"`
			}
			require.NoError(t, json.Unmarshal(out, &ar), string(out))
			if c.wantCode == 0 {
				assert.True(t, ar.Response.Allowed, string(out))
			} else {
				assert.Equal(t, c.wantCode, ar.Response.Status.Code, string(out))
			}
		})
	}

	log := logs.String()
	require.Contains(t, log, `"verdict":"denied"`, "the decision log was captured")
	require.Contains(t, log, `"verdict":"error"`)
	require.Contains(t, log, `"verdict":"invalid"`)
	require.Contains(t, log, "took longer than the deadline")
	require.Contains(t, log, "eval_conflict_error", "the evaluation error is logged")
	require.Contains(t, log, "[redacted]", "with the values it quoted taken out")
	for _, s := range secrets {
		for _, line := range strings.Split(log, "\n") {
			assert.NotContains(t, line, s, "a secret value reached the log")
		}
	}
}
