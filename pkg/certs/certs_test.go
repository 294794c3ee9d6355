package certs_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/meshguard/meshguard/pkg/certs"
)

const (
	ns     = "meshguard-system"
	secret = "meshguard-webhook-tls"
	config = "meshguard"
)

var hostnames = []string{"meshguard-webhook.meshguard-system.svc", "meshguard-webhook.meshguard-system.svc.cluster.local"}

// cluster is a fake API server with both webhook configurations, two
// webhooks each (every webhook must get the caBundle).
func cluster() *fake.Clientset {
	return fake.NewClientset(
		&admissionregistrationv1.ValidatingWebhookConfiguration{
			ObjectMeta: metav1.ObjectMeta{Name: config},
			Webhooks:   []admissionregistrationv1.ValidatingWebhook{{Name: "validate.meshguard.io"}, {Name: "validate-delete.meshguard.io"}},
		},
		&admissionregistrationv1.MutatingWebhookConfiguration{
			ObjectMeta: metav1.ObjectMeta{Name: config},
			Webhooks:   []admissionregistrationv1.MutatingWebhook{{Name: "mutate.meshguard.io"}, {Name: "mutate-other.meshguard.io"}},
		},
	)
}

func provisioner(t *testing.T, c kubernetes.Interface, clk *clocktesting.FakeClock, dir string, mod ...func(*certs.Options)) *certs.Provisioner {
	t.Helper()
	o := certs.Options{
		Client: c, Namespace: ns, Secret: secret, Hosts: hostnames, CertDir: dir,
		ValidatingWebhookConfiguration: config, MutatingWebhookConfiguration: config,
		Validity: 90 * 24 * time.Hour, CAValidity: 360 * 24 * time.Hour,
		Clock: clk, Logger: testr.New(t),
	}
	for _, m := range mod {
		m(&o)
	}
	p, err := certs.New(o)
	require.NoError(t, err)
	return p
}

func getSecret(t *testing.T, c kubernetes.Interface) *corev1.Secret {
	t.Helper()
	s, err := c.CoreV1().Secrets(ns).Get(t.Context(), secret, metav1.GetOptions{})
	require.NoError(t, err)
	return s
}

// served is the certificate in the directory, checked to pair with its key.
func served(t *testing.T, dir string) *x509.Certificate {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key"))
	require.NoError(t, err, "tls.crt and tls.key must be a matching pair")
	return pair.Leaf
}

// caBundles are the caBundles of every webhook of both configurations.
func caBundles(t *testing.T, c kubernetes.Interface) [][]byte {
	t.Helper()
	ar := c.AdmissionregistrationV1()
	v, err := ar.ValidatingWebhookConfigurations().Get(t.Context(), config, metav1.GetOptions{})
	require.NoError(t, err)
	m, err := ar.MutatingWebhookConfigurations().Get(t.Context(), config, metav1.GetOptions{})
	require.NoError(t, err)
	var out [][]byte
	for _, w := range v.Webhooks {
		out = append(out, w.ClientConfig.CABundle)
	}
	for _, w := range m.Webhooks {
		out = append(out, w.ClientConfig.CABundle)
	}
	return out
}

// verify checks that the bundle trusts the certificate for the host, at time at.
func verify(t *testing.T, bundle []byte, cert *x509.Certificate, host string, at time.Time) error {
	t.Helper()
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(bundle), "caBundle holds no PEM certificate")
	_, err := cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: host, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	return err
}

