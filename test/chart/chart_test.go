package chart_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/meshguard/meshguard/internal/testenv"
	"github.com/meshguard/meshguard/internal/webhookcmd"
	"github.com/meshguard/meshguard/pkg/defaults"
	"github.com/meshguard/meshguard/pkg/inventory"
	"github.com/meshguard/meshguard/pkg/manifest"
	"github.com/meshguard/meshguard/pkg/policy"
	"github.com/meshguard/meshguard/pkg/server"
	"github.com/meshguard/meshguard/test/chart"
)

const ns = "meshguard-system"

func render(t *testing.T, values string) []chart.Object {
	t.Helper()
	objs, err := chart.Render("meshguard", ns, values)
	require.NoError(t, err)
	return objs
}

func one[T any](t *testing.T, objs []chart.Object, kind string) T {
	t.Helper()
	found := chart.Find(objs, kind)
	require.Len(t, found, 1, "one %s", kind)
	v, ok := found[0].Value.(T)
	require.True(t, ok, "%s decodes to %T", kind, found[0].Value)
	return v
}

func TestHelmLintPassesForDefaultAndNonDefaultValues(t *testing.T) {
	dir, err := chart.Dir()
	require.NoError(t, err)
	for name, values := range map[string]string{"default values": "", "non-default values": nonDefault} {
		t.Run(name, func(t *testing.T) {
			var vals map[string]any
			require.NoError(t, yaml.Unmarshal([]byte(values), &vals))
			kv, err := chartutil.ParseKubeVersion("v1.36.0")
			require.NoError(t, err)
			l := lint.AllWithKubeVersion(dir, vals, ns, kv)
			for _, m := range l.Messages {
				assert.Less(t, m.Severity, support.WarningSev, "helm lint: %s", m.Error())
			}
		})
	}
}

func TestDefaultValuesRenderEveryObjectStrictly(t *testing.T) {
	objs := render(t, "")
	var kinds []string
	for _, o := range objs {
		kinds = append(kinds, o.Kind)
	}
	sort.Strings(kinds)
	assert.Equal(t, []string{
		"Certificate", "Certificate", "ClusterRole", "ClusterRoleBinding", "ConfigMap", "Deployment",
		"Issuer", "Issuer", "MutatingWebhookConfiguration", "PodDisruptionBudget", "Role", "RoleBinding",
		"Service", "ServiceAccount", "ValidatingWebhookConfiguration",
	}, kinds, "the default install")

	d := one[*appsv1.Deployment](t, objs, "Deployment")
	require.NotNil(t, d.Spec.Replicas)
	assert.EqualValues(t, 3, *d.Spec.Replicas)
	pod := d.Spec.Template.Spec
	require.NotNil(t, pod.SecurityContext.RunAsNonRoot)
	assert.True(t, *pod.SecurityContext.RunAsNonRoot)
	require.NotNil(t, pod.SecurityContext.SeccompProfile)
	assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, pod.SecurityContext.SeccompProfile.Type)
	require.NotNil(t, pod.Affinity, "pod anti-affinity by default")
	require.NotNil(t, pod.Affinity.PodAntiAffinity)
	require.Len(t, pod.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution, 1)
	assert.Equal(t, "kubernetes.io/hostname", pod.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].PodAffinityTerm.TopologyKey)
	assert.Empty(t, pod.PriorityClassName)
	require.Len(t, pod.Containers, 1)
	c := pod.Containers[0]
	sc := c.SecurityContext
	require.NotNil(t, sc)
	assert.True(t, *sc.ReadOnlyRootFilesystem)
	assert.True(t, *sc.RunAsNonRoot)
	assert.False(t, *sc.AllowPrivilegeEscalation)
	assert.Equal(t, []corev1.Capability{"ALL"}, sc.Capabilities.Drop)
	assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, sc.SeccompProfile.Type)
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		assert.Contains(t, c.Resources.Requests, r)
		assert.Contains(t, c.Resources.Limits, r)
	}
	for name, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		require.NotNil(t, p, name)
		require.NotNil(t, p.HTTPGet, name)
		assert.Equal(t, "health", p.HTTPGet.Port.String(), name)
	}
	assert.Equal(t, "/healthz", c.LivenessProbe.HTTPGet.Path)
	assert.Equal(t, "/readyz", c.ReadinessProbe.HTTPGet.Path)
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	assert.Equal(t, map[string]int32{"webhook": 9443, "health": 8081, "metrics": 8080}, ports)

	pdb := one[*policyv1.PodDisruptionBudget](t, objs, "PodDisruptionBudget")
	assert.Equal(t, "1", pdb.Spec.MinAvailable.String())
	assert.Equal(t, d.Spec.Selector.MatchLabels, pdb.Spec.Selector.MatchLabels)

	svc := one[*corev1.Service](t, objs, "Service")
	assert.Equal(t, d.Spec.Template.Labels["app.kubernetes.io/name"], svc.Spec.Selector["app.kubernetes.io/name"])
	assert.Equal(t, "webhook", svc.Spec.Ports[0].TargetPort.String())
}

