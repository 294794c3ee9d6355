package cli_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

const meshedNS = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels: {istio-injection: enabled}\n"

func TestGenerate(t *testing.T) {
	dir := t.TempDir()
	ns := write(t, dir, "ns.yaml", meshedNS)
	r := run(t, "", "generate", ns)
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "kind: PeerAuthentication")
	assert.Contains(t, r.stdout, "kind: AuthorizationPolicy")
	assert.Contains(t, r.stdout, "app.kubernetes.io/managed-by: meshguard")
	assert.Contains(t, r.stdout, "meshguard.io/bundle-revision: 2026.12.0")

	// What it prints passes check, and applying it leaves nothing to generate.
	c := run(t, meshedNS+r.stdout, "check", "-")
	assert.Equal(t, 0, c.code, c.stdout)
	again := run(t, meshedNS+r.stdout, "generate", "-")
	assert.Equal(t, 0, again.code)
	assert.Empty(t, strings.TrimSpace(again.stdout), "nothing is missing any more")

	// A user's own STRICT namespace policy counts; the allow-nothing is still printed.
	write(t, dir, "own.yaml", "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: mine, namespace: shop}\nspec:\n  mtls: {mode: STRICT}\n")
	r = run(t, "", "generate", dir)
	assert.Equal(t, 0, r.code)
	assert.NotContains(t, r.stdout, "kind: PeerAuthentication")
	assert.Contains(t, r.stdout, "kind: AuthorizationPolicy")

	for name, src := range map[string]string{
		"an unmeshed namespace":  "apiVersion: v1\nkind: Namespace\nmetadata: {name: plain}\n",
		"an opted-out namespace": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels: {istio-injection: enabled}\n  annotations: {meshguard.io/defaults: disabled}\n",
	} {
		r := run(t, src, "generate", "-")
		assert.Equal(t, 0, r.code, name)
		assert.Empty(t, strings.TrimSpace(r.stdout), name)
	}

	bad := write(t, dir, "bad.yaml", "a: [\n")
	r = run(t, "", "generate", ns, bad)
	assert.Equal(t, 2, r.code, "bad input is exit 2, and the rest is still generated")
	assert.Contains(t, r.stderr, "bad.yaml")
	assert.Contains(t, r.stdout, "kind: PeerAuthentication")
}

func TestGenerateLinkerdNamespace(t *testing.T) {
	src := "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: emojivoto\n  annotations: {linkerd.io/inject: enabled}\n"
	r := run(t, src, "generate", "-")
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "kind: Namespace")
	assert.Contains(t, r.stdout, "config.linkerd.io/default-inbound-policy: deny")
	assert.Contains(t, r.stdout, "LINKERD-AUTHZ-001")
	again := run(t, r.stdout, "generate", "-")
	assert.Empty(t, strings.TrimSpace(again.stdout), "nothing more to add")
}
