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

// The webhook allocates per request and keeps little: a high GC target buys
// about a third more reviews/s (docs/performance.md), and the soft memory
// limit bounds the heap. Under full load the heap reaches the limit, and RSS
// is about 60 MiB above it (the binary and what the runtime keeps): 80 MiB
// gave 141 MiB of RSS and 120 MiB 177 (12 s runs of hack/bench-webhook on a
// busy machine, reviews/s within their noise). GOGC and
// GOMEMLIMIT, when set, win: in a pod, set GOMEMLIMIT to about 80% of the
// container's memory limit, above the inventory of a large cluster.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(1000)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(80 << 20)
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
