//go:build unix

// Command leasechaos runs worker processes on one lease, each a real
// process using the public owner API, and injects faults at random into
// the owner and the followers: SIGKILL, SIGSTOP past the TTL then SIGCONT,
// release and rejoin, kill of a follower, bursts of simultaneous joins, and
// deletion or corruption of the record while nobody holds it. Every worker
// reports each successful Check with its epoch; afterwards a checker looks
// for two owners at once, an epoch claimed twice, epochs going backwards,
// times without an owner longer than the failure model allows, and errors.
// It exits 1 on any safety violation.
//
//	leasechaos -duration 10m -workers 8 -ttl 400ms -out chaos.jsonl
//	leasechaos -check chaos.jsonl
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

	"github.com/leasehold/leasehold/internal/chaos"
	"github.com/leasehold/leasehold/internal/worker"
)

func main() {
	if worker.Active() {
		os.Exit(worker.Main())
	}
	os.Exit(run())
}

func run() int {
	var cfg chaos.Config
	flag.IntVar(&cfg.Workers, "workers", 8, "worker processes")
	flag.DurationVar(&cfg.Duration, "duration", 10*time.Minute, "how long to inject faults")
	flag.DurationVar(&cfg.TTL, "ttl", 400*time.Millisecond, "lease TTL")
	flag.DurationVar(&cfg.Renew, "renew", 100*time.Millisecond, "renewal interval")
	flag.StringVar(&cfg.Impl, "impl", "owner", `"owner", or "naive" for the baseline`)
	flag.Uint64Var(&cfg.Seed, "seed", uint64(time.Now().UnixNano()), "random seed")
	flag.DurationVar(&cfg.ProgressEvery, "progress", 10*time.Second, "progress line interval; 0 for none")
	out := flag.String("out", "", "write the events to this file (JSON lines)")
	report := flag.String("report", "", "write the report to this file (JSON)")
	check := flag.String("check", "", "only judge an events file written by -out")
	maxGap := flag.Duration("max-gap", 0, "longest time without an owner the failure model allows (default TTL + 500ms)")
	workerBin := flag.String("worker", "", "the worker binary (cmd/leaseworker); default: this binary")
	faults := flag.String("faults", "", "comma-separated fault kinds to inject (default all): "+strings.Join(chaos.Kinds(), ", "))
	flag.Parse()
	if *faults != "" {
		cfg.Faults = strings.Split(*faults, ",")
		for _, k := range cfg.Faults {
			if !slices.Contains(chaos.Kinds(), k) {
				fmt.Fprintf(os.Stderr, "leasechaos: -faults: unknown kind %q (known: %s)\n", k, strings.Join(chaos.Kinds(), ", "))
				return 2
			}
		}
	}

	var res *chaos.Result
	var err error
	if *check != "" {
		res, err = chaos.Load(*check)
	} else {
		if cfg.Exe, err = os.Executable(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		if *workerBin != "" {
			cfg.Exe = *workerBin
		}
		cfg.Progress = os.Stdout
		fmt.Printf("leasechaos: %d workers (%s), %v, TTL %v, renewal %v, seed %d\n", cfg.Workers, cfg.Impl, cfg.Duration, cfg.TTL, cfg.Renew, cfg.Seed)
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		res, err = chaos.Run(ctx, cfg)
		stop()
		if err == nil && *out != "" {
			err = res.Save(*out)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "leasechaos:", err)
		return 2
	}
	if *maxGap == 0 {
		*maxGap = res.Config.TTL + 500*time.Millisecond
	}
	code, err := chaos.Conclude(os.Stdout, res, *maxGap, *report)
	if err != nil {
		fmt.Fprintln(os.Stderr, "leasechaos:", err)
	}
	return code
}
