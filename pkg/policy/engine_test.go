package policy_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshguard/meshguard/pkg/policy"
)

func newEngine(t *testing.T, opts policy.Options) *policy.Engine {
	t.Helper()
	e, err := policy.New(t.Context(), opts)
	require.NoError(t, err)
	return e
}

func peerAuthentication(mode string) map[string]any {
	return map[string]any{
		"apiVersion": "security.istio.io/v1",
		"kind":       "PeerAuthentication",
		"metadata":   map[string]any{"name": "default", "namespace": "payments"},
		"spec":       map[string]any{"mtls": map[string]any{"mode": mode}},
	}
}

func virtualService(timeout string) map[string]any {
	route := map[string]any{"route": []any{map[string]any{"destination": map[string]any{"host": "ratings"}}}}
	if timeout != "" {
		route["timeout"] = timeout
	}
	return map[string]any{
		"apiVersion": "networking.istio.io/v1beta1",
		"kind":       "VirtualService",
		"metadata":   map[string]any{"name": "ratings", "namespace": "prod"},
		"spec":       map[string]any{"hosts": []any{"ratings"}, "http": []any{route}},
	}
}

func rules(fs []policy.Finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = fmt.Sprintf("%s/%s", f.Rule, f.Action)
	}
	return out
}

func TestBuiltinBundleLoads(t *testing.T) {
	e := newEngine(t, policy.Options{})
	assert.Equal(t, "2026.12.0", e.Revision())
	require.NotEmpty(t, e.Rules())
	for _, r := range e.Rules() {
		assert.NotEmpty(t, r.Title, r.ID)
		assert.NotEmpty(t, r.Description, r.ID)
		assert.NotEmpty(t, r.Remediation, r.ID)
		assert.NotEmpty(t, r.Kinds, r.ID)
		assert.Regexp(t, `^\d+\.\d+\.\d+$`, r.Version, r.ID)
		assert.Contains(t, policy.Severities, r.Severity, r.ID)
		for _, k := range r.Kinds {
			assert.True(t, e.Covers(k.GroupKind), "%s: kind %s not indexed", r.ID, k)
			assert.NotEmpty(t, k.Versions, "%s: kind %s lists no served version", r.ID, k)
		}
	}
	assert.True(t, e.Covers(policy.GroupKind{Group: "security.istio.io", Kind: "PeerAuthentication"}))
	assert.False(t, e.Covers(policy.GroupKind{Group: "", Kind: "Secret"}))
}

func TestEvaluateFinding(t *testing.T) {
	e := newEngine(t, policy.Options{})
	fs, err := e.Evaluate(t.Context(), peerAuthentication("DISABLE"))
	require.NoError(t, err)
	require.Len(t, fs, 1)
	f := fs[0]
	assert.Equal(t, "ISTIO-MTLS-001", f.Rule)
	assert.Equal(t, "1.1.0", f.Version)
	assert.Equal(t, "critical", f.Severity, "the finding's severity overrides the rule default")
	assert.Equal(t, policy.ActionDeny, f.Action)
	assert.Equal(t, "spec.mtls.mode", f.Path)
	assert.Equal(t, []any{"spec", "mtls", "mode"}, f.PathParts)
	assert.NotContains(t, f.Message, "ISTIO-MTLS-001:", "the rule id prefix is stripped from the message")
	assert.Contains(t, f.Message, "DISABLE")
	assert.NotEmpty(t, f.Remediation)
	assert.Equal(t, policy.ObjectRef{APIVersion: "security.istio.io/v1", Kind: "PeerAuthentication", Namespace: "payments", Name: "default"}, f.Object)
	assert.Equal(t, e.Revision(), f.Revision)

	fs, err = e.Evaluate(t.Context(), peerAuthentication("STRICT"))
	require.NoError(t, err)
	assert.Empty(t, fs)
}

func TestEvaluateUncoveredKindIsQuick(t *testing.T) {
	e := newEngine(t, policy.Options{})
	fs, err := e.Evaluate(t.Context(), map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "x"}})
	require.NoError(t, err)
	assert.Empty(t, fs)
}

