// Command etcd is the etcd server, built from the etcd Go modules so that
// envtest has an etcd binary without downloading a prebuilt release.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
