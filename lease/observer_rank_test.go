package lease

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/leasehold/leasehold/internal/clock"
)

// An observer (leasehold status|watch, owner.Observe) never takes the
// lease over, so its connection to the holder's socket must not take a
// follower's rank: a follower that connected after 50 observers, ranked
// 50, would wait 50 * 2 ms (up to TTL/8, 250 ms) when the holder releases
// or dies before it even read the lease, though no one else will try.
// Observers say so when they connect, and rank after every follower.
func TestObserversDoNotDelayTheOnlyFollowersTakeover(t *testing.T) {
	const observers = 50
	path := filepath.Join(t.TempDir(), "owner.lease")
	a, b := open(t, path, clock.System), open(t, path, clock.System)
	la := acquire(t, a, "a")
	fl := la.(*fileLease)
	conns := func() int {
		fl.n.mu.Lock()
		defer fl.n.mu.Unlock()
		return len(fl.n.conns) + len(fl.n.watched)
	}
	for range observers {
		o := observer(t, path, clock.System)
		mustRead(t, o, StateLive)
		go o.Wait(ctx) // ends with ErrClosed at cleanup
	}
	waitFor(t, "the observers connected", func() bool { return conns() == observers })

	mustHeld(t, b, "b")
	waited := make(chan error, 1)
	go func() { waited <- b.Wait(ctx) }()
	waitConnected(t, b)
	waitFor(t, "b connected", func() bool { return conns() == observers+1 })
	if err := la.Renew(ctx); err != nil { // tells everyone its rank
		t.Fatal(err)
	}
	waitFor(t, "b heard the renewal", func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.w != nil && b.w.got == 1
	})
	b.mu.Lock()
	rank := b.w.rank
	b.mu.Unlock()
	if rank != 0 {
		t.Fatalf("the only follower is ranked %d behind %d observers, want 0", rank, observers)
	}

	start := time.Now()
	if err := la.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-waited; err != nil {
		t.Fatal(err)
	}
	lb, _ := follow(t, b, 10*time.Second)
	d := time.Since(start)
	if lb.Record().Epoch != 2 {
		t.Fatalf("epoch %d, want 2", lb.Record().Epoch)
	}
	t.Logf("the only follower took over %v after the release, behind %d observers", d, observers)
	if d > 30*time.Millisecond {
		t.Fatalf("the only follower took over %v after the release: ranked behind %d observers, it waited %v before reading the lease",
			d, observers, min(observers*staggerStep, b.pollInterval()))
	}
}
