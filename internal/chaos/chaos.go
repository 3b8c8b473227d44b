//go:build unix

// Package chaos runs worker processes on one lease and hurts them at
// random, then judges what they reported: the engine of cmd/leasechaos and
// of the baseline in cmd/leasebench.
package chaos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/leasehold/leasehold/internal/fleet"
	"github.com/leasehold/leasehold/internal/history"
	"github.com/leasehold/leasehold/internal/mono"
	"github.com/leasehold/leasehold/internal/worker"
)

// Config describes a run.
type Config struct {
	Exe      string        // the worker binary: a program that calls worker.Main when worker.Active
	Workers  int           // processes kept running
	Duration time.Duration // how long faults are injected
	TTL      time.Duration
	Renew    time.Duration
	Impl     string // "" or "owner" for package owner, "naive" for the baseline
	Seed     uint64
	Faults   []string // the kinds to inject; nil for all
	Args     []string // passed to Exe (a test binary needs "-test.run=^$")
	Env      []string // added to the workers' environment (a store's address)
	// Progress, if set, receives a line every ProgressEvery.
	Progress      io.Writer
	ProgressEvery time.Duration
}

// The faults, by the name reports use.
const (
	KillOwner    = "kill-owner"    // SIGKILL the owner
	StopOwner    = "stop-owner"    // SIGSTOP the owner for 1.2 to 3 TTLs, then SIGCONT
	ReleaseOwner = "release-owner" // the owner releases and joins again
	KillFollower = "kill-follower" // SIGKILL a follower
	Burst        = "burst"         // kill half the followers, start as many at once
	Damage       = "damage"        // kill every worker, delete or corrupt the record, start them all at once
)

var weights = []struct {
	kind string
	w    int
}{{KillOwner, 25}, {StopOwner, 20}, {ReleaseOwner, 20}, {KillFollower, 15}, {Burst, 10}, {Damage, 10}}

// Result is what a run recorded.
type Result struct {
	Config Config
	Events []worker.Event
	Faults []history.Fault
	Bad    []string // worker output that was not an event
}

type run struct {
	cfg  Config
	f    *fleet.Fleet
	path string
	rng  *rand.Rand

	mu     sync.Mutex
	frozen map[int]bool
	faults []history.Fault
	wg     sync.WaitGroup // resumers
}

// Run injects faults for cfg.Duration and returns what happened.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	dir, err := os.MkdirTemp("", "leasechaos")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	r := &run{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)), frozen: map[int]bool{}}
	r.f, err = fleet.Launch(cfg.Exe, cfg.Args, dir, cfg.Workers, cfg.TTL, cfg.Renew,
		append([]string{worker.EnvRejoin + "=1", worker.EnvImpl + "=" + cfg.Impl}, cfg.Env...)...)
	if err != nil {
		return nil, err
	}
	r.path = r.f.Path
	err = r.loop(ctx)
	r.wg.Wait()
	r.f.Close()
	r.mu.Lock()
	defer r.mu.Unlock()
	return &Result{Config: cfg, Events: r.f.Log(), Faults: r.faults, Bad: r.f.BadLines()}, err
}

func (r *run) start(n int) error {
	for range n {
		if _, err := r.f.Start(); err != nil {
			return err
		}
	}
	return nil
}

func (r *run) note(kind string) {
	r.mu.Lock()
	r.faults = append(r.faults, history.Fault{Kind: kind, T: mono.Now()})
	r.mu.Unlock()
}

func (r *run) loop(ctx context.Context) error {
	end := time.Now().Add(r.cfg.Duration)
	var progress <-chan time.Time
	if r.cfg.Progress != nil && r.cfg.ProgressEvery > 0 {
		t := time.NewTicker(r.cfg.ProgressEvery)
		defer t.Stop()
		progress = t.C
	}
	begin := time.Now()
	for time.Now().Before(end) {
		wait := r.cfg.TTL/2 + time.Duration(r.rng.Int64N(int64(3*r.cfg.TTL/2)))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-progress:
			r.progress(time.Since(begin))
			continue
		case <-time.After(wait):
		}
		if err := r.inject(r.pick()); err != nil {
			return err
		}
	}
	return nil
}

func (r *run) pick() string {
	use := func(kind string) bool { return r.cfg.Faults == nil || slices.Contains(r.cfg.Faults, kind) }
	total := 0
	for _, w := range weights {
		if use(w.kind) {
			total += w.w
		}
	}
	n := r.rng.IntN(total)
	for _, w := range weights {
		if !use(w.kind) {
			continue
		}
		if n < w.w {
			return w.kind
		}
		n -= w.w
	}
	return weights[0].kind
}

