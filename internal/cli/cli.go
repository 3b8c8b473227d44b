package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/leasehold/leasehold/config"
	"github.com/leasehold/leasehold/lease"
	"github.com/leasehold/leasehold/owner"
)

// Exit codes.
const (
	ExitLive  = 0 // status: a live owner holds the lease; watch: interrupted
	ExitNone  = 1 // status: no live owner holds the lease
	ExitError = 2 // a bad command line or configuration, or a lease that cannot be read
)

// A Store is how the command opens a store other than the file store,
// which is built in, for the lease a configuration selects.
type Store struct {
	// Observe opens an Observer of the lease, for status and watch.
	Observe func(cfg owner.Config, store config.Store) (lease.Observer, error)
	// Open opens a Store of the lease, through which run campaigns: an
	// ownerfx.StoreOpener.
	Open func(cfg owner.Config, store config.Store) (lease.Store, error)
}

// Env is what a run of the command is given.
type Env struct {
	Args           []string // after the command's name
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Environ        []string // as os.Environ returns it
	// Stores opens the stores other than the file store, by kind
	// (config.StoreEtcd).
	Stores map[string]Store
}

// A command is a subcommand: its name, its synopsis, a line of help, and
// its run, which is given the arguments after its name and returns the
// exit code. Adding a subcommand is adding a line to commands.
type command struct {
	name, usage, help string
	run               func(ctx context.Context, env Env, args []string) int
}

// commands are the subcommands, in the order help lists them.
var commands = []command{
	observing("status", "print the holder of the lease; exit 0 if a live owner holds it, 1 if none does, 2 on an error", status),
	observing("watch", "print the holder now and at every change until interrupted", watch),
	{name: "run", usage: "run [--grace D] [--config FILE] [--lease LEASE] [--] CMD [ARGS...]", help: runHelp, run: run},
}

// observing is a command that observes the lease the configuration and
// its LEASE argument name: run is given the lease and whether --json
// was set.
func observing(name, help string, run func(ctx context.Context, env Env, t target, json bool) int) command {
	c := command{name: name, usage: name + " [--json] [--config FILE] [LEASE]", help: help}
	c.run = func(ctx context.Context, env Env, args []string) int {
		t, json, err := parse(c, args, env)
		switch {
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return ExitError // the flag package said why
		case err != nil:
			fmt.Fprintf(env.Stderr, "leasehold %s: %v\n", name, err)
			return ExitError
		}
		defer t.obs.Close()
		return run(ctx, env, t, json)
	}
	return c
}

// Main runs the command with env and returns its exit code. ctx ends a
// watch (the command's main cancels it on SIGINT and SIGTERM).
func Main(ctx context.Context, env Env) int {
	if len(env.Args) == 0 {
		usage(env.Stderr)
		return ExitError
	}
	name, args := env.Args[0], env.Args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		usage(env.Stdout)
		return 0
	}
	for _, c := range commands {
		if c.name == name {
			return c.run(ctx, env, args)
		}
	}
	fmt.Fprintf(env.Stderr, "leasehold: no command %q\n", name)
	usage(env.Stderr)
	return ExitError
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "leasehold follows a lease of github.com/leasehold/leasehold, or runs a command while it owns it.")
	fmt.Fprintln(w, "\nUsage:")
	for _, c := range commands {
		fmt.Fprintf(w, "  leasehold %s\n      %s\n", c.usage, c.help)
	}
	fmt.Fprintln(w, "  leasehold help")
	fmt.Fprintln(w, "\nThe lease is the one the configuration names: --config FILE (YAML or .env), then the")
	fmt.Fprintln(w, "OWNER_* environment (OWNER_LEASE_PATH, OWNER_STORE, OWNER_ETCD_*). LEASE replaces its")
	fmt.Fprintln(w, "lease path, or its key for etcd. Exit codes of status and watch: 0 live owner, 1 none,")
	fmt.Fprintln(w, "2 error; of run: CMD's, 3 ownership lost, 125 to 127 run failed (see leasehold run -h).")
}

