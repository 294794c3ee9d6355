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
// is about 28 MiB above it (the binary's pages and what the runtime keeps):
// 80 MiB gave 109 MiB of RSS, 100 MiB 127–128 and 120 MiB 145–146, with
// 5,290–5,715, 5,713–6,099 and 5,210–6,407 reviews/s (20 s runs of
// hack/bench-webhook, alternated). 100 MiB keeps RSS well under the 150 MiB
// target. GOGC and GOMEMLIMIT, when set, win: in a pod, set GOMEMLIMIT to
// about 80% of the container's memory limit, above the inventory of a large
// cluster.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(1000)
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
