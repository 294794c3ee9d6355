// Package certs provisions the webhook's own serving certificate when
// cert-manager is not installed (the chart's certManager.enabled: false): a
// CA and a serving certificate signed by it, kept in one Secret so that every
// replica and every restart serves the same pair, written to the certificate
// directory (which the webhook server watches and reloads), and the CA
// written as caBundle into the validating and mutating webhook
// configurations. Both certificates are renewed at two thirds of their
// lifetime (cert-manager's rule, pki.RenewalTime); after a CA renewal the
// previous CA stays in the caBundle until it expires, so that replicas still
// serving a certificate it signed are trusted.
package certs

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/cert-manager/cert-manager/pkg/util/pki"
	"github.com/go-logr/logr"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/clock"
)

// Keys of the Secret. tls.crt and tls.key are the serving pair; ca.crt is the
// trusted bundle (the current CA first, then the previous one while it is
// still valid); ca.key is the current CA's key.
const (
	KeyCACert = "ca.crt"
	KeyCAKey  = "ca.key"
	KeyCert   = corev1.TLSCertKey
	KeyKey    = corev1.TLSPrivateKeyKey
)

// Options configure a Provisioner.
type Options struct {
	// Client reaches the API server (the Secret and the webhook configurations).
	Client kubernetes.Interface
	// Namespace and Secret name the Secret that keeps the CA and the serving
	// certificate.
	Namespace, Secret string
	// Hosts are the DNS names and IP addresses of the serving certificate
	// (the Service's <name>.<namespace>.svc names); at least one.
	Hosts []string
	// CertDir receives tls.crt and tls.key for the webhook server.
	CertDir string
	// ValidatingWebhookConfiguration and MutatingWebhookConfiguration name the
	// configurations whose webhooks get the CA as caBundle ("" leaves one out).
	ValidatingWebhookConfiguration, MutatingWebhookConfiguration string
	// Validity and CAValidity are the lifetimes of the serving certificate
	// (default 90 days) and of the CA (default 5 years).
	Validity, CAValidity time.Duration
	// Resync is how often, between renewals, the Secret and the caBundles are
	// checked again (default 1 minute): a Helm upgrade that resets a caBundle,
	// or a renewal by another replica, is caught this quickly.
	Resync time.Duration
	// Clock is the time source (default the real clock; tests inject a fake).
	Clock clock.Clock
	// Logger receives what was created, renewed and patched.
	Logger logr.Logger
}

func (o *Options) defaults() error {
	if o.Client == nil {
		return errors.New("self-signed certificates: no cluster client")
	}
	if o.Namespace == "" || o.Secret == "" {
		return errors.New("self-signed certificates: the Secret's namespace and name are required (--cert-secret)")
	}
	if len(o.Hosts) == 0 {
		return errors.New("self-signed certificates: at least one DNS name or IP address is required (--cert-host)")
	}
	if o.CertDir == "" {
		return errors.New("self-signed certificates: a certificate directory is required (--cert-dir)")
	}
	if o.Validity == 0 {
		o.Validity = 90 * 24 * time.Hour
	}
	if o.CAValidity == 0 {
		o.CAValidity = 5 * 365 * 24 * time.Hour
	}
	if o.Validity < time.Minute || o.CAValidity < time.Minute {
		return fmt.Errorf("self-signed certificates: validity %s and CA validity %s must be at least a minute", o.Validity, o.CAValidity)
	}
	if o.Validity > o.CAValidity {
		return fmt.Errorf("self-signed certificates: the serving certificate's validity %s exceeds the CA's %s", o.Validity, o.CAValidity)
	}
	if o.Resync == 0 {
		o.Resync = time.Minute
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.Logger.GetSink() == nil {
		o.Logger = logr.Discard()
	}
	return nil
}

// Provisioner keeps the Secret, the certificate files and the caBundles
// current.
type Provisioner struct {
	opts  Options
	ready chan struct{}
}

// New checks the options.
func New(opts Options) (*Provisioner, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	return &Provisioner{opts: opts, ready: make(chan struct{})}, nil
}

// Ready is closed once tls.crt and tls.key have been written the first time.
func (p *Provisioner) Ready() <-chan struct{} { return p.ready }

// Start syncs at once, then again at the next renewal or after Resync,
// whichever comes first, until ctx ends. Errors are logged and retried.
func (p *Provisioner) Start(ctx context.Context) error {
	for {
		wait := p.opts.Resync
		next, err := p.Sync(ctx)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return nil
			}
			p.opts.Logger.Error(err, "provisioning the serving certificate; retrying", "retryIn", (5 * time.Second).String())
			wait = 5 * time.Second
		case next.Sub(p.opts.Clock.Now()) < wait:
			wait = max(next.Sub(p.opts.Clock.Now()), 0)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-p.opts.Clock.After(wait):
		}
	}
}