// errUsage is a bad command line, which the flag package has reported.
var errUsage = errors.New("usage")

// target is the lease a command observes.
type target struct {
	name  string // the path or the key
	store string // config.StoreFile, config.StoreEtcd
	path  string // the file store's path; "" for another store
	obs   lease.Observer
}

// parse reads a command's flags and its LEASE argument, loads the
// configuration and opens the Observer of the lease it names.
func parse(c command, args []string, env Env) (target, bool, error) {
	fs := flag.NewFlagSet("leasehold "+c.name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	asJSON := fs.Bool("json", false, "print JSON (one object per line for watch)")
	file := fs.String("config", "", "configuration `FILE` (.yaml, .yml or .env)")
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "Usage: leasehold %s\n%s.\n", c.usage, c.help)
		fs.PrintDefaults()
	}
	// Flags may come before and after LEASE.
	var pos []string
	for {
		if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
			return target{}, false, err
		} else if err != nil {
			return target{}, false, errUsage
		}
		if fs.NArg() == 0 {
			break
		}
		pos, args = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
	if len(pos) > 1 {
		return target{}, false, fmt.Errorf("one LEASE at most, got %q", pos)
	}
	t, err := open(*file, pos, env)
	return t, *asJSON, err
}

// load loads the configuration, with the lease LEASE names if given.
func load(file string, pos []string, env Env) (owner.Config, config.Store, error) {
	if env.Environ == nil {
		env.Environ = os.Environ()
	}
	if file == "" && len(pos) == 0 && !named(env.Environ) {
		return owner.Config{}, config.Store{}, errors.New("name the lease: give LEASE (its path), --config FILE, or OWNER_LEASE_PATH (OWNER_STORE=etcd with OWNER_ETCD_* for etcd)")
	}
	cfg, store, _, err := config.LoadStore(config.Options{File: file, Environ: env.Environ, App: "leasehold"})
	if err != nil {
		return owner.Config{}, config.Store{}, err
	}
	if len(pos) == 1 {
		if store.Kind == config.StoreFile {
			if cfg.LeasePath, err = filepath.Abs(pos[0]); err != nil {
				return owner.Config{}, config.Store{}, fmt.Errorf("lease path %s: %w", pos[0], err)
			}
		} else {
			store.Etcd.Key = pos[0]
		}
	}
	return cfg, store, nil
}

// store returns how to open the store kind, which is not the file store.
func (env Env) store(kind string) (Store, error) {
	s, ok := env.Stores[kind]
	if !ok {
		return Store{}, fmt.Errorf("the configuration selects the %s store, which this build does not open: install github.com/leasehold/leasehold/%slease/cmd/leasehold", kind, kind)
	}
	return s, nil
}

// open loads the configuration and opens the Observer of its lease.
func open(file string, pos []string, env Env) (target, error) {
	cfg, store, err := load(file, pos, env)
	if err != nil {
		return target{}, err
	}
	if store.Kind == config.StoreFile {
		o, err := lease.Observe(cfg.LeasePath, lease.ObserveOptions{})
		if err != nil {
			return target{}, err
		}
		return target{name: cfg.LeasePath, store: store.Kind, path: cfg.LeasePath, obs: o}, nil
	}
	s, err := env.store(store.Kind)
	if err != nil {
		return target{}, err
	}
	o, err := s.Observe(cfg, store)
	if err != nil {
		return target{}, fmt.Errorf("open the %s store, key %s: %w", store.Kind, store.Etcd.Key, err)
	}
	return target{name: store.Etcd.Key, store: store.Kind, obs: o}, nil
}

// named reports whether the environment names a lease.
func named(environ []string) bool {
	for _, kv := range environ {
		if strings.HasPrefix(kv, config.EnvPrefix+"LEASE_PATH=") || strings.HasPrefix(kv, config.EnvPrefix+"STORE=") {
			return true
		}
	}
	return false
}