// alive returns the running workers that are not frozen, and the owner
// among them (nil if none is known).
func (r *run) alive() (live []*fleet.Worker, owner *fleet.Worker) {
	log := r.f.Log()
	best := map[int]uint64{} // worker -> highest epoch it holds, by its events
	for _, e := range log {
		switch e.Kind {
		case worker.Acquired, worker.OK:
			best[e.Worker] = max(best[e.Worker], e.Epoch)
		case worker.Lost, worker.Released:
			delete(best, e.Worker)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var top uint64
	for _, w := range r.f.Workers() {
		select {
		case <-w.Done():
			continue
		default:
		}
		if r.frozen[w.ID] {
			continue
		}
		live = append(live, w)
		if e, ok := best[w.ID]; ok && e > top {
			top, owner = e, w
		}
	}
	return live, owner
}

func (r *run) inject(kind string) error {
	live, owner := r.alive()
	var followers []*fleet.Worker
	for _, w := range live {
		if w != owner {
			followers = append(followers, w)
		}
	}
	switch kind {
	case KillOwner, StopOwner, ReleaseOwner:
		if owner == nil {
			return nil
		}
	case KillFollower:
		if len(followers) == 0 {
			return nil
		}
	}
	if kind != Damage {
		r.note(kind)
	}
	switch kind {
	case KillOwner:
		owner.Signal(syscall.SIGKILL)
		<-owner.Done()
		return r.start(1)
	case StopOwner:
		r.mu.Lock()
		r.frozen[owner.ID] = true
		r.mu.Unlock()
		owner.Signal(syscall.SIGSTOP)
		d := r.cfg.TTL*6/5 + time.Duration(r.rng.Int64N(int64(r.cfg.TTL*9/5)))
		r.wg.Add(1)
		time.AfterFunc(d, func() {
			defer r.wg.Done()
			owner.Signal(syscall.SIGCONT)
			r.mu.Lock()
			delete(r.frozen, owner.ID)
			r.mu.Unlock()
		})
		return nil
	case ReleaseOwner:
		return owner.Send(worker.CmdRelease)
	case KillFollower:
		w := followers[r.rng.IntN(len(followers))]
		w.Signal(syscall.SIGKILL)
		<-w.Done()
		return r.start(1)
	case Burst:
		n := max(len(followers)/2, 1)
		for _, w := range followers[:min(n, len(followers))] {
			w.Signal(syscall.SIGKILL)
			<-w.Done()
		}
		return r.start(n)
	case Damage:
		r.wg.Wait() // let frozen workers resume first
		for _, w := range r.f.Workers() {
			w.Signal(syscall.SIGKILL)
			<-w.Done()
		}
		r.note(kind) // when the owner is surely gone: the gap it leaves starts before

		var err error
		if r.rng.IntN(2) == 0 {
			err = os.Remove(r.path)
		} else {
			err = os.WriteFile(r.path, []byte(`{"version":1,"instance_id":"x","epo`), 0o600)
		}
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return r.start(r.cfg.Workers)
	}
	return fmt.Errorf("chaos: unknown fault %q", kind)
}

func (r *run) progress(elapsed time.Duration) {
	log := r.f.Log()
	var top uint64
	for _, e := range log {
		top = max(top, e.Epoch)
	}
	r.mu.Lock()
	counts := map[string]int{}
	for _, f := range r.faults {
		counts[f.Kind]++
	}
	r.mu.Unlock()
	var parts []string
	for _, w := range weights {
		parts = append(parts, fmt.Sprintf("%s=%d", w.kind, counts[w.kind]))
	}
	violations := len(history.Violations(log))
	fmt.Fprintf(r.cfg.Progress, "%6.0fs  epoch %d  violations %d  faults: %s\n", elapsed.Seconds(), top, violations, strings.Join(parts, " "))
}

// FaultCounts returns how many faults of each kind res holds, by kind.
func (res *Result) FaultCounts() map[string]int {
	m := map[string]int{}
	for _, f := range res.Faults {
		m[f.Kind]++
	}
	return m
}

// Kinds returns the fault kinds in a stable order.
func Kinds() []string {
	var k []string
	for _, w := range weights {
		k = append(k, w.kind)
	}
	sort.Strings(k)
	return k
}