// Sync makes one pass: it reads the Secret (creating it, or renewing what is
// due in it), writes the serving pair to CertDir when it differs, and sets
// the caBundle of both webhook configurations. It returns when the next
// renewal is due.
func (p *Provisioner) Sync(ctx context.Context) (time.Time, error) {
	b, err := p.secret(ctx)
	if err != nil {
		return time.Time{}, err
	}
	if err := p.write(b); err != nil {
		return time.Time{}, err
	}
	select {
	case <-p.ready:
	default:
		close(p.ready)
	}
	if err := p.inject(ctx, b.caBundle); err != nil {
		return time.Time{}, err
	}
	return b.renewAt()
}

// bundle is the content of the Secret, parsed.
type bundle struct {
	caBundle []byte // PEM: the current CA, then the previous one
	ca       *x509.Certificate
	caKey    crypto.Signer
	caKeyPEM []byte
	cert     *x509.Certificate
	certPEM  []byte
	keyPEM   []byte
}

func (b *bundle) data() map[string][]byte {
	return map[string][]byte{KeyCACert: b.caBundle, KeyCAKey: b.caKeyPEM, KeyCert: b.certPEM, KeyKey: b.keyPEM}
}

// renewAt is when the first of the two certificates is due.
func (b *bundle) renewAt() (time.Time, error) {
	ca, err := renewal(b.ca)
	if err != nil {
		return time.Time{}, err
	}
	leaf, err := renewal(b.cert)
	if err != nil {
		return time.Time{}, err
	}
	if ca.Before(leaf) {
		return ca, nil
	}
	return leaf, nil
}

// renewal is two thirds through the certificate's lifetime.
func renewal(c *x509.Certificate) (time.Time, error) {
	t, err := pki.RenewalTime(c.NotBefore, c.NotAfter, nil, nil, nil)
	if err != nil {
		return time.Time{}, fmt.Errorf("renewal time of %q: %w", c.Subject.CommonName, err)
	}
	return t.Time, nil
}

func (p *Provisioner) secretRef() string { return p.opts.Namespace + "/" + p.opts.Secret }

// secret returns the Secret's current bundle, creating or renewing it first
// when needed. Replicas race on it: the API server's create and
// resourceVersion checks decide, and a loser reads the winner's bundle.
func (p *Provisioner) secret(ctx context.Context) (*bundle, error) {
	secrets := p.opts.Client.CoreV1().Secrets(p.opts.Namespace)
	for attempt := 0; ; attempt++ {
		s, err := secrets.Get(ctx, p.opts.Secret, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			b, err := p.issue(nil)
			if err != nil {
				return nil, err
			}
			s := &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Name: p.opts.Secret, Namespace: p.opts.Namespace, Labels: map[string]string{"app.kubernetes.io/managed-by": "meshguard-webhook"}},
				Type:       corev1.SecretTypeTLS,
				Data:       b.data(),
			}
			_, err = secrets.Create(ctx, s, metav1.CreateOptions{})
			if apierrors.IsAlreadyExists(err) && attempt < 3 {
				continue // another replica was first: use its bundle
			}
			if err != nil {
				return nil, fmt.Errorf("creating Secret %s: %w", p.secretRef(), err)
			}
			p.opts.Logger.Info("created a CA and a serving certificate", "secret", p.secretRef(), "hosts", p.opts.Hosts, "notAfter", b.cert.NotAfter)
			return b, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading Secret %s: %w", p.secretRef(), err)
		}
		old, perr := parse(s.Data)
		if perr != nil {
			p.opts.Logger.Info("the Secret's certificates are unusable; issuing new ones", "secret", p.secretRef(), "reason", perr.Error())
		}
		reason := p.due(old, perr)
		if reason == "" {
			return old, nil
		}
		b, err := p.issue(old)
		if err != nil {
			return nil, err
		}
		s.Data = b.data()
		s.Type = corev1.SecretTypeTLS
		_, err = secrets.Update(ctx, s, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) && attempt < 3 {
			continue // another replica renewed first
		}
		if err != nil {
			return nil, fmt.Errorf("updating Secret %s: %w", p.secretRef(), err)
		}
		p.opts.Logger.Info("renewed the serving certificate", "secret", p.secretRef(), "reason", reason, "newCA", b.ca != old.caOrNil(), "notAfter", b.cert.NotAfter)
		return b, nil
	}
}

