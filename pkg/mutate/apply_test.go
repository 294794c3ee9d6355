package mutate_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshguard/meshguard/pkg/mutate"
	"github.com/meshguard/meshguard/pkg/policy"
)

func TestApply(t *testing.T) {
	proxyCPU := policy.Mutation{Rule: "ISTIO-RES-001", Path: []any{"spec", "template", "metadata", "annotations", "sidecar.istio.io/proxyCPU"}, Value: "100m"}
	timeout := policy.Mutation{Rule: "ISTIO-TRAFFIC-001", Path: []any{"spec", "http", 0, "timeout"}, Value: "15s"}
	tests := []struct {
		name    string
		obj     map[string]any
		ms      []policy.Mutation
		want    map[string]any
		applied []string
		err     string
	}{
		{
			name:    "a missing value is added, with the maps on the way and the mutated annotation",
			obj:     map[string]any{"spec": map[string]any{}},
			ms:      []policy.Mutation{proxyCPU},
			want:    map[string]any{"metadata": map[string]any{"annotations": map[string]any{mutate.AnnotationMutated: "ISTIO-RES-001"}}, "spec": map[string]any{"template": map[string]any{"metadata": map[string]any{"annotations": map[string]any{"sidecar.istio.io/proxyCPU": "100m"}}}}},
			applied: []string{"ISTIO-RES-001"},
		},
		{
			name: "an explicit value is never overwritten, and nothing is recorded",
			obj:  map[string]any{"spec": map[string]any{"http": []any{map[string]any{"timeout": "0s"}}}},
			ms:   []policy.Mutation{timeout},
			want: map[string]any{"spec": map[string]any{"http": []any{map[string]any{"timeout": "0s"}}}},
		},
		{
			name:    "a null value counts as absent; list elements are addressed by index",
			obj:     map[string]any{"spec": map[string]any{"http": []any{map[string]any{"timeout": nil}}}},
			ms:      []policy.Mutation{timeout},
			want:    map[string]any{"metadata": map[string]any{"annotations": map[string]any{mutate.AnnotationMutated: "ISTIO-TRAFFIC-001"}}, "spec": map[string]any{"http": []any{map[string]any{"timeout": "15s"}}}},
			applied: []string{"ISTIO-TRAFFIC-001"},
		},
		{
			name:    "the annotation merges with the rules recorded before",
			obj:     map[string]any{"metadata": map[string]any{"annotations": map[string]any{mutate.AnnotationMutated: "ISTIO-MTLS-001"}}, "spec": map[string]any{"http": []any{map[string]any{}}}},
			ms:      []policy.Mutation{timeout},
			want:    map[string]any{"metadata": map[string]any{"annotations": map[string]any{mutate.AnnotationMutated: "ISTIO-MTLS-001,ISTIO-TRAFFIC-001"}}, "spec": map[string]any{"http": []any{map[string]any{"timeout": "15s"}}}},
			applied: []string{"ISTIO-TRAFFIC-001"},
		},
		{
			name: "an index out of range is an error naming the rule and path",
			obj:  map[string]any{"spec": map[string]any{"http": []any{}}},
			ms:   []policy.Mutation{timeout},
			err:  "applying ISTIO-TRAFFIC-001's default at spec.http[0].timeout: spec.http has no element 0",
		},
		{
			name: "a scalar on the way is an error",
			obj:  map[string]any{"spec": "oops"},
			ms:   []policy.Mutation{proxyCPU},
			err:  "spec is a string, not a map or a list",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := deepJSON(t, tt.obj)
			out, applied, err := mutate.Apply(tt.obj, tt.ms)
			assert.Equal(t, before, deepJSON(t, tt.obj), "the input is never modified")
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, out)
			assert.Equal(t, tt.applied, applied)
			again, appliedAgain, err := mutate.Apply(out, tt.ms)
			require.NoError(t, err)
			assert.Empty(t, appliedAgain, "a second pass changes nothing")
			assert.Equal(t, out, again)
		})
	}
}
