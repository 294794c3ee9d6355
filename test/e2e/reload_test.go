//go:build e2e

package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/meshguard/meshguard/internal/testenv"
	"github.com/meshguard/meshguard/pkg/server"
)

func configMapRule(msg string) string {
	return `# METADATA
# title: Team ConfigMaps
# custom:
#   id: TEAM-CM-001
#   version: 1.0.0
#   severity: low
#   action: deny
#   kinds: [{group: "", kind: ConfigMap, versions: [v1]}]
package team.cm

import data.meshguard.lib.kube

deny contains "` + msg + `" if kube.name == "web"
`
}

// A policy reload with a cluster: the new bundle serves, and it judges with
// the inventory the informers had filled the old one with (a Deployment in
// a meshed namespace keeps its sidecar resources right after the reload),
// and later changes of the cluster reach the new bundle.
func TestPolicyReloadKeepsTheInventory(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "team.rego"), []byte(configMapRule("first version")), 0o600))
	own, err := testenv.Start(t.Context(), testenv.Options{
		Webhook:     true,
		Logger:      logr.Discard(),
		StopTimeout: 5 * time.Second,
		Server: func(o *server.Options) {
			o.Dirs, o.ReloadInterval = []string{dir}, 100*time.Millisecond
			o.NoDefaults, o.AuditInterval = true, 0
		},
	})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, own.Stop()) })
	c, err := dynamic.NewForConfig(own.Config)
	require.NoError(t, err)
	meshed := func(name string) {
		ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace",
			"metadata": map[string]any{"name": name, "labels": map[string]any{"istio-injection": "enabled"}}}}
		_, err := c.Resource(namespaces).Create(t.Context(), ns, metav1.CreateOptions{})
		require.NoError(t, err)
	}
	patched := func(ns string) bool {
		r := direct(t, own, ns)(server.PathMutate, "Deployment", "apps", meshedDeployment(ns))
		return r.Allowed && bytes.Contains(r.Patch, []byte("sidecar.istio.io/proxyCPU"))
	}
	denial := func() string {
		r := direct(t, own, "meshed")(server.PathValidate, "ConfigMap", "", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"web","namespace":"meshed"}}`)
		if r.Status == nil {
			return ""
		}
		return r.Status.Message
	}

	meshed("meshed")
	require.Eventually(t, func() bool { return patched("meshed") }, 15*time.Second, 100*time.Millisecond, "the meshed namespace never reached the inventory")
	assert.Contains(t, denial(), "TEAM-CM-001: first version")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "team.rego"), []byte(configMapRule("second version")), 0o600))
	require.Eventually(t, func() bool { return strings.Contains(denial(), "TEAM-CM-001: second version") }, 15*time.Second, 100*time.Millisecond, "the changed policy was not loaded")
	assert.True(t, patched("meshed"), "the new bundle has the inventory: the namespace is still meshed")

	meshed("meshed-later")
	require.Eventually(t, func() bool { return patched("meshed-later") }, 15*time.Second, 100*time.Millisecond, "a namespace created after the reload never reached the new bundle")
}
