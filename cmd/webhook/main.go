// Command webhook serves meshguard's admission webhooks; see `webhook --help`.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/meshguard/meshguard/internal/webhookcmd"
	"github.com/meshguard/meshguard/pkg/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd := webhookcmd.NewCommand(os.Stderr, server.Run)
	if err := cmd.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "webhook:", err)
		os.Exit(1)
	}
}
