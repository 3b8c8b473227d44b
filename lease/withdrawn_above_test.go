package lease

import (
	"errors"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A takeover by expiry that finds the holder renewing after all withdraws
// its claim: the epoch stays taken (void), above the holder's, for the
// rest of the holder's tenure. Every follower's reading then has a top
// epoch (2) other than the holder's (1), and heard turns down every
// renewal message for it: each renewal wakes every follower, which reads
// the lease's files, for as long as the holder lives. The package comment
// promises that a renewal of the tenure a follower last read restarts its
// expiry clock without waking anything but the connection's reader, so
// that it reads no file between renewals; a follower waking at each
// renewal costs what polling costs. (A holder that was slow once, for
// about a TTL, leaves its followers so until it goes.)
func TestWithdrawnClaimAboveHolderKeepsFollowersAsleep(t *testing.T) {
	path := filepath.Join(t.TempDir(), "owner.lease")
	clk := newClock()
	a, b, c := open(t, path, clk), open(t, path, clk), open(t, path, clk)
	la := acquire(t, a, "a")
	mustHeld(t, b, "b")
	clk.Advance(ttl)
	resume := freezeAt(t, b, "b", "lock:live") // b judged a expired
	if err := la.Renew(ctx); err != nil {      // a was only slow
		t.Fatal(err)
	}
	if _, err := resume(); !errors.Is(err, ErrHeld) {
		t.Fatalf("b's takeover = %v, want ErrHeld (withdrawn)", err)
	}
	b.hook = nil
	mustBeWithdrawn(t, path, 2)
	if err := la.Renew(ctx); err != nil {
		t.Fatalf("a's renewal after b withdrew = %v", err)
	}

	// c follows the live holder a.
	if rec := mustHeld(t, c, "c"); rec.InstanceID != "a" || rec.Epoch != 1 {
		t.Fatalf("c sees %q at %d, want a at 1", rec.InstanceID, rec.Epoch)
	}
	var reads atomic.Int32
	c.hook = func(point string) {
		if strings.HasPrefix(point, "read:") {
			reads.Add(1)
		}
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait(ctx) }()
	waitConnected(t, c)
	const renewals = 5
	for range renewals {
		if err := la.Renew(ctx); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "c's reader got the renewals", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.w == nil || c.w.got == renewals
	})
	select {
	case err := <-done:
		t.Fatalf("c.Wait returned (%v) on a renewal of the tenure it had just read: the withdrawn claim above it keeps every follower waking at every renewal", err)
	case <-time.After(50 * time.Millisecond):
	}
	if n := reads.Load(); n != 0 {
		t.Fatalf("%d reads while the holder renewed, want none", n)
	}
}