func TestExcludedNamespaces(t *testing.T) {
	pa := peerAuthentication("DISABLE")
	pa["metadata"].(map[string]any)["namespace"] = "kube-system"
	fs, err := newEngine(t, policy.Options{}).Evaluate(t.Context(), pa)
	require.NoError(t, err)
	assert.Empty(t, fs, "kube-system is excluded by default")

	fs, err = newEngine(t, policy.Options{Config: &policy.Config{ExcludeNamespaces: []string{}}}).Evaluate(t.Context(), pa)
	require.NoError(t, err)
	assert.Equal(t, []string{"ISTIO-MTLS-001/deny"}, rules(fs), "an empty exclusion list judges kube-system too")

	// An excluded Namespace object is left alone too, as in the webhook, where
	// the request namespace of a Namespace is its own name.
	ns := map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{
		"name":        "kube-system",
		"annotations": map[string]any{"config.linkerd.io/default-inbound-policy": "all-unauthenticated"},
	}}
	fs, err = newEngine(t, policy.Options{}).Evaluate(t.Context(), ns)
	require.NoError(t, err)
	assert.Empty(t, fs, "the kube-system Namespace is excluded by default")
	fs, err = newEngine(t, policy.Options{Config: &policy.Config{ExcludeNamespaces: []string{}}}).Evaluate(t.Context(), ns)
	require.NoError(t, err)
	assert.Equal(t, []string{"LINKERD-AUTHZ-001/deny"}, rules(fs), "an empty exclusion list judges the kube-system Namespace too")
}

// Rules that judge Namespace objects (whose own namespace is "") see the
// excluded namespaces as engine.excludedNamespaces: LINKERD-INJ-001 leaves an
// unmeshed excluded Namespace alone in a cluster that runs Linkerd.
func TestExcludedNamespacesReachThePolicies(t *testing.T) {
	ns := func(name string) map[string]any {
		return map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": name}}
	}
	inventory := map[string]any{"namespaces": map[string]any{"linkerd": ns("linkerd")}, "objects": map[string]any{}}
	judge := func(cfg *policy.Config, name string) []string {
		e := newEngine(t, policy.Options{Config: cfg})
		require.NoError(t, e.SetInventory(t.Context(), inventory))
		fs, err := e.Evaluate(t.Context(), ns(name))
		require.NoError(t, err)
		return rules(fs)
	}
	assert.Equal(t, []string{"LINKERD-INJ-001/warn"}, judge(nil, "tools"))
	assert.Empty(t, judge(nil, "kube-system"), "kube-system is excluded by default")
	assert.Empty(t, judge(&policy.Config{ExcludeNamespaces: []string{"tools"}}, "tools"))
	assert.Equal(t, []string{"LINKERD-INJ-001/warn"}, judge(&policy.Config{ExcludeNamespaces: []string{"tools"}}, "kube-system"))
}

func TestAdmissionReviewInputGivesTheSameVerdict(t *testing.T) {
	e := newEngine(t, policy.Options{})
	obj := peerAuthentication("PERMISSIVE")
	direct, err := e.Evaluate(t.Context(), obj)
	require.NoError(t, err)

	review := map[string]any{
		"apiVersion": "admission.k8s.io/v1",
		"kind":       "AdmissionReview",
		"request":    map[string]any{"uid": "1", "operation": "CREATE", "object": obj},
	}
	v, err := ast.InterfaceToValue(review)
	require.NoError(t, err)
	viaReview, err := e.EvaluateInput(t.Context(), policy.RefOf(obj), policy.OpCreate, v)
	require.NoError(t, err)
	assert.Equal(t, direct, viaReview)
	require.Len(t, direct, 1)
}

