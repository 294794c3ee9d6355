package policies_test

import (
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/stretchr/testify/require"

	"github.com/meshguard/meshguard/pkg/check"
	"github.com/meshguard/meshguard/pkg/inventory"
	"github.com/meshguard/meshguard/pkg/manifest"
	"github.com/meshguard/meshguard/pkg/policy"
	"github.com/meshguard/meshguard/pkg/report"
)

// judge runs a fixture file through the engine. Plain objects go through
// check.Run, as `meshguard check` judges them. A file that holds
// AdmissionReviews (for rules that judge UPDATE or DELETE, which offline
// checks never see) is judged the way the webhook does: each review with its
// operation, with the file's other objects (e.g. the Namespace) as the
// inventory.
func judge(t *testing.T, e *policy.Engine, path string) *report.Report {
	t.Helper()
	f := manifest.ReadFile(path, nil)
	require.Empty(t, f.Errors, "%s must parse", path)
	reviews := false
	for _, d := range f.Docs {
		reviews = reviews || d.Object["kind"] == "AdmissionReview"
	}
	if !reviews {
		r, err := check.Run(t.Context(), e, []string{path}, check.Options{})
		require.NoError(t, err)
		return r
	}
	inv := inventory.New()
	for _, d := range f.Docs {
		if d.Object["kind"] != "AdmissionReview" {
			inv.Add(d.Object)
		}
	}
	require.NoError(t, e.SetInventory(t.Context(), inv.Document()))
	defer func() { require.NoError(t, e.SetInventory(t.Context(), nil)) }()
	r := &report.Report{}
	for _, d := range f.Docs {
		if d.Object["kind"] != "AdmissionReview" {
			r.Results = append(r.Results, report.Result{File: d.File, Line: d.Line, Object: policy.RefOf(d.Object)})
			continue
		}
		req, _ := d.Object["request"].(map[string]any)
		require.NotNil(t, req, "%s:%d: an AdmissionReview without a request", d.File, d.Line)
		op, _ := req["operation"].(string)
		obj, _ := req["object"].(map[string]any)
		if op == policy.OpDelete {
			obj, _ = req["oldObject"].(map[string]any)
		}
		require.NotNil(t, obj, "%s:%d: the review has no object to judge", d.File, d.Line)
		ref := policy.RefOf(obj)
		v, err := ast.InterfaceToValue(d.Object)
		require.NoError(t, err)
		fs, err := e.EvaluateInput(t.Context(), ref, op, v)
		require.NoError(t, err)
		field := "object"
		if op == policy.OpDelete {
			field = "oldObject"
		}
		for i := range fs {
			if fs[i].PathParts != nil {
				fs[i].Line = d.LineOf(append([]any{"request", field}, fs[i].PathParts...))
			}
		}
		r.Results = append(r.Results, report.Result{File: d.File, Line: d.Line, Object: ref, Findings: fs})
	}
	r.Tally()
	return r
}
