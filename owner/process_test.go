//go:build unix

package owner_test

import (
	"context"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/leasehold/leasehold/internal/fleet"
	"github.com/leasehold/leasehold/internal/history"
	"github.com/leasehold/leasehold/internal/worker"
)

// Process tests: every instance is a real process (this test binary run as
// a worker), hurt with real signals. Their bounds are generous; the tight
// figures come from the benchmarks.

const (
	procTTL   = 400 * time.Millisecond
	procRenew = 100 * time.Millisecond
	procLimit = 20 * time.Second // for anything to happen at all
)

func startFleet(t testing.TB, n int, extra ...string) *fleet.Fleet {
	t.Helper()
	return startFleetTTL(t, n, procTTL, procRenew, extra...)
}

// startFleetTTL starts n workers on a new lease; at cleanup it kills them
// and fails t on any safety violation in what they reported.
func startFleetTTL(t testing.TB, n int, ttl, renew time.Duration, extra ...string) *fleet.Fleet {
	t.Helper()
	f, err := fleet.Launch(os.Args[0], []string{"-test.run=^$"}, t.TempDir(), n, ttl, renew, extra...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		f.Close()
		for _, v := range history.Violations(f.Log()) {
			t.Errorf("safety: %s", v)
		}
		for _, l := range f.BadLines() {
			t.Errorf("bad worker output: %s", l)
		}
	})
	return f
}

func kind(k string) func(worker.Event) bool {
	return func(e worker.Event) bool { return e.Kind == k }
}

func await(t testing.TB, f *fleet.Fleet, from int, match func(worker.Event) bool) (worker.Event, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), procLimit)
	defer cancel()
	e, i, err := f.Await(ctx, from, match)
	if err != nil {
		t.Fatal(err)
	}
	return e, i
}

// firstOK waits for the first successful Check of an epoch above epoch.
func firstOK(t testing.TB, f *fleet.Fleet, from int, above uint64) worker.Event {
	t.Helper()
	e, _ := await(t, f, from, func(e worker.Event) bool { return e.Kind == worker.OK && e.Epoch > above })
	return e
}

func TestProcessesJoinAtOnceOneOwner(t *testing.T) {
	for round := range 3 {
		f := startFleet(t, 8, worker.EnvBarrier+"=1")
		for i, from := 0, 0; i < 8; i++ {
			_, from = await(t, f, from, kind(worker.Ready))
			from++
		}
		for _, w := range f.Workers() {
			if err := w.Send(worker.CmdGo); err != nil {
				t.Fatal(err)
			}
		}
		owners, from := 0, 0
		for range 8 {
			var e worker.Event
			e, from = await(t, f, from, kind(worker.Joined))
			from++
			if strings.HasPrefix(e.Text, "owner ") {
				owners++
			}
		}
		if owners != 1 {
			t.Fatalf("round %d: %d of 8 simultaneous joins returned owner", round, owners)
		}
		f.Close()
	}
}

// ownerWorker waits for an owner and returns it with its epoch.
func ownerWorker(t *testing.T, f *fleet.Fleet, from int) (*fleet.Worker, worker.Event) {
	t.Helper()
	e := firstOK(t, f, from, 0)
	return f.Workers()[e.Worker], e
}

func TestProcessCrashFailover(t *testing.T) {
	f := startFleet(t, 3)
	var epoch uint64
	for range 3 {
		mark := f.Mark()
		w, e := ownerWorker(t, f, mark)
		epoch = max(epoch, e.Epoch)
		t0, err := w.Signal(syscall.SIGKILL)
		if err != nil {
			t.Fatal(err)
		}
		next := firstOK(t, f, f.Mark(), epoch)
		if d := time.Duration(next.T2 - t0); d >= procTTL {
			t.Errorf("crash failover took %v, not less than the TTL %v", d, procTTL)
		} else {
			t.Logf("SIGKILL to successor's first Check: %v (epoch %d -> %d)", d, epoch, next.Epoch)
		}
		epoch = next.Epoch
		if _, err := f.Start(); err != nil { // keep three
			t.Fatal(err)
		}
	}
}

func TestProcessReleaseHandover(t *testing.T) {
	f := startFleet(t, 3)
	w, e := ownerWorker(t, f, 0)
	t0, err := w.Signal(syscall.SIGTERM)
	if err != nil {
		t.Fatal(err)
	}
	next := firstOK(t, f, f.Mark(), e.Epoch)
	if d := time.Duration(next.T2 - t0); d >= procTTL {
		t.Errorf("handover took %v, not less than the TTL %v", d, procTTL)
	} else {
		t.Logf("SIGTERM to successor's first Check: %v", d)
	}
	t1 := time.Now()
	<-w.Done()
	t.Logf("exit after %v", time.Since(t1))
	if err := w.Err(); err != nil {
		t.Fatalf("released worker exited with %v, want 0", err)
	}
}

// A frozen owner is taken over after its TTL; resumed, its first Check
// fails and it reports the loss.
func TestProcessHangFailover(t *testing.T) {
	f := startFleet(t, 3)
	w, e := ownerWorker(t, f, 0)
	stopped, err := w.Signal(syscall.SIGSTOP)
	if err != nil {
		t.Fatal(err)
	}
	next := firstOK(t, f, f.Mark(), e.Epoch)
	if next.Worker == w.ID {
		t.Fatal("the frozen worker checked")
	}
	if d := time.Duration(next.T2 - stopped); d > procTTL+time.Second {
		t.Errorf("hang failover took %v", d)
	} else {
		t.Logf("SIGSTOP to successor's first Check: %v (TTL %v)", d, procTTL)
	}
	resumed, err := w.Signal(syscall.SIGCONT)
	if err != nil {
		t.Fatal(err)
	}
	lost, _ := await(t, f, 0, func(x worker.Event) bool { return x.Worker == w.ID && x.Kind == worker.Lost })
	if !strings.Contains(lost.Text, "ownership lost") {
		t.Errorf("lost: %s", lost.Text)
	}
	for _, x := range f.Log() {
		if x.Worker == w.ID && x.Kind == worker.OK && x.T1 >= resumed {
			t.Fatalf("resumed owner passed Check at %d, after SIGCONT at %d", x.T1, resumed)
		}
	}
	<-w.Done()
	if ws := w.Err(); ws == nil || !strings.Contains(ws.Error(), "exit status 3") {
		t.Fatalf("resumed worker exit = %v, want status 3 (lost)", ws)
	}
}