func TestConfigParamsChangeTheVerdict(t *testing.T) {
	vs := virtualService("45s")
	fs, err := newEngine(t, policy.Options{}).Evaluate(t.Context(), vs)
	require.NoError(t, err)
	assert.Empty(t, fs, "45s is under the default maximum of 60s")

	cfg, err := policy.ParseConfig("test.yaml", []byte("params:\n  route:\n    maxTimeout: 30s\n"))
	require.NoError(t, err)
	e := newEngine(t, policy.Options{Config: cfg})
	fs, err = e.Evaluate(t.Context(), vs)
	require.NoError(t, err)
	assert.Equal(t, []string{"ISTIO-TRAFFIC-001/deny"}, rules(fs))
	assert.Contains(t, fs[0].Message, "above the maximum 30s")

	route := e.Params()["route"].(map[string]any)
	assert.Equal(t, "30s", route["maxTimeout"], "the override wins")
	assert.Equal(t, "15s", route["defaultTimeout"], "the other defaults stay")
}

// Istio parameters come from several files of policies/lib/config; an
// override of one of them changes the verdict and keeps the others.
func TestConfigIstioParamsFromSeveralFiles(t *testing.T) {
	ef := map[string]any{"apiVersion": "networking.istio.io/v1alpha3", "kind": "EnvoyFilter", "metadata": map[string]any{"name": "f", "namespace": "mesh-filters"},
		"spec": map[string]any{"workloadSelector": map[string]any{"labels": map[string]any{"app": "x"}}}}
	fs, err := newEngine(t, policy.Options{}).Evaluate(t.Context(), ef)
	require.NoError(t, err)
	assert.Equal(t, []string{"ISTIO-EXT-001/deny"}, rules(fs), "only the root namespace by default")

	cfg, err := policy.ParseConfig("test.yaml", []byte("params:\n  istio:\n    allowedEnvoyFilterNamespaces: [mesh-filters]\n"))
	require.NoError(t, err)
	e := newEngine(t, policy.Options{Config: cfg})
	fs, err = e.Evaluate(t.Context(), ef)
	require.NoError(t, err)
	assert.Empty(t, fs)
	istio := e.Params()["istio"].(map[string]any)
	assert.Equal(t, "istio-system", istio["rootNamespace"], "the keys of config.rego stay")
	assert.Equal(t, false, istio["holdApplicationUntilProxyStarts"], "the other keys of istio.rego stay")
}