func TestFirstSyncCreatesTheSecretWritesTheFilesAndSetsBothCABundles(t *testing.T) {
	c := cluster()
	clk := clocktesting.NewFakeClock(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	dir := t.TempDir()
	p := provisioner(t, c, clk, dir)

	next, err := p.Sync(t.Context())
	require.NoError(t, err)
	select {
	case <-p.Ready():
	default:
		t.Fatal("Ready is not closed after a successful sync")
	}

	s := getSecret(t, c)
	assert.Equal(t, corev1.SecretTypeTLS, s.Type)
	for _, k := range []string{"ca.crt", "ca.key", "tls.crt", "tls.key"} {
		assert.NotEmpty(t, s.Data[k], k)
	}
	cert := served(t, dir)
	crtFile, err := os.ReadFile(filepath.Join(dir, "tls.crt"))
	require.NoError(t, err)
	assert.Equal(t, s.Data["tls.crt"], crtFile, "the served certificate is the Secret's")
	assert.ElementsMatch(t, hostnames, cert.DNSNames)
	for _, h := range hostnames {
		assert.NoError(t, verify(t, s.Data["ca.crt"], cert, h, clk.Now()), h)
	}
	assert.Error(t, verify(t, s.Data["ca.crt"], cert, "other.example", clk.Now()), "a host not asked for must not verify")

	bundles := caBundles(t, c)
	require.Len(t, bundles, 4)
	for i, b := range bundles {
		assert.Equal(t, s.Data["ca.crt"], b, "webhook %d", i)
	}

	// The next renewal is two thirds through the serving certificate's life.
	life := cert.NotAfter.Sub(cert.NotBefore)
	assert.WithinDuration(t, cert.NotBefore.Add(life*2/3), next, time.Second)
}

func TestTheServingCertificateIsRenewedAtTwoThirdsOfItsLifetime(t *testing.T) {
	c := cluster()
	clk := clocktesting.NewFakeClock(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	dir := t.TempDir()
	p := provisioner(t, c, clk, dir)
	_, err := p.Sync(t.Context())
	require.NoError(t, err)
	first := served(t, dir)
	firstCA := getSecret(t, c).Data["ca.crt"]
	life := first.NotAfter.Sub(first.NotBefore)
	renewAt := first.NotBefore.Add(life * 2 / 3)

	clk.SetTime(renewAt.Add(-time.Minute))
	next, err := p.Sync(t.Context())
	require.NoError(t, err)
	assert.Equal(t, first.SerialNumber, served(t, dir).SerialNumber, "renewed before two thirds of the lifetime")
	assert.WithinDuration(t, renewAt, next, time.Second)

	clk.SetTime(renewAt.Add(time.Second))
	_, err = p.Sync(t.Context())
	require.NoError(t, err)
	second := served(t, dir)
	assert.NotEqual(t, first.SerialNumber, second.SerialNumber, "not renewed after two thirds of the lifetime")
	assert.True(t, second.NotAfter.After(first.NotAfter))
	s := getSecret(t, c)
	assert.Equal(t, firstCA, s.Data["ca.crt"], "a serving certificate renewal keeps the CA")
	assert.NoError(t, verify(t, s.Data["ca.crt"], second, hostnames[0], clk.Now()))
	for _, b := range caBundles(t, c) {
		assert.Equal(t, firstCA, b)
	}
}

func TestTheSecretIsReusedAcrossRestartsAndReplicas(t *testing.T) {
	c := cluster()
	clk := clocktesting.NewFakeClock(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	dir1 := t.TempDir()
	_, err := provisioner(t, c, clk, dir1).Sync(t.Context())
	require.NoError(t, err)
	before := getSecret(t, c)

	// A restart (or a second replica): a new provisioner, an empty directory.
	clk.Step(24 * time.Hour)
	dir2 := t.TempDir()
	_, err = provisioner(t, c, clk, dir2).Sync(t.Context())
	require.NoError(t, err)
	after := getSecret(t, c)
	assert.Equal(t, before.Data, after.Data, "the Secret was reissued instead of reused")
	assert.Equal(t, before.ResourceVersion, after.ResourceVersion, "the Secret was written again")
	one, err := os.ReadFile(filepath.Join(dir1, "tls.crt"))
	require.NoError(t, err)
	two, err := os.ReadFile(filepath.Join(dir2, "tls.crt"))
	require.NoError(t, err)
	assert.Equal(t, one, two, "both serve the same certificate")
}

func TestACARenewalKeepsThePreviousCATrustedWhileItIsValid(t *testing.T) {
	c := cluster()
	clk := clocktesting.NewFakeClock(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	dir := t.TempDir()
	p := provisioner(t, c, clk, dir, func(o *certs.Options) { o.Validity, o.CAValidity = 30*24*time.Hour, 60*24*time.Hour })
	_, err := p.Sync(t.Context())
	require.NoError(t, err)
	oldCert := served(t, dir)
	oldBundle := getSecret(t, c).Data["ca.crt"]

	clk.Step(41 * 24 * time.Hour) // past two thirds of the CA's 60 days
	_, err = p.Sync(t.Context())
	require.NoError(t, err)
	s := getSecret(t, c)
	newCert := served(t, dir)
	assert.NotEqual(t, oldBundle, s.Data["ca.crt"])
	assert.NoError(t, verify(t, s.Data["ca.crt"], newCert, hostnames[0], clk.Now()), "the new certificate is trusted")
	// A replica that has not picked up the new certificate yet stays trusted
	// (its certificate, issued at day 0, is valid for 30 days: check within them).
	assert.NoError(t, verify(t, s.Data["ca.crt"], oldCert, hostnames[0], oldCert.NotBefore.Add(time.Hour)), "the previous CA left the bundle too early")
	for _, b := range caBundles(t, c) {
		assert.Equal(t, s.Data["ca.crt"], b)
	}
}

func TestAnUnusableSecretIsReplaced(t *testing.T) {
	c := cluster()
	_, err := c.CoreV1().Secrets(ns).Create(t.Context(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: secret, Namespace: ns},
		Data:       map[string][]byte{"ca.crt": []byte("not a certificate"), "tls.crt": []byte("x")},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	clk := clocktesting.NewFakeClock(time.Now())
	dir := t.TempDir()
	_, err = provisioner(t, c, clk, dir).Sync(t.Context())
	require.NoError(t, err)
	s := getSecret(t, c)
	assert.NoError(t, verify(t, s.Data["ca.crt"], served(t, dir), hostnames[0], clk.Now()))
}

func TestChangedHostsReissueTheServingCertificate(t *testing.T) {
	c := cluster()
	clk := clocktesting.NewFakeClock(time.Now())
	dir := t.TempDir()
	_, err := provisioner(t, c, clk, dir).Sync(t.Context())
	require.NoError(t, err)
	_, err = provisioner(t, c, clk, dir, func(o *certs.Options) { o.Hosts = []string{"other.meshguard-system.svc", "127.0.0.1"} }).Sync(t.Context())
	require.NoError(t, err)
	cert := served(t, dir)
	assert.Equal(t, []string{"other.meshguard-system.svc"}, cert.DNSNames)
	require.Len(t, cert.IPAddresses, 1)
	assert.Equal(t, "127.0.0.1", cert.IPAddresses[0].String())
}

func TestAMissingWebhookConfigurationIsAnErrorNamingIt(t *testing.T) {
	c := fake.NewClientset()
	dir := t.TempDir()
	_, err := provisioner(t, c, clocktesting.NewFakeClock(time.Now()), dir).Sync(t.Context())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ValidatingWebhookConfiguration meshguard")
	// The certificate is still written: the server can start, and a later
	// sync sets the caBundle once the configuration exists.
	served(t, dir)
}

func TestStartRenewsWhenTheClockReachesTheRenewalTime(t *testing.T) {
	c := cluster()
	clk := clocktesting.NewFakeClock(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	dir := t.TempDir()
	p := provisioner(t, c, clk, dir, func(o *certs.Options) { o.Validity, o.Resync = 3*time.Hour, 24*time.Hour })
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- p.Start(ctx) }()
	select {
	case <-p.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("no certificate written")
	}
	first := served(t, dir)
	require.Eventually(t, clk.HasWaiters, 5*time.Second, 10*time.Millisecond)
	clk.Step(2*time.Hour + time.Minute) // two thirds of 3h (+1m backdating)
	require.Eventually(t, func() bool {
		pair, err := tls.LoadX509KeyPair(filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key"))
		return err == nil && pair.Leaf.SerialNumber.Cmp(first.SerialNumber) != 0
	}, 10*time.Second, 20*time.Millisecond, "the serving certificate was not renewed at its renewal time")
	cancel()
	require.NoError(t, <-done)
}

func TestOptionsAreChecked(t *testing.T) {
	base := certs.Options{Client: fake.NewClientset(), Namespace: ns, Secret: secret, Hosts: hostnames, CertDir: "/tmp/x"}
	tests := []struct {
		name string
		mod  func(*certs.Options)
		want string
	}{
		{"no hosts", func(o *certs.Options) { o.Hosts = nil }, "--cert-host"},
		{"no secret", func(o *certs.Options) { o.Secret = "" }, "--cert-secret"},
		{"no directory", func(o *certs.Options) { o.CertDir = "" }, "--cert-dir"},
		{"a serving certificate outliving the CA", func(o *certs.Options) { o.Validity, o.CAValidity = 48*time.Hour, 24*time.Hour }, "exceeds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := base
			tt.mod(&o)
			_, err := certs.New(o)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