// flags parses the container's arguments with the webhook's own command
// line, as the binary would.
func flags(t *testing.T, d *appsv1.Deployment) server.Options {
	t.Helper()
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
users: [{name: u, user: {token: x}}]
current-context: c
`), 0o600))
	var got server.Options
	cmd := webhookcmd.NewCommand(&bytes.Buffer{}, func(_ context.Context, o server.Options) error { got = o; return nil })
	cmd.SetArgs(append(slices.Clone(d.Spec.Template.Spec.Containers[0].Args), "--kubeconfig", kubeconfig))
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	require.NoError(t, cmd.ExecuteContext(t.Context()), "the webhook rejects the chart's arguments %v", d.Spec.Template.Spec.Containers[0].Args)
	return got
}

func TestTheDeploymentsArgumentsAreTheWebhooksFlags(t *testing.T) {
	objs := render(t, "")
	d := one[*appsv1.Deployment](t, objs, "Deployment")
	o := flags(t, d)
	assert.Equal(t, "/tls", o.CertDir)
	assert.Equal(t, 9443, o.Port)
	assert.Equal(t, ":8081", o.HealthAddr)
	assert.Equal(t, "/etc/meshguard/config/config.yaml", o.ConfigFile)
	assert.Empty(t, o.Dirs)
	assert.Equal(t, time.Hour, o.AuditInterval)
	assert.Equal(t, ns, o.LeaderElectionNamespace)
	assert.Nil(t, o.SelfSignedCerts, "cert-manager provides the certificate by default")
	mounts := map[string]string{}
	for _, m := range d.Spec.Template.Spec.Containers[0].VolumeMounts {
		mounts[m.MountPath] = m.Name
	}
	assert.Equal(t, "tls", mounts["/tls"])
	assert.Equal(t, "config", mounts["/etc/meshguard/config"])

	// The ConfigMap holds a config file the webhook loads.
	cm := one[*corev1.ConfigMap](t, objs, "ConfigMap")
	f := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(f, []byte(cm.Data["config.yaml"]), 0o600))
	_, err := policy.LoadConfig(f)
	require.NoError(t, err, "the default config file:\n%s", cm.Data["config.yaml"])
}

func TestWithCertManagerTheIssuersAndCertificatesChainAndInjectTheCA(t *testing.T) {
	objs := render(t, "")
	byName := map[string]*cmv1.Certificate{}
	for _, o := range chart.Find(objs, "Certificate") {
		c := o.Value.(*cmv1.Certificate)
		byName[c.Name] = c
	}
	issuers := map[string]*cmv1.Issuer{}
	for _, o := range chart.Find(objs, "Issuer") {
		i := o.Value.(*cmv1.Issuer)
		issuers[i.Name] = i
	}
	ca, serving := byName["meshguard-ca"], byName["meshguard-webhook"]
	require.NotNil(t, ca)
	require.NotNil(t, serving)
	assert.True(t, ca.Spec.IsCA)
	require.NotNil(t, issuers[ca.Spec.IssuerRef.Name].Spec.SelfSigned, "the CA is signed by the self-signed Issuer")
	caIssuer := issuers[serving.Spec.IssuerRef.Name]
	require.NotNil(t, caIssuer.Spec.CA, "the serving certificate is signed by the CA Issuer")
	assert.Equal(t, ca.Spec.SecretName, caIssuer.Spec.CA.SecretName)
	assert.Equal(t, []string{"meshguard-webhook.meshguard-system.svc", "meshguard-webhook.meshguard-system.svc.cluster.local"}, serving.Spec.DNSNames)

	d := one[*appsv1.Deployment](t, objs, "Deployment")
	var tlsSecret string
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.Name == "tls" {
			require.NotNil(t, v.Secret)
			tlsSecret = v.Secret.SecretName
		}
	}
	assert.Equal(t, serving.Spec.SecretName, tlsSecret, "the pods mount the serving certificate's Secret")

	v := one[*admissionregistrationv1.ValidatingWebhookConfiguration](t, objs, "ValidatingWebhookConfiguration")
	m := one[*admissionregistrationv1.MutatingWebhookConfiguration](t, objs, "MutatingWebhookConfiguration")
	for _, a := range []map[string]string{v.Annotations, m.Annotations} {
		assert.Equal(t, ns+"/"+serving.Name, a["cert-manager.io/inject-ca-from"])
	}
}

// rulesKey normalises webhook rules for comparison.
func rulesKey(rules []admissionregistrationv1.RuleWithOperations) map[string]string {
	out := map[string]string{}
	for _, r := range rules {
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				v := slices.Sorted(slices.Values(r.APIVersions))
				var ops []string
				for _, o := range r.Operations {
					ops = append(ops, string(o))
				}
				slices.Sort(ops)
				out[g+"/"+res] = fmt.Sprintf("versions %v, operations %v", v, ops)
			}
		}
	}
	return out
}

// TestTheChartsKindsAreTheBundles fails when a rule covers a kind, version
// or operation that values.yaml's webhook.kinds lacks (or lists one no rule
// covers): the message is the list to paste.
func TestTheChartsKindsAreTheBundles(t *testing.T) {
	e, err := policy.New(t.Context(), policy.Options{})
	require.NoError(t, err)
	wantV, wantM := testenv.WebhookConfigurations(e, ns)

	objs := render(t, "")
	v := one[*admissionregistrationv1.ValidatingWebhookConfiguration](t, objs, "ValidatingWebhookConfiguration")
	m := one[*admissionregistrationv1.MutatingWebhookConfiguration](t, objs, "MutatingWebhookConfiguration")
	require.Len(t, v.Webhooks, 1)
	require.Len(t, m.Webhooks, 1)

	mutated := rulesKey(wantM.Webhooks[0].Rules)
	var want strings.Builder
	for _, r := range wantV.Webhooks[0].Rules {
		g := r.APIGroups[0]
		if g == "" {
			g = `""`
		}
		var ops []string
		for _, o := range r.Operations {
			ops = append(ops, string(o))
		}
		fmt.Fprintf(&want, "    - {apiGroups: [%s], apiVersions: [%s], resources: [%s], operations: [%s]", g, strings.Join(r.APIVersions, ", "), r.Resources[0], strings.Join(ops, ", "))
		if _, ok := mutated[r.APIGroups[0]+"/"+r.Resources[0]]; ok {
			want.WriteString(", mutate: true")
		}
		want.WriteString("}\n")
	}
	hint := "charts/meshguard/values.yaml webhook.kinds must list what the bundle covers:\n  kinds:\n" + want.String()
	assert.Equal(t, rulesKey(wantV.Webhooks[0].Rules), rulesKey(v.Webhooks[0].Rules), "validating rules; "+hint)
	assert.Equal(t, mutated, rulesKey(m.Webhooks[0].Rules), "mutating rules; "+hint)
}

func TestTheWebhookConfigurationsAreSafe(t *testing.T) {
	for name, values := range map[string]string{"default values": "", "non-default values": nonDefault} {
		t.Run(name, func(t *testing.T) {
			objs := render(t, values)
			v := one[*admissionregistrationv1.ValidatingWebhookConfiguration](t, objs, "ValidatingWebhookConfiguration")
			m := one[*admissionregistrationv1.MutatingWebhookConfiguration](t, objs, "MutatingWebhookConfiguration")
			type hook struct {
				selector       *metav1.LabelSelector
				sideEffects    *admissionregistrationv1.SideEffectClass
				timeout        *int32
				match          *admissionregistrationv1.MatchPolicyType
				failure        *admissionregistrationv1.FailurePolicyType
				reviewVersions []string
				client         admissionregistrationv1.WebhookClientConfig
			}
			var hooks []hook
			for _, w := range v.Webhooks {
				hooks = append(hooks, hook{w.NamespaceSelector, w.SideEffects, w.TimeoutSeconds, w.MatchPolicy, w.FailurePolicy, w.AdmissionReviewVersions, w.ClientConfig})
			}
			for _, w := range m.Webhooks {
				hooks = append(hooks, hook{w.NamespaceSelector, w.SideEffects, w.TimeoutSeconds, w.MatchPolicy, w.FailurePolicy, w.AdmissionReviewVersions, w.ClientConfig})
			}
			require.Len(t, hooks, 2)
			for _, h := range hooks {
				require.NotNil(t, h.selector)
				var excluded []string
				var optOut bool
				for _, r := range h.selector.MatchExpressions {
					if r.Key == "kubernetes.io/metadata.name" && r.Operator == "NotIn" {
						excluded = r.Values
					}
					if r.Key == "meshguard.io/ignore" && r.Operator == "DoesNotExist" {
						optOut = true
					}
				}
				assert.Contains(t, excluded, "kube-system")
				assert.Contains(t, excluded, ns, "the release namespace")
				assert.True(t, optOut, "the opt-out label")
				assert.Equal(t, admissionregistrationv1.SideEffectClassNone, *h.sideEffects)
				assert.LessOrEqual(t, *h.timeout, int32(10))
				assert.Equal(t, admissionregistrationv1.Equivalent, *h.match)
				assert.Equal(t, []string{"v1"}, h.reviewVersions)
				require.NotNil(t, h.client.Service)
				assert.Equal(t, "meshguard-webhook", h.client.Service.Name)
				assert.Equal(t, ns, h.client.Service.Namespace)
			}
			if name == "non-default values" {
				assert.Equal(t, admissionregistrationv1.Ignore, *hooks[0].failure)
				assert.EqualValues(t, 5, *hooks[0].timeout)
				assert.Contains(t, hooks[0].selector.MatchExpressions[0].Values, "legacy")
			} else {
				assert.Equal(t, admissionregistrationv1.Fail, *hooks[0].failure)
			}
		})
	}
}

// verbsOf lists "group/resource verb" grants of a set of rules.
func verbsOf(rules []rbacv1.PolicyRule) map[string][]string {
	out := map[string][]string{}
	for _, r := range rules {
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				key := g + "/" + res
				if len(r.ResourceNames) > 0 {
					key += " " + fmt.Sprint(r.ResourceNames)
				}
				out[key] = append(out[key], r.Verbs...)
			}
		}
	}
	return out
}

var readOnly = []string{"get", "list", "watch"}

// allowedVerbs is every verb the chart may grant at all (issue: RBAC checked
// against an allow-list); which resource gets which write is pinned exactly
// in TestRBACIsLeastPrivilege.
var allowedVerbs = []string{"get", "list", "watch", "create", "update", "delete"}

func TestRBACIsLeastPrivilege(t *testing.T) {
	for name, tc := range map[string]struct {
		values string
		// writes are every grant beyond get/list/watch, exactly.
		clusterWrites, roleWrites map[string][]string
	}{
		"with cert-manager": {
			values: "",
			clusterWrites: map[string][]string{
				"security.istio.io/peerauthentications":   {"create", "update"},
				"security.istio.io/authorizationpolicies": {"create", "update"},
				"wgpolicyk8s.io/policyreports":            {"get", "list", "create", "update", "delete"},
				"wgpolicyk8s.io/clusterpolicyreports":     {"get", "list", "create", "update", "delete"},
			},
			roleWrites: map[string][]string{"coordination.k8s.io/leases": {"get", "create", "update"}, "/events": {"create"}},
		},
		"self-signed, no defaults, no audit": {
			values: "certManager: {enabled: false}\ndefaults: {enabled: false}\nauditInterval: 0s\n",
			clusterWrites: map[string][]string{
				"admissionregistration.k8s.io/validatingwebhookconfigurations [meshguard]": {"get", "update"},
				"admissionregistration.k8s.io/mutatingwebhookconfigurations [meshguard]":   {"get", "update"},
			},
			roleWrites: map[string][]string{
				"coordination.k8s.io/leases":       {"get", "create", "update"},
				"/events":                          {"create"},
				"/secrets":                         {"create"},
				"/secrets [meshguard-webhook-tls]": {"get", "update"},
			},
		},
	} {
		t.Run(name, func(t *testing.T) {
			objs := render(t, tc.values)
			cr := one[*rbacv1.ClusterRole](t, objs, "ClusterRole")
			role := one[*rbacv1.Role](t, objs, "Role")
			assert.Equal(t, ns, role.Namespace)
			for _, r := range append(slices.Clone(cr.Rules), role.Rules...) {
				assert.NotContains(t, r.Verbs, "*", "no wildcard verbs")
				assert.NotContains(t, r.APIGroups, "*", "no wildcard API groups")
				if slices.Contains(r.Resources, "*") {
					assert.True(t, isReadOnly(r.Verbs), "wildcard resources are for reading the mesh API groups only: %v", r)
					assert.NotContains(t, r.APIGroups, "", "no wildcard over the core group (Secrets)")
				}
				for _, v := range r.Verbs {
					assert.Contains(t, allowedVerbs, v, "verb %q on %v is not on the allow-list (never patch, escalate, bind, impersonate, deletecollection)", v, r.Resources)
				}
			}
			writes := func(rules []rbacv1.PolicyRule) map[string][]string {
				out := map[string][]string{}
				for k, verbs := range verbsOf(rules) {
					if !isReadOnly(verbs) {
						out[k] = verbs
					}
				}
				return out
			}
			assert.Equal(t, tc.clusterWrites, writes(cr.Rules))
			assert.Equal(t, tc.roleWrites, writes(role.Rules))
			for k := range verbsOf(cr.Rules) {
				assert.NotContains(t, k, "secrets", "no Secret access cluster-wide")
			}

			// The bindings give the roles to the chart's ServiceAccount.
			sa := one[*corev1.ServiceAccount](t, objs, "ServiceAccount")
			crb := one[*rbacv1.ClusterRoleBinding](t, objs, "ClusterRoleBinding")
			rb := one[*rbacv1.RoleBinding](t, objs, "RoleBinding")
			for _, b := range []struct {
				ref      rbacv1.RoleRef
				subjects []rbacv1.Subject
			}{{crb.RoleRef, crb.Subjects}, {rb.RoleRef, rb.Subjects}} {
				require.Len(t, b.subjects, 1)
				assert.Equal(t, rbacv1.Subject{Kind: "ServiceAccount", Name: sa.Name, Namespace: ns}, b.subjects[0])
			}
			assert.Equal(t, cr.Name, crb.RoleRef.Name)
			assert.Equal(t, role.Name, rb.RoleRef.Name)
		})
	}
}

func isReadOnly(verbs []string) bool {
	for _, v := range verbs {
		if !slices.Contains(readOnly, v) {
			return false
		}
	}
	return true
}

// The ClusterRole can read every kind a rule judges (the audit lists them),
// and the defaults controller can create and update every kind it generates.
func TestRBACCoversTheBundleAndTheDefaultsController(t *testing.T) {
	e, err := policy.New(t.Context(), policy.Options{})
	require.NoError(t, err)
	objs := render(t, "")
	cr := one[*rbacv1.ClusterRole](t, objs, "ClusterRole")
	allows := func(group, resource string, verbs ...string) bool {
		for _, v := range verbs {
			ok := false
			for _, r := range cr.Rules {
				if len(r.ResourceNames) == 0 && slices.Contains(r.APIGroups, group) && (slices.Contains(r.Resources, resource) || slices.Contains(r.Resources, "*")) && slices.Contains(r.Verbs, v) {
					ok = true
				}
			}
			if !ok {
				return false
			}
		}
		return true
	}
	for _, r := range e.Rules() {
		for _, k := range r.Kinds {
			assert.True(t, allows(k.Group, k.Resource(), readOnly...), "%s judges %s: the ClusterRole must allow get, list, watch", r.ID, k.GroupKind)
		}
	}
	for _, gvk := range defaults.Kinds {
		assert.True(t, allows(gvk.Group, policy.GroupKind{Group: gvk.Group, Kind: gvk.Kind}.Resource(), "get", "list", "watch", "create", "update"),
			"the defaults controller writes %s: add it to values.yaml defaults.kinds", gvk.GroupKind())
	}
}

// The inventory watches every served kind of the mesh API groups: the
// ClusterRole must let it read every mesh group the upstream CRDs and our
// own define, or its cache never syncs.
func TestRBACReadsEveryMeshAPIGroup(t *testing.T) {
	paths, err := testenv.CRDPaths()
	require.NoError(t, err)
	groups := map[string]bool{}
	for _, c := range testenv.MeshCRDs() {
		groups[c.Spec.Group] = true
	}
	for _, p := range paths {
		files := []string{p}
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			files, err = filepath.Glob(filepath.Join(p, "*.yaml"))
			require.NoError(t, err)
		}
		for _, f := range files {
			mf := manifest.ReadFile(f, nil)
			for _, d := range mf.Docs {
				if d.Object["kind"] != "CustomResourceDefinition" {
					continue
				}
				raw, err := yaml.Marshal(d.Object)
				require.NoError(t, err)
				var crd apiextensionsv1.CustomResourceDefinition
				require.NoError(t, yaml.Unmarshal(raw, &crd))
				if inventory.Tracked(policy.GroupKind{Group: crd.Spec.Group, Kind: crd.Spec.Names.Kind}) {
					groups[crd.Spec.Group] = true
				}
			}
		}
	}
	require.NotEmpty(t, groups)
	objs := render(t, "")
	cr := one[*rbacv1.ClusterRole](t, objs, "ClusterRole")
	var readable []string
	for _, r := range cr.Rules {
		if slices.Contains(r.Resources, "*") && isReadOnly(r.Verbs) && len(r.Verbs) == 3 {
			readable = append(readable, r.APIGroups...)
		}
	}
	for g := range groups {
		assert.Contains(t, readable, g, "mesh API group %s: add it to values.yaml rbac.meshAPIGroups", g)
	}
}

const nonDefault = `
replicaCount: 2
priorityClassName: system-cluster-critical
podAntiAffinity: hard
topologySpreadConstraints:
  - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: ScheduleAnyway}