func TestConfigEnforcementOverridesTheAction(t *testing.T) {
	cfg := &policy.Config{Enforcement: map[string]policy.Action{"ISTIO-TRAFFIC-001": policy.ActionWarn}}
	fs, err := newEngine(t, policy.Options{Config: cfg}).Evaluate(t.Context(), virtualService(""))
	require.NoError(t, err)
	assert.Equal(t, []string{"ISTIO-TRAFFIC-001/warn"}, rules(fs))
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name, config, want string
	}{
		{"an unknown top-level key is an error", "parms: {}\n", `unknown field "parms"`},
		{"an unknown parameter is an error that lists the known ones", "params:\n  route:\n    maxTimout: 30s\n", "params.route.maxTimout is not a known parameter (known: defaultTimeout, maxTimeout)"},
		{"a parameter of the wrong shape is an error", "params:\n  route: 30s\n", "params.route has the wrong type: want an object"},
		{"a number where a duration string is expected is an error", "params:\n  route: {defaultTimeout: 15}\n", "params.route.defaultTimeout has the wrong type: want a string, got a number"},
		{"a string where a number is expected is an error", "params:\n  retry: {maxAttempts: \"3\"}\n", "params.retry.maxAttempts has the wrong type: want a number, got a string"},
		{"a scalar where a list is expected is an error", "params:\n  retry: {safeConditions: reset}\n", "params.retry.safeConditions has the wrong type: want a list, got a string"},
		{"a string where a boolean is expected is an error", "params:\n  istio: {holdApplicationUntilProxyStarts: \"yes\"}\n", "params.istio.holdApplicationUntilProxyStarts has the wrong type: want a boolean, got a string"},
		{"an unknown Istio parameter lists the keys of every Istio file", "params:\n  istio: {allowedEnvoyFilterNamespace: [x]}\n", "params.istio.allowedEnvoyFilterNamespace is not a known parameter (known: allowedEnvoyFilterNamespaces, broadWildcardDomains, holdApplicationUntilProxyStarts, meshDomain, publicGatewaySelectors, rootNamespace)"},
		{"a Linkerd parameter of the wrong type is an error", "params:\n  linkerd: {proxyUID: \"2102\"}\n", "params.linkerd.proxyUID has the wrong type: want a number, got a string"},
		{"an unknown Linkerd parameter is an error", "params:\n  linkerd: {egressNamspace: egress}\n", "params.linkerd.egressNamspace is not a known parameter (known: allowedDefaultInboundPolicies, allowedSkipPorts, defaultOpaquePorts, egressNamespace, namespace, proxyCPURequest, proxyMemoryLimit, proxyMemoryRequest, proxyUID)"},
		{"an unknown nested parameter of a family file is an error", "params:\n  consul: {sidecarProxy: {cpu: 100m}}\n", "params.consul.sidecarProxy.cpu is not a known parameter (known: cpuLimit, cpuRequest, memoryLimit, memoryRequest)"},
		{"a scalar where a list of gateway classes is expected is an error", "params:\n  gwapi: {internalGatewayClasses: internal}\n", "params.gwapi.internalGatewayClasses has the wrong type: want a list, got a string"},
		{"enforcement of an unknown rule is an error", "enforcement:\n  ISTIO-NOPE-001: warn\n", `enforcement: unknown rule "ISTIO-NOPE-001"`},
		{"an unknown action is an error", "enforcement:\n  ISTIO-MTLS-001: block\n", `action "block" is not one of deny, warn, audit`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := policy.ParseConfig("meshguard.yaml", []byte(tt.config))
			if err == nil {
				_, err = policy.New(t.Context(), policy.Options{Config: cfg})
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func writePolicy(t *testing.T, dir, name, src string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644))
}

const teamRule = `# METADATA
# title: ConfigMaps need an owner label
# description: Every ConfigMap names its owning team.
# custom:
#   id: TEAM-OWNER-001
#   version: 0.1.0
#   severity: low
#   action: warn
#   kinds:
#   - {group: "", kind: ConfigMap, versions: [v1]}
#   remediation: Add the label team.
package team.owner

warn contains {"msg": "TEAM-OWNER-001: no team label", "path": ["metadata", "labels"]} if {
	input.kind == "ConfigMap"
	not input.metadata.labels.team
}
`

func TestUserPoliciesBesideTheBuiltinBundle(t *testing.T) {
	dir := t.TempDir()
	writePolicy(t, dir, "owner/policy.rego", teamRule)
	writePolicy(t, dir, "owner/policy_test.rego", "package team.owner_test\n\ntest_nothing if true\n")
	e := newEngine(t, policy.Options{Dirs: []string{dir}})
	_, ok := e.Rule("TEAM-OWNER-001")
	assert.True(t, ok)
	_, ok = e.Rule("ISTIO-MTLS-001")
	assert.True(t, ok, "the built-in rules are still there")
	assert.Regexp(t, `^2026\.12\.0\+`+filepath.Base(dir)+`@sha256:[0-9a-f]{12}$`, e.Revision())

	fs, err := e.Evaluate(t.Context(), map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "x", "namespace": "a"}})
	require.NoError(t, err)
	require.Len(t, fs, 1)
	assert.Equal(t, "TEAM-OWNER-001", fs[0].Rule)
	assert.Equal(t, policy.ActionWarn, fs[0].Action)
	assert.Equal(t, "no team label", fs[0].Message)
	assert.Equal(t, "metadata.labels", fs[0].Path)

	only := newEngine(t, policy.Options{Dirs: []string{dir}, NoBuiltin: true})
	assert.Len(t, only.Rules(), 1)
}

