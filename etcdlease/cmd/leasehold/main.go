// Command leasehold is the command of github.com/leasehold/leasehold/cmd/leasehold
// with the etcd store too: it reports the holder of a lease and follows
// it, without campaigning for it, and runs a command while it owns the
// lease, on a file or in etcd.
//
//	go install github.com/leasehold/leasehold/etcdlease/cmd/leasehold@latest
//	OWNER_STORE=etcd OWNER_ETCD_ENDPOINTS=127.0.0.1:2379 OWNER_ETCD_KEY=/leasehold/app leasehold status
//
// See the root module's package internal/cli for the output, its JSON
// schema and the exit codes.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/leasehold/leasehold/config"
	"github.com/leasehold/leasehold/etcdlease"
	"github.com/leasehold/leasehold/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, cli.Env{
		Args: os.Args[1:], Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Environ: os.Environ(),
		Stores: map[string]cli.Store{config.StoreEtcd: {Observe: etcdlease.ObserverOpener, Open: etcdlease.Opener}},
	})
	stop()
	os.Exit(code)
}