certManager: {enabled: false}
selfSignedCerts: {validity: 720h, caValidity: 8760h}
webhook:
  failurePolicy: Ignore
  timeoutSeconds: 5
  excludeNamespaces: [legacy]
serviceMonitor: {enabled: true, labels: {release: prom}}
networkPolicy:
  enabled: true
  metricsFrom: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}}]
config:
  enforcement: {ISTIO-TRAFFIC-002: warn}
policies:
  team.rego: |
    # METADATA
    # title: team rule
    # description: no object named forbidden
    # custom:
    #   id: TEAM-001
    #   version: 1.0.0
    #   severity: low
    #   action: deny
    #   kinds: [{group: networking.istio.io, kind: VirtualService}]
    #   remediation: rename it
    package team.forbidden

    deny contains {"msg": "forbidden name"} if input.metadata.name == "forbidden"
`

func TestNonDefaultValues(t *testing.T) {
	objs := render(t, nonDefault)
	assert.Empty(t, chart.Find(objs, "Certificate"), "no cert-manager objects without cert-manager")
	assert.Empty(t, chart.Find(objs, "Issuer"))
	d := one[*appsv1.Deployment](t, objs, "Deployment")
	pod := d.Spec.Template.Spec
	assert.EqualValues(t, 2, *d.Spec.Replicas)
	assert.Equal(t, "system-cluster-critical", pod.PriorityClassName)
	require.Len(t, pod.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution, 1)
	require.Len(t, pod.TopologySpreadConstraints, 1)
	assert.Equal(t, d.Spec.Selector.MatchLabels, pod.TopologySpreadConstraints[0].LabelSelector.MatchLabels, "the chart fills in the labelSelector")

	o := flags(t, d)
	require.NotNil(t, o.SelfSignedCerts)
	sc := o.SelfSignedCerts
	assert.Equal(t, ns, sc.Namespace)
	assert.Equal(t, "meshguard-webhook-tls", sc.Secret)
	assert.Equal(t, []string{"meshguard-webhook.meshguard-system.svc", "meshguard-webhook.meshguard-system.svc.cluster.local"}, sc.Hosts)
	assert.Equal(t, 720*time.Hour, sc.Validity)
	assert.Equal(t, 8760*time.Hour, sc.CAValidity)
	assert.Equal(t, "meshguard", sc.ValidatingWebhookConfiguration)
	assert.Equal(t, "meshguard", sc.MutatingWebhookConfiguration)
	assert.Equal(t, []string{"/etc/meshguard/policies"}, o.Dirs)
	var tlsVolume *corev1.Volume
	for i, v := range pod.Volumes {
		if v.Name == "tls" {
			tlsVolume = &pod.Volumes[i]
		}
	}
	require.NotNil(t, tlsVolume)
	assert.NotNil(t, tlsVolume.EmptyDir, "the webhook writes its own certificate to a writable volume")

	// The policies ConfigMap loads as a --policies directory beside the bundle.
	var policies *corev1.ConfigMap
	for _, o := range chart.Find(objs, "ConfigMap") {
		if strings.HasSuffix(o.Name, "-policies") {
			policies = o.Value.(*corev1.ConfigMap)
		}
	}
	require.NotNil(t, policies)
	dir := t.TempDir()
	for name, src := range policies.Data {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600))
	}
	e, err := policy.New(t.Context(), policy.Options{Dirs: []string{dir}})
	require.NoError(t, err)
	assert.True(t, slices.ContainsFunc(e.Rules(), func(r *policy.Rule) bool { return r.ID == "TEAM-001" }))

	sm := one[*chart.ServiceMonitor](t, objs, "ServiceMonitor")
	assert.Equal(t, "metrics", sm.Spec.Endpoints[0].Port)
	assert.Equal(t, "prom", sm.Metadata["labels"].(map[string]any)["release"])
	np := one[*networkingv1.NetworkPolicy](t, objs, "NetworkPolicy")
	require.Len(t, np.Spec.Ingress, 2)
	assert.Equal(t, "webhook", np.Spec.Ingress[0].Ports[0].Port.String())
	assert.Equal(t, "metrics", np.Spec.Ingress[1].Ports[0].Port.String())

	v := one[*admissionregistrationv1.ValidatingWebhookConfiguration](t, objs, "ValidatingWebhookConfiguration")
	assert.NotContains(t, v.Annotations, "cert-manager.io/inject-ca-from")
}

func TestTheSchemaRejectsBadValues(t *testing.T) {
	tests := []struct {
		name, values, want string
	}{
		{"a timeout over 10 seconds", "webhook: {timeoutSeconds: 30}", "timeoutSeconds"},
		{"an unknown failure policy", "webhook: {failurePolicy: Maybe}", "failurePolicy"},
		{"a misspelt key", "replicas: 3", "replicas"},
		{"root in the container", "securityContext: {readOnlyRootFilesystem: false}", "readOnlyRootFilesystem"},
		{"a policy file that is not Rego", "policies: {notes.txt: hello}", "notes.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := chart.Render("meshguard", ns, tt.values)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// Every key of values.yaml is in the README's values table (a map may be
// described as a whole).
func TestTheREADMEDescribesEveryValue(t *testing.T) {
	dir, err := chart.Dir()
	require.NoError(t, err)
	readme, err := os.ReadFile(filepath.Join(dir, "README.md"))
	require.NoError(t, err)
	raw, err := os.ReadFile(filepath.Join(dir, "values.yaml"))
	require.NoError(t, err)
	var values map[string]any
	require.NoError(t, yaml.Unmarshal(raw, &values))
	var check func(prefix string, m map[string]any)
	check = func(prefix string, m map[string]any) {
		for k, v := range m {
			path := prefix + k
			if bytes.Contains(readme, []byte("`"+path+"`")) {
				continue
			}
			sub, ok := v.(map[string]any)
			if !ok || len(sub) == 0 {
				t.Errorf("values.yaml key %s is not in charts/meshguard/README.md", path)
				continue
			}
			check(path+".", sub)
		}
	}
	check("", values)
}