// A ConfigMap mounted as a volume holds its files in a timestamped
// directory, with symlinks in the directory itself: each policy loads once.
func TestPoliciesFromAMountedConfigMapLoadOnce(t *testing.T) {
	dir := t.TempDir()
	data := "..2026_12_01_08_00_00.000000001"
	writePolicy(t, dir, data+"/team.rego", teamRule)
	require.NoError(t, os.Symlink(data, filepath.Join(dir, "..data")))
	require.NoError(t, os.Symlink(filepath.Join("..data", "team.rego"), filepath.Join(dir, "team.rego")))
	e := newEngine(t, policy.Options{Dirs: []string{dir}, NoBuiltin: true})
	require.Len(t, e.Rules(), 1)
	assert.Equal(t, "TEAM-OWNER-001", e.Rules()[0].ID)
}

func TestBadPoliciesFailToLoadWithAClearError(t *testing.T) {
	meta := func(id string) string {
		return "# METADATA\n# title: T\n# custom:\n#   id: " + id + "\n#   version: 1.0.0\n#   severity: low\n#   action: deny\n#   kinds: [{group: \"\", kind: Pod}]\n"
	}
	tests := []struct {
		name, src, want string
	}{
		{"http.send is removed", meta("X-NET-001") + "package x\n\ndeny contains \"x\" if http.send({\"method\": \"GET\", \"url\": \"http://x\"})\n", "undefined function http.send (meshguard removes http.send: policies may not use the network or the host)"},
		{"net.lookup_ip_addr is removed", meta("X-NET-002") + "package x\n\ndeny contains \"x\" if net.lookup_ip_addr(\"example.com\")\n", "meshguard removes net.lookup_ip_addr"},
		{"opa.runtime is removed", meta("X-NET-003") + "package x\n\ndeny contains \"x\" if opa.runtime().env\n", "meshguard removes opa.runtime"},
		{"deny without METADATA", "package x\n\ndeny contains \"x\" if input.kind == \"Pod\"\n", "data.x defines deny, warn or mutate but has no package METADATA with custom.id"},
		{"a bad severity", "# METADATA\n# title: T\n# custom:\n#   id: X-A-001\n#   version: 1.0.0\n#   severity: huge\n#   action: deny\n#   kinds: [{group: \"\", kind: Pod}]\npackage x\n\ndeny contains \"x\" if true\n", `custom.severity "huge" is not one of`},
		{"no kinds", "# METADATA\n# title: T\n# custom:\n#   id: X-A-001\n#   version: 1.0.0\n#   severity: low\n#   action: deny\npackage x\n\ndeny contains \"x\" if true\n", "custom.kinds is missing or empty"},
		{"a duplicate id", meta("ISTIO-MTLS-001") + "package x\n\ndeny contains \"x\" if true\n", "rule id ISTIO-MTLS-001 is used by both"},
		{"an unknown operation", "# METADATA\n# title: T\n# custom:\n#   id: X-A-001\n#   version: 1.0.0\n#   severity: low\n#   action: deny\n#   operations: [CREATE, PATCH]\n#   kinds: [{group: \"\", kind: Pod}]\npackage x\n\ndeny contains \"x\" if true\n", "custom.operations: PATCH is not one of CREATE, UPDATE, DELETE"},
		{"a syntax error names the file", "package x\n\ndeny contains if {\n", "policy.rego:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writePolicy(t, dir, "policy.rego", tt.src)
			_, err := policy.New(t.Context(), policy.Options{Dirs: []string{dir}})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestMissingPolicyDirectory(t *testing.T) {
	_, err := policy.New(t.Context(), policy.Options{Dirs: []string{filepath.Join(t.TempDir(), "nope")}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nope")
}

func TestBuiltinFromAnotherFS(t *testing.T) {
	fsys := fstest.MapFS{
		".manifest":     {Data: []byte(`{"revision": "test-1"}`)},
		"p/p.rego":      {Data: []byte(teamRule)},
		"p/x_test.rego": {Data: []byte("not rego at all")},
	}
	e := newEngine(t, policy.Options{Builtin: fsys})
	assert.Equal(t, "test-1", e.Revision())
	assert.Len(t, e.Rules(), 1)
}

func TestConcurrentEvaluation(t *testing.T) {
	e := newEngine(t, policy.Options{})
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 64 {
		wg.Go(func() {
			mode := []string{"STRICT", "PERMISSIVE", "DISABLE"}[i%3]
			fs, err := e.Evaluate(context.Background(), peerAuthentication(mode))
			if err != nil {
				errs <- err
				return
			}
			if want := map[string]int{"STRICT": 0, "PERMISSIVE": 1, "DISABLE": 1}[mode]; len(fs) != want {
				errs <- fmt.Errorf("%s: %d findings, want %d", mode, len(fs), want)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestInventoryFeedsCrossObjectRules(t *testing.T) {
	e := newEngine(t, policy.Options{})
	deploy := map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "api", "namespace": "shop"},
		"spec": map[string]any{"template": map[string]any{
			"metadata": map[string]any{"labels": map[string]any{"sidecar.istio.io/inject": "false"}},
			"spec":     map[string]any{"containers": []any{map[string]any{"name": "api", "image": "api:1"}}},
		}},
	}
	fs, err := e.Evaluate(t.Context(), deploy)
	require.NoError(t, err)
	assert.Empty(t, fs, "without the Namespace, nothing says the namespace is meshed")

	require.NoError(t, e.SetInventory(t.Context(), map[string]any{
		"namespaces": map[string]any{"shop": map[string]any{
			"apiVersion": "v1", "kind": "Namespace",
			"metadata": map[string]any{"name": "shop", "labels": map[string]any{"istio-injection": "enabled"}},
		}},
		"objects": map[string]any{},
	}))
	fs, err = e.Evaluate(t.Context(), deploy)
	require.NoError(t, err)
	assert.Equal(t, []string{"ISTIO-INJ-001/deny"}, rules(fs))
}

func TestPathFormatting(t *testing.T) {
	tests := []struct {
		parts []any
		want  string
	}{
		{[]any{"spec", "http", 0, "timeout"}, "spec.http[0].timeout"},
		{[]any{"spec", "template", "metadata", "annotations", "sidecar.istio.io/proxyCPU"}, `spec.template.metadata.annotations["sidecar.istio.io/proxyCPU"]`},
		{[]any{"spec", "portLevelMtls", "8080", "mode"}, `spec.portLevelMtls["8080"].mode`},
		{[]any{"spec", "rules", 2}, "spec.rules[2]"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, policy.FormatPath(tt.parts))
		assert.Equal(t, tt.parts, policy.ParsePath(tt.want), "ParsePath(%s)", tt.want)
	}
}

func ExampleEngine() {
	ctx := context.Background()
	engine, err := policy.New(ctx, policy.Options{}) // the built-in bundle
	if err != nil {
		panic(err)
	}
	findings, err := engine.Evaluate(ctx, map[string]any{
		"apiVersion": "security.istio.io/v1",
		"kind":       "PeerAuthentication",
		"metadata":   map[string]any{"name": "default", "namespace": "payments"},
		"spec":       map[string]any{"mtls": map[string]any{"mode": "PERMISSIVE"}},
	})
	if err != nil {
		panic(err)
	}
	for _, f := range findings {
		fmt.Println(f.Rule, f.Action, f.Severity, f.Path)
	}
	// Output: ISTIO-MTLS-001 deny high spec.mtls.mode
}

// A rule judges the operations in its METADATA (CREATE and UPDATE when it
// lists none); a rule with `mutate` lists the defaults an object lacks.
func TestOperationsAndMutations(t *testing.T) {
	dir := t.TempDir()
	writePolicy(t, dir, "protect.rego", `# METADATA
# title: Keep managed objects
# custom:
#   id: X-KEEP-001
#   version: 1.0.0
#   severity: high
#   action: deny
#   operations: [DELETE]
#   kinds: [{group: "", kind: ConfigMap}]
package x.keep

deny contains "managed" if input.metadata.labels.managed == "yes"
`)
	writePolicy(t, dir, "label.rego", `# METADATA
# title: Team label
# custom:
#   id: X-TEAM-001
#   version: 1.2.0
#   severity: low
#   action: warn
#   kinds: [{group: "", kind: ConfigMap}]
package x.team

warn contains "no team" if not input.metadata.labels.team

mutate contains {"path": ["metadata", "labels", "team"], "value": "platform"} if not input.metadata.labels.team

mutate contains {"path": ["data", "n"], "value": 3} if not input.data.n

bad contains 1 if false
`)
	e := newEngine(t, policy.Options{Dirs: []string{dir}, NoBuiltin: true})
	keep, ok := e.Rule("X-KEEP-001")
	require.True(t, ok)
	assert.Equal(t, []string{"DELETE"}, keep.Operations)
	assert.False(t, keep.Mutates)
	team, _ := e.Rule("X-TEAM-001")
	assert.Equal(t, policy.DefaultOperations, team.Operations)
	assert.True(t, team.Mutates)

	cm := policy.GroupKind{Kind: "ConfigMap"}
	assert.True(t, e.CoversOp(cm, policy.OpCreate))
	assert.True(t, e.CoversOp(cm, policy.OpDelete))
	assert.True(t, e.Mutates(cm))
	assert.False(t, e.Mutates(policy.GroupKind{Kind: "Pod"}))

	obj := map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "c", "namespace": "a", "labels": map[string]any{"managed": "yes"}}}
	v, err := ast.InterfaceToValue(obj)
	require.NoError(t, err)
	onCreate, err := e.EvaluateInput(t.Context(), policy.RefOf(obj), policy.OpCreate, v)
	require.NoError(t, err)
	require.Len(t, onCreate, 1)
	assert.Equal(t, "X-TEAM-001", onCreate[0].Rule, "the DELETE rule does not judge CREATE")
	onDelete, err := e.EvaluateInput(t.Context(), policy.RefOf(obj), policy.OpDelete, v)
	require.NoError(t, err)
	require.Len(t, onDelete, 1)
	assert.Equal(t, "X-KEEP-001", onDelete[0].Rule, "only the DELETE rule judges DELETE")

	ms, err := e.Mutations(t.Context(), obj)
	require.NoError(t, err)
	assert.Equal(t, []policy.Mutation{
		{Rule: "X-TEAM-001", Version: "1.2.0", Path: []any{"data", "n"}, Value: int64(3)},
		{Rule: "X-TEAM-001", Version: "1.2.0", Path: []any{"metadata", "labels", "team"}, Value: "platform"},
	}, ms)

	excluded := map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "c", "namespace": "kube-system"}}
	ms, err = e.Mutations(t.Context(), excluded)
	require.NoError(t, err)
	assert.Empty(t, ms, "excluded namespaces are not mutated")
}

func TestMalformedMutationIsAnError(t *testing.T) {
	dir := t.TempDir()
	writePolicy(t, dir, "m.rego", `# METADATA
# title: T
# custom:
#   id: X-MUT-001
#   version: 1.0.0
#   severity: low
#   action: warn
#   kinds: [{group: "", kind: ConfigMap}]
package x.m

warn contains "w" if false

mutate contains {"value": 1} if true
`)
	e := newEngine(t, policy.Options{Dirs: []string{dir}, NoBuiltin: true})
	_, err := e.Mutations(t.Context(), map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "c"}})
	var ee *policy.EvalError
	require.ErrorAs(t, err, &ee)
	assert.Contains(t, err.Error(), "data.x.m.mutate returned a mutation without a path array")
}

// The webhook keeps the inventory current one object at a time; a Namespace
// put there decides whether a Deployment gets a sidecar, and deleting it
// takes that back.
func TestPutAndDeleteInventory(t *testing.T) {
	e := newEngine(t, policy.Options{})
	deploy := map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": "web", "namespace": "shop"},
		"spec": map[string]any{"template": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"name": "web"}}}}}}
	rules := func() []string {
		fs, err := e.Evaluate(t.Context(), deploy)
		require.NoError(t, err)
		var ids []string
		for _, f := range fs {
			ids = append(ids, f.Rule)
		}
		return ids
	}
	assert.NotContains(t, rules(), "ISTIO-RES-001")
	ns := map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "shop", "labels": map[string]any{"istio-injection": "enabled"}}}
	require.NoError(t, e.PutInventory(t.Context(), []string{"namespaces", "shop"}, ns))
	assert.Contains(t, rules(), "ISTIO-RES-001")
	require.NoError(t, e.PutInventory(t.Context(), []string{"objects", "PeerAuthentication.security.istio.io", "shop", "default"}, map[string]any{"spec": map[string]any{}}))
	require.NoError(t, e.DeleteInventory(t.Context(), []string{"namespaces", "shop"}))
	assert.NotContains(t, rules(), "ISTIO-RES-001")
	require.NoError(t, e.DeleteInventory(t.Context(), []string{"namespaces", "never-there"}), "deleting a missing object is not an error")
}

