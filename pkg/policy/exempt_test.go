package policy_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshguard/meshguard/pkg/policy"
)

func permissivePA(annotations map[string]any) map[string]any {
	md := map[string]any{"name": "default", "namespace": "shop"}
	if annotations != nil {
		md["annotations"] = annotations
	}
	return map[string]any{"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication", "metadata": md,
		"spec": map[string]any{"mtls": map[string]any{"mode": "PERMISSIVE"}}}
}

func TestExemptions(t *testing.T) {
	today := func() time.Time { return time.Date(2026, 11, 22, 15, 0, 0, 0, time.UTC) }
	valid := map[string]any{"meshguard.io/exempt": "ISTIO-MTLS-001", "meshguard.io/exempt-reason": "migrating the legacy billing service, TICKET-42", "meshguard.io/exempt-until": "2026-12-31"}
	with := func(m map[string]any, k, v string) map[string]any {
		out := map[string]any{}
		for kk, vv := range m {
			out[kk] = vv
		}
		if v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
		return out
	}
	tests := []struct {
		name       string
		object     map[string]any // annotations of the object
		namespace  map[string]any // annotations of its Namespace (inventory)
		config     string
		action     policy.Action
		from, note string
	}{
		{name: "a valid exemption on the object exempts the finding", object: valid, action: policy.ActionExempted, from: "object"},
		{name: "the last day still counts", object: with(valid, "meshguard.io/exempt-until", "2026-11-22"), action: policy.ActionExempted, from: "object"},
		{name: "a wildcard exempts every rule", object: with(valid, "meshguard.io/exempt", "*"), action: policy.ActionExempted, from: "object"},
		{name: "a list of ids with spaces works", object: with(valid, "meshguard.io/exempt", "ISTIO-AUTHZ-001, ISTIO-MTLS-001"), action: policy.ActionExempted, from: "object"},
		{name: "an exemption on the namespace applies to its objects", namespace: valid, action: policy.ActionExempted, from: "namespace shop"},
		{name: "an exemption of another rule does nothing", object: with(valid, "meshguard.io/exempt", "ISTIO-AUTHZ-001"), action: policy.ActionDeny},
		{name: "without a reason it does not apply, and says so", object: with(valid, "meshguard.io/exempt-reason", ""), action: policy.ActionDeny, note: "meshguard.io/exempt-reason is missing"},
		{name: "without a date it does not apply", object: with(valid, "meshguard.io/exempt-until", ""), action: policy.ActionDeny, note: "meshguard.io/exempt-until is missing"},
		{name: "a date that is not a date does not apply", object: with(valid, "meshguard.io/exempt-until", "31/12/2026"), action: policy.ActionDeny, note: `"31/12/2026" is not a date`},
		{name: "an expired exemption does not apply", object: with(valid, "meshguard.io/exempt-until", "2026-11-21"), action: policy.ActionDeny, note: "expired on 2026-11-21"},
		{name: "a non-exemptable rule ignores exemptions", object: valid, config: "nonExemptable: [ISTIO-MTLS-001]\n", action: policy.ActionDeny, note: "non-exemptable"},
		{name: "a broken object exemption does not hide a valid namespace one", object: with(valid, "meshguard.io/exempt-reason", ""), namespace: valid, action: policy.ActionExempted, from: "namespace shop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := policy.Options{Now: today}
			if tt.config != "" {
				cfg, err := policy.ParseConfig("c.yaml", []byte(tt.config))
				require.NoError(t, err)
				opts.Config = cfg
			}
			e := newEngine(t, opts)
			if tt.namespace != nil {
				ns := map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "shop", "annotations": tt.namespace}}
				require.NoError(t, e.PutInventory(t.Context(), []string{"namespaces", "shop"}, ns))
			}
			fs, err := e.Evaluate(t.Context(), permissivePA(tt.object))
			require.NoError(t, err)
			require.Len(t, fs, 1)
			f := fs[0]
			assert.Equal(t, tt.action, f.Action)
			if tt.action == policy.ActionExempted {
				require.NotNil(t, f.Exemption)
				assert.Equal(t, "migrating the legacy billing service, TICKET-42", f.Exemption.Reason)
				assert.Equal(t, tt.from, f.Exemption.From)
				assert.NotEmpty(t, f.Exemption.Until)
			} else {
				assert.Nil(t, f.Exemption)
			}
			if tt.note != "" {
				assert.Contains(t, f.Message, tt.note)
			}
		})
	}
}

func TestNonExemptableMustNameARule(t *testing.T) {
	cfg, err := policy.ParseConfig("c.yaml", []byte("nonExemptable: [ISTIO-NOPE-001]\n"))
	require.NoError(t, err)
	_, err = policy.New(t.Context(), policy.Options{Config: cfg})
	require.ErrorContains(t, err, `nonExemptable: unknown rule "ISTIO-NOPE-001"`)
}
