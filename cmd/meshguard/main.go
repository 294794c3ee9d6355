// Command meshguard checks Kubernetes manifests against the mesh zero-trust
// policies (meshguard check) and inspects the bundle (meshguard policies).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/meshguard/meshguard/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	root := cli.NewRoot(cli.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
	root.SetContext(ctx)
	code := cli.Execute(root, os.Args[1:])
	stop()
	os.Exit(code)
}
