// Package server runs the meshguard admission webhook: the validating and
// mutating endpoints over HTTPS, health and metrics listeners, and (with a
// cluster) the informer cache that feeds the inventory. cmd/webhook is a thin
// flag layer over Run.
package server

import (
	"context"
	"errors"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
)

// Options configure Run. The zero value of every field has a safe default.
type Options struct {
	// CertDir holds tls.crt and tls.key; they are reloaded on change.
	CertDir string
	// Host and Port are where the HTTPS webhook listens (default port 9443).
	Host string
	Port int
	// MetricsAddr serves /metrics (default ":8080"; "0" turns it off).
	MetricsAddr string
	// HealthAddr serves /healthz and /readyz (default ":8081").
	HealthAddr string
	// Dirs are extra policy directories; NoBuiltin leaves the built-in bundle out.
	Dirs      []string
	NoBuiltin bool
	// ConfigFile is the meshguard config (thresholds, enforcement, exclusions).
	ConfigFile string
	// RestConfig reaches the cluster whose Namespaces and mesh objects form the
	// inventory. Required unless Standalone.
	RestConfig *rest.Config
	// Standalone serves without a cluster: cross-object rules are off.
	Standalone bool
	// Logger receives the decision log and server messages.
	Logger logr.Logger
}

// Run serves until ctx is cancelled, then drains in-flight requests.
func Run(ctx context.Context, opts Options) error {
	return errors.New("server.Run: not implemented yet")
}