func (b *bundle) caOrNil() *x509.Certificate {
	if b == nil {
		return nil
	}
	return b.ca
}

// due says why the bundle must be reissued ("" when it need not be).
func (p *Provisioner) due(b *bundle, parseErr error) string {
	if parseErr != nil {
		return "unusable: " + parseErr.Error()
	}
	now := p.opts.Clock.Now()
	if t, err := renewal(b.ca); err != nil || !now.Before(t) {
		return "the CA is two thirds through its lifetime"
	}
	if t, err := renewal(b.cert); err != nil || !now.Before(t) {
		return "the serving certificate is two thirds through its lifetime"
	}
	if err := b.cert.CheckSignatureFrom(b.ca); err != nil {
		return "the serving certificate is not signed by the current CA"
	}
	if !slices.Equal(hosts(b.cert), sortedHosts(p.opts.Hosts)) {
		return "the serving certificate's hosts differ from " + fmt.Sprint(p.opts.Hosts)
	}
	return ""
}

// issue creates a serving certificate, signed by old's CA while that is not
// due, else by a new CA (keeping the old one in the bundle while valid).
func (p *Provisioner) issue(old *bundle) (*bundle, error) {
	now := p.opts.Clock.Now()
	b := &bundle{}
	if old != nil {
		if t, err := renewal(old.ca); err == nil && now.Before(t) {
			b.ca, b.caKey, b.caKeyPEM, b.caBundle = old.ca, old.caKey, old.caKeyPEM, old.caBundle
		}
	}
	if b.ca == nil {
		key, err := pki.GenerateECPrivateKey(pki.ECCurve256)
		if err != nil {
			return nil, fmt.Errorf("generating the CA key: %w", err)
		}
		tmpl := &x509.Certificate{
			SerialNumber:          serial(),
			Subject:               pkix.Name{CommonName: "meshguard-webhook-ca"},
			NotBefore:             now.Add(-time.Minute), // tolerate clock skew
			NotAfter:              now.Add(p.opts.CAValidity),
			IsCA:                  true,
			BasicConstraintsValid: true,
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		}
		caPEM, ca, err := pki.SignCertificate(tmpl, tmpl, key.Public(), key)
		if err != nil {
			return nil, fmt.Errorf("signing the CA: %w", err)
		}
		keyPEM, err := pki.EncodePKCS8PrivateKey(key)
		if err != nil {
			return nil, fmt.Errorf("encoding the CA key: %w", err)
		}
		b.ca, b.caKey, b.caKeyPEM, b.caBundle = ca, key, keyPEM, caPEM
		if old != nil && old.ca != nil && now.Before(old.ca.NotAfter) {
			prev, err := pki.EncodeX509(old.ca)
			if err != nil {
				return nil, err
			}
			b.caBundle = append(append([]byte{}, caPEM...), prev...)
		}
	}
	key, err := pki.GenerateECPrivateKey(pki.ECCurve256)
	if err != nil {
		return nil, fmt.Errorf("generating the serving key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: p.opts.Hosts[0]},
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     now.Add(p.opts.Validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if tmpl.NotAfter.After(b.ca.NotAfter) {
		tmpl.NotAfter = b.ca.NotAfter
	}
	for _, h := range p.opts.Hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	certPEM, cert, err := pki.SignCertificate(tmpl, b.ca, key.Public(), b.caKey)
	if err != nil {
		return nil, fmt.Errorf("signing the serving certificate: %w", err)
	}
	keyPEM, err := pki.EncodePKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encoding the serving key: %w", err)
	}
	b.cert, b.certPEM, b.keyPEM = cert, certPEM, keyPEM
	return b, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return n
}

// parse reads a Secret's data; an error names the key at fault.
func parse(data map[string][]byte) (*bundle, error) {
	for _, k := range []string{KeyCACert, KeyCAKey, KeyCert, KeyKey} {
		if len(data[k]) == 0 {
			return nil, fmt.Errorf("%s is missing", k)
		}
	}
	cas, err := pki.DecodeX509CertificateChainBytes(data[KeyCACert])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", KeyCACert, err)
	}
	caKey, err := pki.DecodePrivateKeyBytes(data[KeyCAKey])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", KeyCAKey, err)
	}
	if ok, err := pki.PublicKeyMatchesCertificate(caKey.Public(), cas[0]); err != nil || !ok {
		return nil, fmt.Errorf("%s does not belong to the first certificate of %s", KeyCAKey, KeyCACert)
	}
	cert, err := pki.DecodeX509CertificateBytes(data[KeyCert])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", KeyCert, err)
	}
	key, err := pki.DecodePrivateKeyBytes(data[KeyKey])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", KeyKey, err)
	}
	if ok, err := pki.PublicKeyMatchesCertificate(key.Public(), cert); err != nil || !ok {
		return nil, fmt.Errorf("%s does not belong to %s", KeyKey, KeyCert)
	}
	return &bundle{caBundle: data[KeyCACert], ca: cas[0], caKey: caKey, caKeyPEM: data[KeyCAKey], cert: cert, certPEM: data[KeyCert], keyPEM: data[KeyKey]}, nil
}

