package server

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"

	"github.com/meshguard/meshguard/pkg/admission"
	"github.com/meshguard/meshguard/pkg/policy"
)

// bundle is the served policy bundle: the engine the admission handlers and
// the defaults controller ask, and the periodic audit's own engine (its
// inventory snapshots never disturb the webhook's). watch rebuilds both when
// the --policies directories or the config file change; a change that does
// not load never replaces them, so the webhook keeps serving, ready, the last
// good bundle.
type bundle struct {
	opts    Options
	audit   bool // build the audit's engine too
	log     logr.Logger
	metrics *admission.Metrics
	events  *eventSink // nil: no Kubernetes Events (standalone, or no POD_NAME)
	// adopt hands a new engine to the inventory, which fills it from its
	// caches before the engine serves (nil without a cluster).
	adopt func(context.Context, *policy.Engine) error
	// reloaded is told (without blocking) after each reload, so that the
	// defaults controller reconciles every Namespace with the new templates.
	reloaded chan<- struct{}

	engine      atomic.Pointer[policy.Engine]
	auditEngine atomic.Pointer[policy.Engine]
	digest      string // of the sources last tried, good or bad
	failing     bool
}

func (b *bundle) build(ctx context.Context) (*policy.Engine, *policy.Engine, error) {
	var cfg *policy.Config
	if b.opts.ConfigFile != "" {
		var err error
		if cfg, err = policy.LoadConfig(b.opts.ConfigFile); err != nil {
			return nil, nil, err
		}
	}
	po := policy.Options{Dirs: b.opts.Dirs, NoBuiltin: b.opts.NoBuiltin, Config: cfg, NoInventory: b.opts.Standalone}
	e, err := policy.New(ctx, po)
	if err != nil {
		return nil, nil, err
	}
	var ae *policy.Engine
	if b.audit {
		po.NoInventory = false
		if ae, err = policy.New(ctx, po); err != nil {
			return nil, nil, err
		}
	}
	return e, ae, nil
}

// load builds the first bundle; its error stops the webhook from starting.
func (b *bundle) load(ctx context.Context) error {
	if b.watched() {
		d, err := policy.Digest(b.opts.Dirs, b.opts.ConfigFile)
		if err != nil {
			return err
		}
		b.digest = d
	}
	e, ae, err := b.build(ctx)
	if err != nil {
		return err
	}
	b.engine.Store(e)
	b.auditEngine.Store(ae)
	if b.metrics != nil {
		b.metrics.SetBundle(e.Revision())
		b.metrics.Reloaded(true)
	}
	b.log.Info("policy bundle loaded", "bundleRevision", e.Revision(), "rules", len(e.Rules()))
	return nil
}

// watched says whether there is anything on disk to watch: the built-in
// bundle is in the binary.
func (b *bundle) watched() bool { return len(b.opts.Dirs) > 0 || b.opts.ConfigFile != "" }

// watch polls the sources every interval until ctx ends. Polling, rather
// than file events, sees every way a directory changes: an editor's rename,
// a nested directory, and the kubelet's swap of a ConfigMap volume's
// "..data" symlink.
func (b *bundle) watch(ctx context.Context, interval time.Duration) {
	b.log.Info("watching the policies for changes", "dirs", b.opts.Dirs, "config", b.opts.ConfigFile, "interval", interval.String())
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			b.check(ctx)
		}
	}
}

// check reloads when the sources changed since they were last tried. It
// returns whether a new bundle now serves.
func (b *bundle) check(ctx context.Context) bool {
	d, err := policy.Digest(b.opts.Dirs, b.opts.ConfigFile)
	if err == nil && d == b.digest {
		return false
	}
	if err == nil {
		b.digest = d
		err = b.reload(ctx)
	} else if !b.failing {
		// An unreadable source (a directory gone, a file mid-swap) is
		// reported once, and tried again at every poll.
		b.digest = ""
	} else {
		return false
	}
	if err != nil {
		b.failed(ctx, err)
		return false
	}
	return true
}

func (b *bundle) reload(ctx context.Context) error {
	e, ae, err := b.build(ctx)
	if err != nil {
		return err
	}
	if b.adopt != nil {
		if err := b.adopt(ctx, e); err != nil {
			return fmt.Errorf("filling the new bundle's inventory: %w", err)
		}
	}
	old := b.engine.Swap(e)
	b.auditEngine.Store(ae)
	if b.metrics != nil {
		b.metrics.SetBundle(e.Revision())
		b.metrics.Reloaded(true)
	}
	msg := fmt.Sprintf("serving policy bundle %s (was %s)", e.Revision(), old.Revision())
	b.log.Info("policy bundle reloaded", "bundleRevision", e.Revision(), "previousRevision", old.Revision(), "rules", len(e.Rules()))
	if b.failing && b.events != nil {
		b.events.emit(ctx, eventNormal, "PolicyReloaded", msg)
	}
	b.failing = false
	if b.reloaded != nil {
		select {
		case b.reloaded <- struct{}{}:
		default: // one is pending already
		}
	}
	return nil
}

func (b *bundle) failed(ctx context.Context, err error) {
	b.failing = true
	rev := b.engine.Load().Revision()
	b.log.Error(err, "policy reload failed: still serving the last good bundle", "bundleRevision", rev)
	if b.metrics != nil {
		b.metrics.Reloaded(false)
	}
	if b.events != nil {
		b.events.emit(ctx, eventWarning, "PolicyReloadFailed", fmt.Sprintf("still serving policy bundle %s: %v", rev, err))
	}
}
