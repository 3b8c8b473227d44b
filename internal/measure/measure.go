//go:build unix

// Package measure times failover between real worker processes (package
// fleet) and reads what idle ones cost: the figures behind the benchmarks
// and cmd/leasebench. Handover, Hang and IdleCPU measure one fault kind at
// a time; RunLoaded mixes them at random on a fleet kept at its size while
// the owner works, and IdleCost reads CPU time and context switches from
// /proc (Linux) without waking the processes.
package measure

import (
	"context"
	"errors"
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

// ErrSuperseded is returned by a measurement whose signal reached a worker
// that had already been succeeded, by a takeover the measurement did not
// cause: it measured nothing.
var ErrSuperseded = errors.New("measure: the signalled owner had already been succeeded")

// successor waits for the first successful Check of an epoch above e's at
// or after position mark, and makes sure it is that epoch's first, begun
// after t0, when the fault was sent, by a worker that acquired after t0:
// else the takeover came before the fault, and ErrSuperseded is returned
// with the event.
func successor(f *fleet.Fleet, mark int, e worker.Event, t0 int64) (worker.Event, error) {
	next, at, err := Await(f, mark, func(n worker.Event) bool { return n.Kind == worker.OK && n.Epoch > e.Epoch })
	if err != nil {
		return next, err
	}
	log := f.Log()
	for _, p := range log[:at] {
		if p.Epoch != next.Epoch {
			continue
		}
		if p.Kind == worker.OK || (p.Kind == worker.Acquired && p.T1 < t0) {
			return next, fmt.Errorf("%w: epoch %d was acquired before the fault to %d", ErrSuperseded, next.Epoch, e.Epoch)
		}
	}
	if next.T1 < t0 {
		return next, fmt.Errorf("%w: epoch %d passed Check before the fault", ErrSuperseded, next.Epoch)
	}
	return next, nil
}

// HandoverOnce sends sig to w, the owner of e's epoch, and returns the
// time from the signal to the end of the successor's first successful
// Check, and that Check.
func HandoverOnce(f *fleet.Fleet, w *fleet.Worker, e worker.Event, sig syscall.Signal) (time.Duration, worker.Event, error) {
	mark := f.Mark()
	t0, err := w.Signal(sig)
	if err != nil {
		return 0, worker.Event{}, err
	}
	next, err := successor(f, mark, e, t0)
	if err != nil {
		return 0, next, err
	}
	return time.Duration(next.T2 - t0), next, nil
}

// Renewal tells when w, the owner of e's epoch, frozen with all its
// threads stopped, last renewed its tenure: a time on the monotonic clock
// of mono.Now. ErrSuperseded if e's tenure had already ended.
type Renewal func(f *fleet.Fleet, w *fleet.Worker, e worker.Event) (int64, error)

// RecordRenewal is the Renewal of the file lease: the renewed_at of its
// record.
func RecordRenewal(f *fleet.Fleet, _ *fleet.Worker, e worker.Event) (int64, error) {
	raw, err := os.ReadFile(f.Path)
	if err != nil {
		return 0, err
	}
	rec, err := lease.DecodeRecord(raw)
	if err != nil {
		return 0, fmt.Errorf("measure: record after SIGSTOP: %w", err)
	}
	if rec.Epoch != e.Epoch {
		return 0, fmt.Errorf("%w: the record names epoch %d after SIGSTOP to %d", ErrSuperseded, rec.Epoch, e.Epoch)
	}
	wallMinusMono := time.Now().UnixNano() - mono.Now()
	return rec.RenewedAt.UnixNano() - wallMinusMono, nil
}

// HangOnce freezes w, the owner of e's epoch, with SIGSTOP and returns the
// time from its last renewal (as last tells once all its threads have
// stopped; RecordRenewal if nil) to the end of the successor's first
// successful Check, less ttl; and that Check. w stays stopped: the caller
// resumes it.
func HangOnce(f *fleet.Fleet, w *fleet.Worker, e worker.Event, ttl time.Duration, last Renewal) (time.Duration, worker.Event, error) {
	if last == nil {
		last = RecordRenewal
	}
	mark := f.Mark()
	t0, err := w.Signal(syscall.SIGSTOP)
	if err != nil {
		return 0, worker.Event{}, err
	}
	// A renewal inside the kernel, its rename waiting on the disk, ends
	// before the thread stops: the renewal read after that is the last.
	if err := AwaitStopped(w.Pid(), Limit); err != nil {
		return 0, worker.Event{}, err
	}
	renewed, err := last(f, w, e)
	if err != nil {
		return 0, worker.Event{}, err
	}
	next, err := successor(f, mark, e, t0)
	if err != nil {
		return 0, next, err
	}
	return time.Duration(next.T2-renewed) - ttl, next, nil
}

// Handover sends sig to the owner n times, each time measuring until the
// successor's first successful Check (HandoverOnce), and starts a worker
// for the one that went.
func Handover(f *fleet.Fleet, sig syscall.Signal, n int) ([]time.Duration, error) {
	e, err := Owner(f)
	if err != nil {
		return nil, err
	}
	var ds []time.Duration
	for range n {
		d, next, err := HandoverOnce(f, f.Workers()[e.Worker], e, sig)
		if err != nil {
			return ds, err
		}
		ds = append(ds, d)
		if err := Replace(f); err != nil {
			return ds, err
		}
		e = next
	}
	return ds, nil
}

// Hang freezes the owner n times with SIGSTOP, measuring each time how
// long the successor took beyond the TTL (HangOnce, with last); then
// resumes it (it exits, having lost) and starts a worker in its place.
func Hang(f *fleet.Fleet, ttl time.Duration, n int, last Renewal) ([]time.Duration, error) {
	e, err := Owner(f)
	if err != nil {
		return nil, err
	}
	var ds []time.Duration
	for range n {
		w := f.Workers()[e.Worker]
		d, next, err := HangOnce(f, w, e, ttl, last)
		if err != nil {
			return ds, err
		}
		ds = append(ds, d)
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
	Slowest         time.Duration // the longest Join call
	SlowestFollower time.Duration // the longest Join that returned follower
	Owner           time.Duration // the Join that returned owner (the last one, if several did)
	Spread          time.Duration // from the first Join call's start to the last one's
	Owners          int           // how many Joins returned owner
}

// JoinBurst starts n workers on a new lease in dir, with extra in their
// environment, lets them all call Join at once, and reports the round.
func JoinBurst(exe string, args []string, dir string, n int, ttl time.Duration, extra ...string) (Joins, error) {
	f, err := fleet.Launch(exe, args, dir, n, ttl, 0, append([]string{worker.EnvBarrier + "=1"}, extra...)...)
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
			j.Owner = time.Duration(e.T2 - e.T1)
		} else {
			j.SlowestFollower = max(j.SlowestFollower, time.Duration(e.T2-e.T1))
		}
	}
	j.Spread = time.Duration(last - first)
	return j, nil
}
