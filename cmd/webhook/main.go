// Command webhook serves meshguard's admission webhooks; see `webhook --help`.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/meshguard/meshguard/internal/webhookcmd"
	"github.com/meshguard/meshguard/pkg/server"
)

// The webhook allocates per request and keeps little: a higher GC target
// buys about a fifth more reviews/s (docs/performance.md), and a soft memory
// limit keeps the heap bounded. GOGC and GOMEMLIMIT, when set, win.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(100 << 20)
	}
}

func main() {
	tuneGC()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd := webhookcmd.NewCommand(os.Stderr, server.Run)
	if err := cmd.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "webhook:", err)
		os.Exit(1)
	}
}