// Without a cluster, an UNSET PeerAuthentication is not judged by parents the
// engine cannot see.
func TestNoInventorySilencesInheritance(t *testing.T) {
	pa := map[string]any{"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication", "metadata": map[string]any{"name": "default", "namespace": "shop"}, "spec": map[string]any{}}
	with := newEngine(t, policy.Options{})
	fs, err := with.Evaluate(t.Context(), pa)
	require.NoError(t, err)
	require.Len(t, fs, 1)
	assert.Equal(t, policy.ActionWarn, fs[0].Action)
	without := newEngine(t, policy.Options{NoInventory: true})
	fs, err = without.Evaluate(t.Context(), pa)
	require.NoError(t, err)
	assert.Empty(t, fs)
}

// configMapVolume lays dir out as the kubelet does for a ConfigMap volume:
// the files in a "..<timestamp>" directory, a "..data" symlink to it and one
// symlink per file through "..data"; update swaps "..data" atomically.
func configMapVolume(t *testing.T, dir, stamp string, files map[string]string) {
	t.Helper()
	ts := filepath.Join(dir, "..2026_12_01_"+stamp)
	require.NoError(t, os.MkdirAll(ts, 0o755))
	for name, body := range files {
		require.NoError(t, os.WriteFile(filepath.Join(ts, name), []byte(body), 0o600))
		if _, err := os.Lstat(filepath.Join(dir, name)); err != nil {
			require.NoError(t, os.Symlink(filepath.Join("..data", name), filepath.Join(dir, name)))
		}
	}
	tmp := filepath.Join(dir, "..data_tmp")
	require.NoError(t, os.Symlink(filepath.Base(ts), tmp))
	require.NoError(t, os.Rename(tmp, filepath.Join(dir, "..data")))
}