func hosts(c *x509.Certificate) []string {
	out := slices.Clone(c.DNSNames)
	for _, ip := range c.IPAddresses {
		out = append(out, ip.String())
	}
	slices.Sort(out)
	return out
}

func sortedHosts(hs []string) []string {
	out := make([]string, 0, len(hs))
	for _, h := range hs {
		if ip := net.ParseIP(h); ip != nil {
			h = ip.String()
		}
		out = append(out, h)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// write puts the serving pair into CertDir when it differs from the files
// there: each file is written beside and renamed into place, the key first,
// so the server's certificate watcher never reads a half-written file.
func (p *Provisioner) write(b *bundle) error {
	if err := os.MkdirAll(p.opts.CertDir, 0o700); err != nil {
		return fmt.Errorf("certificate directory: %w", err)
	}
	crt, _ := os.ReadFile(filepath.Join(p.opts.CertDir, KeyCert))
	key, _ := os.ReadFile(filepath.Join(p.opts.CertDir, KeyKey))
	if bytes.Equal(crt, b.certPEM) && bytes.Equal(key, b.keyPEM) {
		return nil
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{KeyKey, b.keyPEM}, {KeyCert, b.certPEM}} {
		path := filepath.Join(p.opts.CertDir, f.name)
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, f.data, 0o600); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
		if err := os.Rename(tmp, path); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	p.opts.Logger.Info("wrote the serving certificate", "dir", p.opts.CertDir, "notAfter", b.cert.NotAfter)
	return nil
}

// inject sets caBundle on every webhook of both configurations.
func (p *Provisioner) inject(ctx context.Context, caBundle []byte) error {
	ar := p.opts.Client.AdmissionregistrationV1()
	if name := p.opts.ValidatingWebhookConfiguration; name != "" {
		vwc := ar.ValidatingWebhookConfigurations()
		err := p.setCABundle(ctx, "ValidatingWebhookConfiguration", name, caBundle, func() ([]*admissionregistrationv1.WebhookClientConfig, func() error, error) {
			c, err := vwc.Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return nil, nil, err
			}
			ccs := make([]*admissionregistrationv1.WebhookClientConfig, len(c.Webhooks))
			for i := range c.Webhooks {
				ccs[i] = &c.Webhooks[i].ClientConfig
			}
			return ccs, func() error { _, err := vwc.Update(ctx, c, metav1.UpdateOptions{}); return err }, nil
		})
		if err != nil {
			return err
		}
	}
	if name := p.opts.MutatingWebhookConfiguration; name != "" {
		mwc := ar.MutatingWebhookConfigurations()
		err := p.setCABundle(ctx, "MutatingWebhookConfiguration", name, caBundle, func() ([]*admissionregistrationv1.WebhookClientConfig, func() error, error) {
			c, err := mwc.Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return nil, nil, err
			}
			ccs := make([]*admissionregistrationv1.WebhookClientConfig, len(c.Webhooks))
			for i := range c.Webhooks {
				ccs[i] = &c.Webhooks[i].ClientConfig
			}
			return ccs, func() error { _, err := mwc.Update(ctx, c, metav1.UpdateOptions{}); return err }, nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// setCABundle reads a webhook configuration (get returns its webhooks'
// client configs and how to write it back), sets caBundle on every webhook
// and updates it when anything changed, retrying on conflicts.
func (p *Provisioner) setCABundle(ctx context.Context, kind, name string, caBundle []byte, get func() ([]*admissionregistrationv1.WebhookClientConfig, func() error, error)) error {
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		ccs, update, err := get()
		if err != nil {
			return err
		}
		changed := false
		for _, cc := range ccs {
			if !bytes.Equal(cc.CABundle, caBundle) {
				cc.CABundle, changed = caBundle, true
			}
		}
		if !changed {
			return nil
		}
		if err := update(); err != nil {
			return err
		}
		p.opts.Logger.Info("set the caBundle", "kind", kind, "name", name)
		return nil
	})
	if err != nil {
		return fmt.Errorf("setting the caBundle of %s %s: %w", kind, name, err)
	}
	return nil
}
