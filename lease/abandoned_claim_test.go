package lease

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leasehold/leasehold/internal/clock"
)

// Renewals are heard past a withdrawn claim above the holder. A claim
// above the holder whose candidate died between its claim and its
// withdrawal (or failed to publish: every error of claim after writeClaim
// returns without withdrawing) is the same epoch, never used, but it is
// not voided. The
// holder renews past it (checkLatest takes it for abandoned, its live lock
// free), yet every follower's reading has that dead claim as its latest:
// watchEpoch names its epoch, so the follower dials the dead candidate's
// socket, is refused, and reads the files for the rest of the holder's
// tenure: as one whose holder has just died (suspect), from 0.5 ms apart,
// doubling, and every renewal changes the beat and starts that over at
// 0.5 ms. Measured: some 80 readings of the lease (335 read steps) in
// 600 ms of renewals 50 ms apart, where the package comment promises none
// between renewals. With renewals further apart it backs off to TTL/8, and
// a holder's death is then seen only at the next poll (up to 250 ms), not
// within milliseconds. A candidate killed mid-takeover of a slow holder is
// enough to leave a lease so.
//
// A known limit, in the package comment: the fix (a follower taking a
// claim whose live lock is free and that never published for withdrawn)
// is a change of the protocol not made yet. The test stays, skipped, as
// the check of that change.
func TestAbandonedClaimAboveHolderKeepsFollowersOnItsSocket(t *testing.T) {
	t.Skip("known limit: a claim abandoned above the holder keeps its followers reading the lease between renewals (see the package comment)")
	path := filepath.Join(t.TempDir(), "owner.lease")
	a, c := open(t, path, clock.System), open(t, path, clock.System)
	fake := newClock()
	b := open(t, path, fake) // a candidate that will find a expired
	la := acquire(t, a, "a")
	mustHeld(t, b, "b")
	fake.Advance(ttl)
	var fds []io.Closer
	var fdsMu sync.Mutex
	b.track = func(cl io.Closer) {
		fdsMu.Lock()
		defer fdsMu.Unlock()
		fds = append(fds, cl)
	}
	resume := freezeAt(t, b, "b", "create:beat") // b has claimed epoch 2
	// b dies there: the kernel drops its live lock and its listener.
	fdsMu.Lock()
	for _, cl := range fds {
		cl.Close()
	}
	fdsMu.Unlock()
	t.Cleanup(func() { resume() }) // let the frozen goroutine end

	if err := la.Renew(ctx); err != nil {
		t.Fatalf("a's renewal past b's abandoned claim: %v", err)
	}
	if rec := mustHeld(t, c, "c"); rec.InstanceID != "a" {
		t.Fatalf("c sees %+v, want a", rec)
	}

	// c follows as the owner package does; a renews every 50 ms.
	var reads atomic.Int32
	c.hook = func(p string) {
		if strings.HasPrefix(p, "read:") {
			reads.Add(1)
		}
	}
	took := make(chan time.Time, 1)
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	go func() {
		for {
			l, _, err := c.TryAcquire(fctx, Candidate{InstanceID: "c"})
			if err == nil {
				took <- time.Now()
				l.Close()
				return
			}
			if !errors.Is(err, ErrHeld) || c.Wait(fctx) != nil && fctx.Err() != nil {
				took <- time.Time{}
				return
			}
		}
	}()
	time.Sleep(20 * time.Millisecond)
	reads.Store(0)
	for range 12 {
		time.Sleep(50 * time.Millisecond)
		if err := la.Renew(ctx); err != nil {
			t.Fatal(err)
		}
	}
	c.mu.Lock()
	watching, connected := c.watch, c.w != nil
	c.mu.Unlock()
	n := reads.Load()
	// a stays quiet for a while (well within its TTL of 2 s), then dies.
	time.Sleep(700 * time.Millisecond)
	died := time.Now()
	la.Close() // a dies
	at := <-took
	if at.IsZero() {
		t.Fatal("c never took over")
	}
	handover := at.Sub(died)
	t.Logf("c watched epoch %d (connected %v), read the files %d times in 600 ms of renewals, took over %v after a died (700 ms after its last renewal)", watching, connected, n, handover)
	if n > 0 || !connected {
		t.Errorf("c, following the live holder a (epoch 1) with b's dead claim 2 above it, watched epoch %d, connected %v, and read the lease's files %d times in 600 ms of a's renewals, want 0", watching, connected, n)
	}
	if handover > 50*time.Millisecond {
		t.Errorf("c took over %v after the holder died, want within milliseconds", handover)
	}
}
