//go:build unix

// Package measure times failover between real worker processes (package
// fleet): the figures behind the benchmarks and cmd/leasebench.
package measure

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/leasehold/leasehold/internal/fleet"
	"github.com/leasehold/leasehold/internal/mono"
	"github.com/leasehold/leasehold/internal/worker"
	"github.com/leasehold/leasehold/lease"
)

// Limit bounds every wait for a worker's event.
var Limit = 30 * time.Second

// Await waits for the first event at or after from that match accepts.
func Await(f *fleet.Fleet, from int, match func(worker.Event) bool) (worker.Event, int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), Limit)
	defer cancel()
	return f.Await(ctx, from, match)
}

// FirstOK waits for the first successful Check of an epoch above above.
func FirstOK(f *fleet.Fleet, from int, above uint64) (worker.Event, error) {
	e, _, err := Await(f, from, func(e worker.Event) bool { return e.Kind == worker.OK && e.Epoch > above })
	return e, err
}

// Owner waits for a successful Check of the latest epoch seen so far, and
// returns it: the current owner.
func Owner(f *fleet.Fleet) (worker.Event, error) {
	var top uint64
	for _, e := range f.Log() {
		if e.Kind == worker.OK {
			top = max(top, e.Epoch)
		}
	}
	return FirstOK(f, 0, max(top, 1)-1)
}

// Replace starts a worker and waits until it has joined.
func Replace(f *fleet.Fleet) error {
	mark := f.Mark()
	w, err := f.Start()
	if err != nil {
		return err
	}
	_, _, err = Await(f, mark, func(e worker.Event) bool { return e.Worker == w.ID && e.Kind == worker.Joined })
	return err
}

// Handover sends sig to the owner n times, each time measuring until the
// successor's first successful Check, and starts a worker for the one
// that went.
func Handover(f *fleet.Fleet, sig syscall.Signal, n int) ([]time.Duration, error) {
	e, err := Owner(f)
	if err != nil {
		return nil, err
	}
	var ds []time.Duration
	for range n {
		mark := f.Mark()
		t0, err := f.Workers()[e.Worker].Signal(sig)
		if err != nil {
			return ds, err
		}
		next, err := FirstOK(f, mark, e.Epoch)
		if err != nil {
			return ds, err
		}
		ds = append(ds, time.Duration(next.T2-t0))
		if err := Replace(f); err != nil {
			return ds, err
		}
		e = next
	}
	return ds, nil
}

// Hang freezes the owner n times with SIGSTOP and measures from its last
// renewal (the renewed_at of its last record) to the successor's first
// successful Check, less the TTL; then resumes it (it exits, having lost)
// and starts a worker in its place.
func Hang(f *fleet.Fleet, ttl time.Duration, n int) ([]time.Duration, error) {
	e, err := Owner(f)
	if err != nil {
		return nil, err
	}
	var ds []time.Duration
	for range n {
		w := f.Workers()[e.Worker]
		mark := f.Mark()
		if _, err := w.Signal(syscall.SIGSTOP); err != nil {
			return ds, err
		}
		raw, err := os.ReadFile(f.Path)
		if err != nil {
			return ds, err
		}
		rec, err := lease.DecodeRecord(raw)
		if err != nil || rec.Epoch != e.Epoch {
			return ds, fmt.Errorf("measure: record after SIGSTOP: %+v, %v", rec, err)
		}
		wallMinusMono := time.Now().UnixNano() - mono.Now()
		next, err := FirstOK(f, mark, e.Epoch)
		if err != nil {
			return ds, err
		}
		ds = append(ds, time.Duration(next.T2+wallMinusMono-rec.RenewedAt.UnixNano())-ttl)
		if _, err := w.Signal(syscall.SIGCONT); err != nil {
			return ds, err
		}
		<-w.Done()
		if err := Replace(f); err != nil {
			return ds, err
		}
		e = next
	}
	return ds, nil
}

// CPU is the CPU use of a set of workers, in percent of one core.
type CPU struct {
	Owner     float64
	Followers []float64
}

// IdleCPU waits until all n workers have joined and settled, then
// measures the CPU each uses over window.
func IdleCPU(f *fleet.Fleet, n int, window time.Duration) (CPU, error) {
	for i, from := 0, 0; i < n; i++ {
		_, at, err := Await(f, from, func(e worker.Event) bool { return e.Kind == worker.Joined })
		if err != nil {
			return CPU{}, err
		}
		from = at + 1
	}
	ownerEv, err := Owner(f)
	if err != nil {
		return CPU{}, err
	}
	time.Sleep(time.Second) // let every follower connect
	before, err := sampleCPU(f, n)
	if err != nil {
		return CPU{}, err
	}
	time.Sleep(window)
	after, err := sampleCPU(f, n)
	if err != nil {
		return CPU{}, err
	}
	var c CPU
	for id, a := range after {
		s := before[id]
		pct := 100 * float64(a.T1-s.T1) / float64(a.T2-s.T2)
		if id == ownerEv.Worker {
			c.Owner = pct
		} else {
			c.Followers = append(c.Followers, pct)
		}
	}
	return c, nil
}

func sampleCPU(f *fleet.Fleet, n int) (map[int]worker.Event, error) {
	mark := f.Mark()
	for _, w := range f.Workers() {
		if err := w.Send(worker.CmdCPU); err != nil {
			return nil, err
		}
	}
	got := map[int]worker.Event{}
	for from := mark; len(got) < n; {
		e, at, err := Await(f, from, func(e worker.Event) bool { return e.Kind == worker.CPU })
		if err != nil {
			return nil, err
		}
		got[e.Worker] = e
		from = at + 1
	}
	return got, nil
}

// Joins is one round of simultaneous joins.
type Joins struct {
	Slowest time.Duration // the longest Join call
	Spread  time.Duration // from the first Join call's start to the last one's
	Owners  int           // how many Joins returned owner
}

// JoinBurst starts n workers on a new lease in dir, lets them all call
// Join at once, and reports the round.
func JoinBurst(exe string, args []string, dir string, n int, ttl time.Duration) (Joins, error) {
	f, err := fleet.Launch(exe, args, dir, n, ttl, 0, worker.EnvBarrier+"=1")
	if err != nil {
		return Joins{}, err
	}
	defer f.Close()
	for i, from := 0, 0; i < n; i++ {
		_, at, err := Await(f, from, func(e worker.Event) bool { return e.Kind == worker.Ready })
		if err != nil {
			return Joins{}, err
		}
		from = at + 1
	}
	for _, w := range f.Workers() {
		if err := w.Send(worker.CmdGo); err != nil {
			return Joins{}, err
		}
	}
	var j Joins
	var first, last int64
	for i, from := 0, 0; i < n; i++ {
		e, at, err := Await(f, from, func(e worker.Event) bool { return e.Kind == worker.Joined })
		if err != nil {
			return j, err
		}
		from = at + 1
		j.Slowest = max(j.Slowest, time.Duration(e.T2-e.T1))
		if first == 0 || e.T1 < first {
			first = e.T1
		}
		last = max(last, e.T1)
		if len(e.Text) >= 5 && e.Text[:5] == "owner" {
			j.Owners++
		}
	}
	j.Spread = time.Duration(last - first)
	return j, nil
}
