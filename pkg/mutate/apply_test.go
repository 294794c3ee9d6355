package mutate_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshguard/meshguard/pkg/mutate"
	"github.com/meshguard/meshguard/pkg/policy"
)

// m is a shorthand for the decoded-JSON maps of the tables.
type m = map[string]any

func mutated(ids string) m {
	return m{"annotations": m{mutate.AnnotationMutated: ids}}
}

func TestApply(t *testing.T) {
	const cpuKey = "sidecar.istio.io/proxyCPU"
	proxyCPU := policy.Mutation{Rule: "ISTIO-RES-001", Path: []any{"spec", "template", "metadata", "annotations", cpuKey}, Value: "100m"}
	proxyMemory := policy.Mutation{Rule: "ISTIO-RES-001", Path: []any{"spec", "template", "metadata", "annotations", "sidecar.istio.io/proxyMemory"}, Value: "128Mi"}
	timeout := policy.Mutation{Rule: "ISTIO-TRAFFIC-001", Path: []any{"spec", "http", 0, "timeout"}, Value: "15s"}
	retries := policy.Mutation{Rule: "ISTIO-TRAFFIC-002", Path: []any{"spec", "http", 0, "retries"}, Value: m{"attempts": int64(2), "perTryTimeout": "5s"}}
	strict := policy.Mutation{Rule: "ISTIO-MTLS-001", Path: []any{"spec", "mtls", "mode"}, Value: "STRICT"}
	tests := []struct {
		name    string
		obj     m
		ms      []policy.Mutation
		want    m
		applied []string
		err     string
	}{
		{
			name:    "a missing value is added, with the maps on the way and the mutated annotation",
			obj:     m{"spec": m{}},
			ms:      []policy.Mutation{proxyCPU},
			want:    m{"metadata": mutated("ISTIO-RES-001"), "spec": m{"template": m{"metadata": m{"annotations": m{cpuKey: "100m"}}}}},
			applied: []string{"ISTIO-RES-001"},
		},
		{
			name: "keys with / and ~ (escaped in JSON pointers) are plain map keys",
			obj:  m{"metadata": m{"annotations": m{"a~b/c": "kept"}}},
			ms: []policy.Mutation{
				{Rule: "X-KEYS-001", Path: []any{"metadata", "annotations", cpuKey}, Value: "100m"},
				{Rule: "X-KEYS-001", Path: []any{"metadata", "annotations", "a~b/c"}, Value: "not written"},
				{Rule: "X-KEYS-001", Path: []any{"metadata", "annotations", "~1/~0"}, Value: "x"},
			},
			want:    m{"metadata": m{"annotations": m{"a~b/c": "kept", cpuKey: "100m", "~1/~0": "x", mutate.AnnotationMutated: "X-KEYS-001"}}},
			applied: []string{"X-KEYS-001"},
		},
		{
			name: "an explicit value is never overwritten, even 0s, and nothing is recorded",
			obj:  m{"spec": m{"http": []any{m{"timeout": "0s"}}}},
			ms:   []policy.Mutation{timeout},
			want: m{"spec": m{"http": []any{m{"timeout": "0s"}}}},
		},
		{
			name: "an empty map or a value of another type is a value too: kept, not filled in",
			obj:  m{"spec": m{"http": []any{m{"timeout": int64(0), "retries": m{}}}, "mtls": m{"mode": false}}},
			ms:   []policy.Mutation{strict, timeout, retries},
			want: m{"spec": m{"http": []any{m{"timeout": int64(0), "retries": m{}}}, "mtls": m{"mode": false}}},
		},
		{
			name:    "a null value counts as absent; list elements are addressed by index",
			obj:     m{"spec": m{"http": []any{m{"timeout": nil}}}},
			ms:      []policy.Mutation{timeout},
			want:    m{"metadata": mutated("ISTIO-TRAFFIC-001"), "spec": m{"http": []any{m{"timeout": "15s"}}}},
			applied: []string{"ISTIO-TRAFFIC-001"},
		},
		{
			name:    "null maps and null list elements on the way are created",
			obj:     m{"metadata": nil, "spec": m{"http": []any{nil}, "mtls": nil}},
			ms:      []policy.Mutation{strict, timeout},
			want:    m{"metadata": mutated("ISTIO-MTLS-001,ISTIO-TRAFFIC-001"), "spec": m{"http": []any{m{"timeout": "15s"}}, "mtls": m{"mode": "STRICT"}}},
			applied: []string{"ISTIO-MTLS-001", "ISTIO-TRAFFIC-001"},
		},
		{
			name:    "the annotation merges with the rules recorded before, and other annotations are kept",
			obj:     m{"metadata": m{"annotations": m{mutate.AnnotationMutated: "ISTIO-TRAFFIC-001, ISTIO-MTLS-001", "team": "a"}}, "spec": m{"http": []any{m{}}}},
			ms:      []policy.Mutation{timeout},
			want:    m{"metadata": m{"annotations": m{mutate.AnnotationMutated: "ISTIO-MTLS-001,ISTIO-TRAFFIC-001", "team": "a"}}, "spec": m{"http": []any{m{"timeout": "15s"}}}},
			applied: []string{"ISTIO-TRAFFIC-001"},
		},
		{
			name:    "each rule that changed something is listed once, sorted, whatever the order of the mutations",
			obj:     m{"spec": m{"http": []any{m{}}}},
			ms:      []policy.Mutation{retries, proxyMemory, timeout, proxyCPU},
			want:    m{"metadata": mutated("ISTIO-RES-001,ISTIO-TRAFFIC-001,ISTIO-TRAFFIC-002"), "spec": m{"http": []any{m{"timeout": "15s", "retries": m{"attempts": int64(2), "perTryTimeout": "5s"}}}, "template": m{"metadata": m{"annotations": m{cpuKey: "100m", "sidecar.istio.io/proxyMemory": "128Mi"}}}}},
			applied: []string{"ISTIO-RES-001", "ISTIO-TRAFFIC-001", "ISTIO-TRAFFIC-002"},
		},
		{
			name:    "a rule whose defaults are all there already is not recorded",
			obj:     m{"spec": m{"http": []any{m{"timeout": "10s"}}}},
			ms:      []policy.Mutation{timeout, retries},
			want:    m{"metadata": mutated("ISTIO-TRAFFIC-002"), "spec": m{"http": []any{m{"timeout": "10s", "retries": m{"attempts": int64(2), "perTryTimeout": "5s"}}}}},
			applied: []string{"ISTIO-TRAFFIC-002"},
		},
		{
			name: "without mutations the copy equals the object and no annotation is added",
			obj:  m{"kind": "Pod", "metadata": m{"name": "a"}},
			want: m{"kind": "Pod", "metadata": m{"name": "a"}},
		},
		{
			name:    "a nil object is an empty one",
			ms:      []policy.Mutation{strict},
			want:    m{"metadata": mutated("ISTIO-MTLS-001"), "spec": m{"mtls": m{"mode": "STRICT"}}},
			applied: []string{"ISTIO-MTLS-001"},
		},
		{
			name: "an index out of range is an error naming the rule and the path",
			obj:  m{"spec": m{"http": []any{}}},
			ms:   []policy.Mutation{timeout},
			err:  "applying ISTIO-TRAFFIC-001's default at spec.http[0].timeout: spec.http has no element 0 (it has 0)",
		},
		{
			name: "a scalar on the way is an error, and is not replaced",
			obj:  m{"spec": "oops"},
			ms:   []policy.Mutation{proxyCPU},
			err:  `applying ISTIO-RES-001's default at spec.template.metadata.annotations["sidecar.istio.io/proxyCPU"]: spec is a string, not a map or a list`,
		},
		{
			name: "an index into a map is an error",
			obj:  m{"spec": m{"http": m{"0": m{}}}},
			ms:   []policy.Mutation{timeout},
			err:  "applying ISTIO-TRAFFIC-001's default at spec.http[0].timeout: spec.http is a map, but the path gives index 0",
		},
		{
			name: "a key into a list is an error",
			obj:  m{"spec": []any{}},
			ms:   []policy.Mutation{strict},
			err:  `applying ISTIO-MTLS-001's default at spec.mtls.mode: spec is a list, but the path gives key "mtls"`,
		},
		{
			name: "an empty path is an error",
			ms:   []policy.Mutation{{Rule: "X-EMPTY-001", Value: "x"}},
			err:  "applying X-EMPTY-001's default: the path is empty",
		},
		{
			name: "annotations that are not a map are an error, not replaced by the record",
			obj:  m{"metadata": m{"annotations": "oops"}, "spec": m{}},
			ms:   []policy.Mutation{strict},
			err:  "recording ISTIO-MTLS-001 in the meshguard.io/mutated annotation: metadata.annotations is a string, not a map",
		},
		{
			name: "a mutated annotation that is not a string is an error, not replaced",
			obj:  m{"metadata": m{"annotations": m{mutate.AnnotationMutated: int64(1)}}, "spec": m{}},
			ms:   []policy.Mutation{strict},
			err:  "recording ISTIO-MTLS-001 in the meshguard.io/mutated annotation: its value is a int64, not a string",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := deepJSON(t, tt.obj)
			out, applied, err := mutate.Apply(tt.obj, tt.ms)
			assert.Equal(t, before, deepJSON(t, tt.obj), "the input is never modified")
			if tt.err != "" {
				require.EqualError(t, err, tt.err)
				assert.Nil(t, out)
				assert.Nil(t, applied)
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

// The result shares no map or list with the object or the mutation values:
// changing it afterwards changes neither.
func TestApplyReturnsADeepCopy(t *testing.T) {
	obj := m{"metadata": m{"name": "vs", "annotations": m{"team": "a"}}, "spec": m{"hosts": []any{"a"}, "http": []any{m{"route": []any{m{"destination": m{"host": "a"}}}}}}}
	value := m{"attempts": int64(2), "retryOn": []any{"connect-failure"}}
	ms := []policy.Mutation{{Rule: "ISTIO-TRAFFIC-002", Path: []any{"spec", "http", 0, "retries"}, Value: value}}
	objBefore, valueBefore := deepJSON(t, obj), deepJSON(t, value)

	out, applied, err := mutate.Apply(obj, ms)
	require.NoError(t, err)
	require.Equal(t, []string{"ISTIO-TRAFFIC-002"}, applied)

	md := out["metadata"].(m)
	md["name"] = "changed"
	md["annotations"].(m)["team"] = "changed"
	spec := out["spec"].(m)
	spec["hosts"].([]any)[0] = "changed"
	route := spec["http"].([]any)[0].(m)
	route["route"].([]any)[0].(m)["destination"].(m)["host"] = "changed"
	r := route["retries"].(m)
	r["attempts"] = int64(9)
	r["retryOn"].([]any)[0] = "5xx"

	assert.Equal(t, objBefore, deepJSON(t, obj), "the object is unchanged")
	assert.Equal(t, valueBefore, deepJSON(t, value), "the mutation value is unchanged")
	assert.NotContains(t, obj["metadata"].(m)["annotations"], mutate.AnnotationMutated)
}

func TestObject(t *testing.T) {
	e, err := policy.New(t.Context(), policy.Options{})
	require.NoError(t, err)
	vs := func(ns string) m {
		return m{
			"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
			"metadata": m{"name": "ratings", "namespace": ns},
			"spec":     m{"hosts": []any{"ratings"}, "http": []any{m{"route": []any{m{"destination": m{"host": "ratings"}}}}}},
		}
	}
	tests := []struct {
		name    string
		obj     m
		want    m
		applied []string
	}{
		{
			name: "a route without timeout and retries gets both defaults, recorded by rule",
			obj:  vs("prod"),
			want: m{
				"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
				"metadata": m{"name": "ratings", "namespace": "prod", "annotations": m{mutate.AnnotationMutated: "ISTIO-TRAFFIC-001,ISTIO-TRAFFIC-002"}},
				"spec": m{"hosts": []any{"ratings"}, "http": []any{m{
					"route":   []any{m{"destination": m{"host": "ratings"}}},
					"timeout": "15s",
					"retries": m{"attempts": int64(2), "perTryTimeout": "5s", "retryOn": "connect-failure,refused-stream,unavailable,cancelled"},
				}}},
			},
			applied: []string{"ISTIO-TRAFFIC-001", "ISTIO-TRAFFIC-002"},
		},
		{
			name: "an object in an excluded namespace is left alone",
			obj:  vs("kube-system"),
			want: vs("kube-system"),
		},
		{
			name: "a kind no rule mutates is left alone",
			obj:  m{"apiVersion": "v1", "kind": "ConfigMap", "metadata": m{"name": "c", "namespace": "prod"}},
			want: m{"apiVersion": "v1", "kind": "ConfigMap", "metadata": m{"name": "c", "namespace": "prod"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, applied, err := mutate.Object(t.Context(), e, tt.obj)
			require.NoError(t, err)
			assert.Equal(t, tt.want, out)
			assert.Equal(t, tt.applied, applied)
		})
	}
}
