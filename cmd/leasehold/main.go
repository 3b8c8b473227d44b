// Command leasehold reports the holder of a lease of
// github.com/leasehold/leasehold and follows it, without campaigning for
// it, and runs a command while it owns the lease, on the file store:
//
//	leasehold status [--json] [--config FILE] [LEASE_PATH]
//	leasehold watch  [--json] [--config FILE] [LEASE_PATH]
//	leasehold run [--grace D] [--config FILE] [--lease LEASE_PATH] -- CMD [ARGS...]
//
// The build of github.com/leasehold/leasehold/etcdlease/cmd/leasehold
// opens etcd too. See package internal/cli for the output, its JSON
// schema and the exit codes.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/leasehold/leasehold/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, cli.Env{Args: os.Args[1:], Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Environ: os.Environ()})
	stop()
	os.Exit(code)
}
