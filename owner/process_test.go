//go:build unix

package owner_test

import (
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/leasehold/leasehold/internal/fleet"
	"github.com/leasehold/leasehold/internal/proctest"
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

func startFleet(t testing.TB, n int, extra ...string) proctest.Run {
	t.Helper()
	return proctest.Checked(t, startFleetTTL(t, n, procTTL, procRenew, extra...), procLimit)
}

// startFleetTTL starts n workers on a new lease.
func startFleetTTL(t testing.TB, n int, ttl, renew time.Duration, extra ...string) *fleet.Fleet {
	t.Helper()
	f, err := fleet.Launch(os.Args[0], []string{"-test.run=^$"}, t.TempDir(), n, ttl, renew, extra...)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestProcessesJoinAtOnceOneOwner(t *testing.T) {
	for range 3 {
		r := startFleet(t, 8, worker.EnvBarrier+"=1")
		r.JoinAtOnce(8)
		r.F.Close()
	}
}

// A killed owner is replaced within the TTL: the kernel drops its lock.
func TestProcessCrashFailover(t *testing.T) {
	startFleet(t, 3).CrashFailover(3, procTTL)
}

func TestProcessReleaseHandover(t *testing.T) {
	r := startFleet(t, 3)
	e := r.FirstOK(0, 0)
	w := r.F.Workers()[e.Worker]
	t0, err := w.Signal(syscall.SIGTERM)
	if err != nil {
		t.Fatal(err)
	}
	next := r.FirstOK(r.F.Mark(), e.Epoch)
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
	startFleet(t, 3).HangFailover(procTTL + time.Second)
}
