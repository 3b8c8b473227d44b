//go:build unix

package etcdlease_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/leasehold/leasehold/internal/fleet"
	"github.com/leasehold/leasehold/internal/history"
	"github.com/leasehold/leasehold/internal/worker"
)

// Process tests: every instance is a real process (this test binary run
// as a worker, with the etcd store), hurt with real signals, on a real
// three-member cluster. Their bounds are generous.

const (
	procTTL   = 2 * time.Second
	procRenew = 500 * time.Millisecond
	// expiryLag is how late etcd's leader may notice that a lease
	// expired: it looks twice a second.
	expiryLag = 500 * time.Millisecond
	// slack covers the rest of a takeover on a loaded machine: the
	// revocation through raft, the watch, the successor's attempt and
	// its first Check.
	slack = 3 * time.Second
)

// startFleet starts n workers on the cluster's lease; at cleanup it kills
// them and fails t on any safety violation in what they reported.
func startFleet(t *testing.T, c *cluster, n int, extra ...string) *fleet.Fleet {
	t.Helper()
	extra = append(extra, envEndpoints+"="+strings.Join(c.endpoints(), ","))
	env := fleet.Env(key, procTTL, procRenew, extra...)
	f := fleet.New(func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = env
		return cmd
	})
	t.Cleanup(func() {
		f.Close()
		for _, v := range history.Violations(f.Log()) {
			t.Errorf("safety: %s", v)
		}
		for _, l := range f.BadLines() {
			t.Errorf("bad worker output: %s", l)
		}
	})
	for range n {
		if _, err := f.Start(); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func await(t *testing.T, f *fleet.Fleet, from int, match func(worker.Event) bool) (worker.Event, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	e, i, err := f.Await(ctx, from, match)
	if err != nil {
		for _, e := range f.Log() {
			if e.Kind == worker.Error {
				t.Logf("worker %d: %s", e.Worker, e.Text)
			}
		}
		t.Fatal(err)
	}
	return e, i
}

func kind(k string) func(worker.Event) bool {
	return func(e worker.Event) bool { return e.Kind == k }
}

// firstOK waits for the first successful Check of an epoch above epoch.
func firstOK(t *testing.T, f *fleet.Fleet, from int, above uint64) worker.Event {
	t.Helper()
	e, _ := await(t, f, from, func(e worker.Event) bool { return e.Kind == worker.OK && e.Epoch > above })
	return e
}

func TestProcessesJoinAtOnceOneOwner(t *testing.T) {
	c := startCluster(t, 3, nil)
	const n = 5
	f := startFleet(t, c, n, worker.EnvBarrier+"=1")
	for i, from := 0, 0; i < n; i++ {
		_, from = await(t, f, from, kind(worker.Ready))
		from++
	}
	for _, w := range f.Workers() {
		if err := w.Send(worker.CmdGo); err != nil {
			t.Fatal(err)
		}
	}
	owners, from := 0, 0
	for range n {
		var e worker.Event
		e, from = await(t, f, from, kind(worker.Joined))
		from++
		if strings.HasPrefix(e.Text, "owner ") {
			owners++
		}
	}
	if owners != 1 {
		t.Fatalf("%d of %d simultaneous joins returned owner", owners, n)
	}
}

// A killed owner's lease expires in etcd, and a follower takes over
// within the TTL plus the lag of etcd's expiry.
func TestProcessCrashFailover(t *testing.T) {
	c := startCluster(t, 3, nil)
	f := startFleet(t, c, 3)
	var epoch uint64
	for range 2 {
		e := firstOK(t, f, f.Mark(), epoch)
		epoch = e.Epoch
		t0, err := f.Workers()[e.Worker].Signal(syscall.SIGKILL)
		if err != nil {
			t.Fatal(err)
		}
		next := firstOK(t, f, f.Mark(), epoch)
		d := time.Duration(next.T2 - t0)
		t.Logf("SIGKILL to successor's first Check: %v (epoch %d -> %d, TTL %v)", d, epoch, next.Epoch, procTTL)
		if d > procTTL+expiryLag+slack {
			t.Errorf("crash failover took %v", d)
		}
		if _, err := f.Start(); err != nil { // keep three
			t.Fatal(err)
		}
	}
}

// An owner frozen past its TTL is taken over; resumed, its first Check
// fails and it reports the loss.
func TestProcessHangFailover(t *testing.T) {
	c := startCluster(t, 3, nil)
	f := startFleet(t, c, 3)
	e := firstOK(t, f, 0, 0)
	w := f.Workers()[e.Worker]
	stopped, err := w.Signal(syscall.SIGSTOP)
	if err != nil {
		t.Fatal(err)
	}
	next := firstOK(t, f, f.Mark(), e.Epoch)
	if next.Worker == w.ID {
		t.Fatal("the frozen worker checked")
	}
	d := time.Duration(next.T2 - stopped)
	t.Logf("SIGSTOP to successor's first Check: %v (TTL %v)", d, procTTL)
	if d > procTTL+expiryLag+slack {
		t.Errorf("hang failover took %v", d)
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
