//go:build unix

// Command leasechaos-etcd is cmd/leasechaos on the etcd store. It starts
// an etcd cluster of three members on loopback inside this process, runs
// worker processes (this binary again, on etcdlease) on one key of it,
// injects the same faults at random (SIGKILL, SIGSTOP past the TTL then
// SIGCONT, release and rejoin of the owner, follower kills, bursts of
// joins) and judges what the workers reported with the same checker. The
// fault "damage" (deleting or corrupting the record file while nobody
// holds it) has no counterpart: there is no record file, and nothing but
// the Stores writes the key. It exits 1 on any safety violation, 2 on an
// error. With -impl election the workers use etcd's own
// concurrency.Election instead, the baseline.
//
//	leasechaos-etcd -duration 5m -workers 6 -ttl 2s -out chaos-etcd.jsonl
//	leasechaos-etcd -impl election -duration 3m
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/leasehold/leasehold/etcdlease"
	"github.com/leasehold/leasehold/etcdlease/internal/baseline"
	"github.com/leasehold/leasehold/etcdlease/internal/embedded"
	"github.com/leasehold/leasehold/internal/chaos"
	"github.com/leasehold/leasehold/internal/worker"
	"github.com/leasehold/leasehold/lease"
	"github.com/leasehold/leasehold/owner"
)

// envEndpoints gives a worker the members' client addresses,
// comma-separated; its lease path is the key.
const envEndpoints = "LEASECHAOS_ETCD_ENDPOINTS"

// expiryLag is how late etcd may delete a key after its lease's TTL: the
// leader looks for expired leases twice a second, then writes through raft.
const expiryLag = 500 * time.Millisecond

func main() {
	if worker.Active() {
		os.Exit(workerMain())
	}
	os.Exit(run())
}

// workerMain runs a worker on etcdlease, or on the baseline.
func workerMain() int {
	if os.Getenv(worker.EnvImpl) == baseline.Impl {
		return worker.MainJoin(func(cfg owner.Config) (worker.Member, error) { return baseline.Join(clientConfig(), cfg) })
	}
	return worker.MainStore(openStore)
}

func clientConfig() clientv3.Config {
	return clientv3.Config{
		Endpoints:   strings.Split(os.Getenv(envEndpoints), ","),
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
	}
}

func openStore(cfg owner.Config) (lease.Store, error) {
	return etcdlease.Dial(clientConfig(), cfg.LeasePath, etcdlease.Options{TTL: cfg.TTL})
}

// kinds returns the fault kinds that apply to etcd: all but damage.
func kinds() []string {
	return slices.DeleteFunc(chaos.Kinds(), func(k string) bool { return k == chaos.Damage })
}

func run() int {
	var cfg chaos.Config
	flag.IntVar(&cfg.Workers, "workers", 6, "worker processes")
	flag.DurationVar(&cfg.Duration, "duration", 10*time.Minute, "how long to inject faults")
	flag.DurationVar(&cfg.TTL, "ttl", etcdlease.MinTTL, "lease TTL, whole seconds, at least 2s")
	flag.DurationVar(&cfg.Renew, "renew", 500*time.Millisecond, "renewal interval")
	flag.StringVar(&cfg.Impl, "impl", "owner", `"owner", or "election" for the baseline, etcd's concurrency.Election`)
	flag.Uint64Var(&cfg.Seed, "seed", uint64(time.Now().UnixNano()), "random seed")
	flag.DurationVar(&cfg.ProgressEvery, "progress", 10*time.Second, "progress line interval; 0 for none")
	members := flag.Int("members", 3, "etcd members")
	out := flag.String("out", "", "write the events to this file (JSON lines; leasechaos -check reads it)")
	report := flag.String("report", "", "write the report to this file (JSON)")
	maxGap := flag.Duration("max-gap", 0, "longest time without an owner the failure model allows (default TTL + 1.5s)")
	faults := flag.String("faults", "", "comma-separated fault kinds to inject (default all): "+strings.Join(kinds(), ", "))
	flag.Parse()
	if *faults == "" {
		cfg.Faults = kinds()
	} else {
		cfg.Faults = strings.Split(*faults, ",")
		for _, k := range cfg.Faults {
			if !slices.Contains(kinds(), k) {
				fmt.Fprintf(os.Stderr, "leasechaos-etcd: -faults: unknown kind %q (known: %s)\n", k, strings.Join(kinds(), ", "))
				return 2
			}
		}
	}
	if *maxGap == 0 {
		*maxGap = cfg.TTL + expiryLag + time.Second
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "leasechaos-etcd:", err)
		return 2
	}
	cfg.Exe = exe
	cfg.Progress = os.Stdout
	fmt.Printf("leasechaos-etcd: %d workers (%s) on %d etcd members, %v, TTL %v, renewal %v, seed %d\n",
		cfg.Workers, cfg.Impl, *members, cfg.Duration, cfg.TTL, cfg.Renew, cfg.Seed)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	res, err := runOnEtcd(ctx, cfg, *members)
	stop()
	if err == nil && *out != "" {
		err = res.Save(*out)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "leasechaos-etcd:", err)
		return 2
	}
	code, err := chaos.Conclude(os.Stdout, res, *maxGap, *report)
	if err != nil {
		fmt.Fprintln(os.Stderr, "leasechaos-etcd:", err)
	}
	return code
}

// runOnEtcd runs cfg on a new cluster of the given number of members,
// which it stops before returning.
func runOnEtcd(ctx context.Context, cfg chaos.Config, members int) (*chaos.Result, error) {
	// etcd's data in a temporary directory, without fsync: the faults are
	// in the workers, not in etcd.
	dir, err := os.MkdirTemp("", "leasechaos-etcd")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	c, err := embedded.Start(dir, members, nil, 30*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	cfg.Env = append(cfg.Env, envEndpoints+"="+strings.Join(c.Clients, ","))
	return chaos.Run(ctx, cfg)
}
