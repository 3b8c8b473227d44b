package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/leasehold/leasehold/config"
	"github.com/leasehold/leasehold/internal/supervise"
	"github.com/leasehold/leasehold/owner"
)

const runHelp = "wait until this process owns the lease, run CMD while it does, release the lease when CMD exits, and exit with CMD's status"

// run is leasehold run: package supervise, on the lease the configuration
// and --lease name, through the store it selects.
func run(ctx context.Context, env Env, args []string) int {
	fs := flag.NewFlagSet("leasehold run", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	grace := fs.Duration("grace", 0, "how long CMD has between SIGTERM and SIGKILL when it must stop; at most half of the TTL less the renewal interval, the default")
	file := fs.String("config", "", "configuration `FILE` (.yaml, .yml or .env)")
	name := fs.String("lease", "", "the lease: its `path`, or its key for etcd; replaces the configuration's")
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "Usage: leasehold run [--grace D] [--config FILE] [--lease LEASE] [--] CMD [ARGS...]\n%s.\n", runHelp)
		fmt.Fprintln(env.Stderr, "CMD gets LEASEHOLD_EPOCH, LEASEHOLD_LEASE and LEASEHOLD_INSTANCE_ID, and SIGINT, SIGTERM and SIGHUP.")
		fmt.Fprintln(env.Stderr, "Exit codes: CMD's (128+N if signal N killed it); 3 ownership lost; 125 leasehold run failed;")
		fmt.Fprintln(env.Stderr, "126 CMD could not be started; 127 CMD not found; 129, 130, 143 a signal before CMD started.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return 0
	} else if err != nil {
		return supervise.ExitFailed
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(env.Stderr, "leasehold run: no CMD to run")
		fs.Usage()
		return supervise.ExitFailed
	}
	var pos []string
	if *name != "" {
		pos = []string{*name}
	}
	cfg, store, err := load(*file, pos, env)
	if err != nil {
		fmt.Fprintf(env.Stderr, "leasehold run: %v\n", err)
		return supervise.ExitFailed
	}
	join := func(ctx context.Context) (*owner.Owner, error) { return owner.Join(ctx, cfg) }
	leaseName := cfg.LeasePath
	if store.Kind != config.StoreFile {
		s, err := env.store(store.Kind)
		if err != nil {
			fmt.Fprintf(env.Stderr, "leasehold run: %v\n", err)
			return supervise.ExitFailed
		}
		leaseName = store.Kind + ":" + store.Etcd.Key
		join = func(ctx context.Context) (*owner.Owner, error) {
			st, err := s.Open(cfg, store)
			if err != nil {
				return nil, fmt.Errorf("open the %s store, key %s: %w", store.Kind, store.Etcd.Key, err)
			}
			return owner.JoinStore(ctx, cfg, st)
		}
	}
	// Run catches SIGINT, SIGTERM and SIGHUP and forwards them to CMD: the
	// command's own context, which they cancel, must not stop it first.
	code, err := supervise.Run(context.WithoutCancel(ctx), supervise.Options{
		Join: join, Lease: leaseName, Grace: *grace, Command: fs.Arg(0), Args: fs.Args()[1:],
		Env: env.Environ, Stdin: env.Stdin, Stdout: env.Stdout, Stderr: env.Stderr,
		Logf: func(format string, args ...any) { fmt.Fprintf(env.Stderr, "leasehold run: "+format+"\n", args...) },
	})
	if err != nil {
		fmt.Fprintf(env.Stderr, "leasehold run: %v\n", err)
	}
	return code
}
