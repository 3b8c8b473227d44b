//go:build unix

// Package proctest holds the process tests that every lease store must
// pass, run on a fleet of real worker processes hurt with real signals:
// simultaneous joins elect one owner, a killed owner is replaced, a frozen
// one is replaced and, resumed, fails its first Check and exits 3. The
// tests of package owner run them on the file store, those of etcdlease on
// etcd, each with its own bounds.
package proctest

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/leasehold/leasehold/internal/fleet"
	"github.com/leasehold/leasehold/internal/history"
	"github.com/leasehold/leasehold/internal/worker"
)

// Run is a fleet under test.
type Run struct {
	T     testing.TB
	F     *fleet.Fleet
	Limit time.Duration // for anything to happen at all
}

// Checked returns a Run of f, which it closes at t's cleanup, failing t on
// any safety violation or bad line in what the workers reported.
func Checked(t testing.TB, f *fleet.Fleet, limit time.Duration) Run {
	t.Cleanup(func() {
		f.Close()
		for _, v := range history.Violations(f.Log()) {
			t.Errorf("safety: %s", v)
		}
		for _, l := range f.BadLines() {
			t.Errorf("bad worker output: %s", l)
		}
	})
	return Run{T: t, F: f, Limit: limit}
}

// Kind matches the events of kind k.
func Kind(k string) func(worker.Event) bool {
	return func(e worker.Event) bool { return e.Kind == k }
}

// Await waits for the first event from index from on that match accepts,
// and returns it with its index.
func (r Run) Await(from int, match func(worker.Event) bool) (worker.Event, int) {
	r.T.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), r.Limit)
	defer cancel()
	e, i, err := r.F.Await(ctx, from, match)
	if err != nil {
		for _, e := range r.F.Log() {
			if e.Kind == worker.Error {
				r.T.Logf("worker %d: %s", e.Worker, e.Text)
			}
		}
		r.T.Fatal(err)
	}
	return e, i
}

// FirstOK waits for the first successful Check of an epoch above above.
func (r Run) FirstOK(from int, above uint64) worker.Event {
	r.T.Helper()
	e, _ := r.Await(from, func(e worker.Event) bool { return e.Kind == worker.OK && e.Epoch > above })
	return e
}

// JoinAtOnce lets the n workers of a fleet started with worker.EnvBarrier
// join at the same instant, and fails unless exactly one became the owner.
func (r Run) JoinAtOnce(n int) {
	r.T.Helper()
	for i, from := 0, 0; i < n; i++ {
		_, from = r.Await(from, Kind(worker.Ready))
		from++
	}
	for _, w := range r.F.Workers() {
		if err := w.Send(worker.CmdGo); err != nil {
			r.T.Fatal(err)
		}
	}
	owners, from := 0, 0
	for range n {
		var e worker.Event
		e, from = r.Await(from, Kind(worker.Joined))
		from++
		if strings.HasPrefix(e.Text, "owner ") {
			owners++
		}
	}
	if owners != 1 {
		r.T.Fatalf("%d of %d simultaneous joins returned owner", owners, n)
	}
}

// CrashFailover kills the owner rounds times, each time starting a new
// worker in its place, and fails if a successor's first Check came later
// than bound after the SIGKILL.
func (r Run) CrashFailover(rounds int, bound time.Duration) {
	r.T.Helper()
	var epoch uint64 // the killed owner's
	for range rounds {
		e := r.FirstOK(r.F.Mark(), epoch) // the owner now
		epoch = e.Epoch
		t0, err := r.F.Workers()[e.Worker].Signal(syscall.SIGKILL)
		if err != nil {
			r.T.Fatal(err)
		}
		next := r.FirstOK(r.F.Mark(), epoch)
		d := time.Duration(next.T2 - t0)
		r.T.Logf("SIGKILL to successor's first Check: %v (epoch %d -> %d)", d, epoch, next.Epoch)
		if d > bound {
			r.T.Errorf("crash failover took %v, more than %v", d, bound)
		}
		if _, err := r.F.Start(); err != nil { // keep as many
			r.T.Fatal(err)
		}
	}
}

// HangFailover freezes the owner and fails if a successor's first Check
// came later than bound after the SIGSTOP; then resumes it, which must not
// pass Check again, must report the loss and exit with status 3.
func (r Run) HangFailover(bound time.Duration) {
	r.T.Helper()
	e := r.FirstOK(0, 0)
	w := r.F.Workers()[e.Worker]
	stopped, err := w.Signal(syscall.SIGSTOP)
	if err != nil {
		r.T.Fatal(err)
	}
	next := r.FirstOK(r.F.Mark(), e.Epoch)
	if next.Worker == w.ID {
		r.T.Fatal("the frozen worker checked")
	}
	d := time.Duration(next.T2 - stopped)
	r.T.Logf("SIGSTOP to successor's first Check: %v", d)
	if d > bound {
		r.T.Errorf("hang failover took %v, more than %v", d, bound)
	}
	resumed, err := w.Signal(syscall.SIGCONT)
	if err != nil {
		r.T.Fatal(err)
	}
	lost, _ := r.Await(0, func(x worker.Event) bool { return x.Worker == w.ID && x.Kind == worker.Lost })
	if !strings.Contains(lost.Text, "ownership lost") {
		r.T.Errorf("lost: %s", lost.Text)
	}
	for _, x := range r.F.Log() {
		if x.Worker == w.ID && x.Kind == worker.OK && x.T1 >= resumed {
			r.T.Fatalf("resumed owner passed Check at %d, after SIGCONT at %d", x.T1, resumed)
		}
	}
	<-w.Done()
	if ws := w.Err(); ws == nil || !strings.Contains(ws.Error(), "exit status 3") {
		r.T.Fatalf("resumed worker exit = %v, want status 3 (lost)", ws)
	}
}