// A ConfigMap volume's files are loaded once (through the symlinks), not a
// second time from the kubelet's timestamped directory, and Digest follows
// the "..data" swap.
func TestConfigMapVolumeLoadsOnceAndDigestFollowsTheSwap(t *testing.T) {
	dir := t.TempDir()
	configMapVolume(t, dir, "1", map[string]string{"policy.rego": teamRule})
	e := newEngine(t, policy.Options{Dirs: []string{dir}, NoBuiltin: true})
	assert.Len(t, e.Rules(), 1)

	d1, err := policy.Digest([]string{dir}, "")
	require.NoError(t, err)
	again, err := policy.Digest([]string{dir}, "")
	require.NoError(t, err)
	assert.Equal(t, d1, again, "the digest is stable")

	configMapVolume(t, dir, "2", map[string]string{"policy.rego": strings.Replace(teamRule, "no team label", "no team label at all", 1)})
	d2, err := policy.Digest([]string{dir}, "")
	require.NoError(t, err)
	assert.NotEqual(t, d1, d2, "the swap of ..data changes the digest")

	cfg := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte("excludeNamespaces: [a]\n"), 0o600))
	d3, err := policy.Digest([]string{dir}, cfg)
	require.NoError(t, err)
	assert.NotEqual(t, d2, d3, "the config file counts")

	_, err = policy.Digest([]string{dir}, filepath.Join(dir, "missing.yaml"))
	require.ErrorContains(t, err, "missing.yaml")
	_, err = policy.Digest([]string{filepath.Join(dir, "gone")}, "")
	require.ErrorContains(t, err, "gone")
}
