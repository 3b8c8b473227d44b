package lease

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// A renewal's message reaches a follower when the holder sends it, which
// is after the renewal's beat is written and checked: a holder frozen in
// between (here at the check's listing, right after its beat) sends it
// late. The follower may have read that very beat in the files by then,
// and the lease not changed since. heard must then ignore the message:
// taking it as a reading of the lease now would start the follower's
// expiry clock again, and hold off a follower that keeps trying while the
// lease stays as it is one TTL more than the package comment allows (with
// a candidate frozen holding the next epoch unclaimed, three TTLs after
// its first attempt that read the lease so, not two).
//
// Schedule (TTL 2s, fake clock, attempts by b every 100ms):
//
//	0.0s   a acquires epoch 1; b and c read it; b connects to sock.1.
//	0.0s   a renews: its beat (2) is written, and a freezes at the
//	       listing of its check, before it sends the message.
//	0.1s   b and c read the lease: beat 2. From here the lease's files
//	       do not change. b's first attempt that reads it so.
//	1.999s a resumes, before its deadline (2.0s, a TTL after its renewal
//	       began): the renewal succeeds and the message of beat 2
//	       reaches b, which has read beat 2 already. Then a stops again
//	       (its process stopped, say) and renews no more.
//	2.1s   c finds the lease expired, locks epoch 2 and freezes before
//	       claiming it.
//	2.1s   b finds the lease expired, and epoch 2 held unclaimed.
//	4.1s   b makes the tombstone of 2 and takes epoch 3: within the
//	       bound, two TTLs and the gap. Had the message started b's clock
//	       again, b would have found the lease expired only at 4.0s, and
//	       taken it at 6.0s.
//
// (Under package owner, a holder that is not stopped again renews soon
// after, which changes the lease; the bound is about a holder that does
// not.)
//
// The subtest "not connected" runs the same schedule with b never
// connected to a's socket, so that no message reaches it.
func TestLateRenewalMessageDoesNotHoldFollower(t *testing.T) {
	for _, connected := range []bool{true, false} {
		name := "connected"
		if !connected {
			name = "not connected"
		}
		t.Run(name, func(t *testing.T) { lateRenewalMessage(t, connected) })
	}
}

func lateRenewalMessage(t *testing.T, connected bool) {
	path := filepath.Join(t.TempDir(), "owner.lease")
	clk := newClock()
	a, b, c := open(t, path, clk), open(t, path, clk), open(t, path, clk)
	la := acquire(t, a, "a").(*fileLease)
	mustHeld(t, b, "b")
	mustHeld(t, c, "c")

	if connected {
		// b waits, as an owner does, and so connects to a's socket.
		wctx, cancel := context.WithCancel(ctx)
		waited := make(chan error, 1)
		go func() { waited <- b.Wait(wctx) }()
		waitFor(t, "a accepted b's connection", func() bool {
			la.n.mu.Lock()
			defer la.n.mu.Unlock()
			return len(la.n.conns) == 1
		})
		cancel()
		if err := <-waited; !errors.Is(err, context.Canceled) {
			t.Fatalf("b.Wait = %v", err)
		}
	}

	// a renews and freezes right after writing its beat, before the
	// message goes out.
	frozen, thaw := make(chan struct{}), make(chan struct{})
	beatWritten := false
	a.hook = func(p string) {
		switch {
		case p == "write:beat":
			beatWritten = true
		case p == "list:side" && beatWritten:
			beatWritten = false
			close(frozen)
			<-thaw
		}
	}
	renewed := make(chan error, 1)
	go func() { renewed <- la.Renew(ctx) }()
	<-frozen

	const gap = 100 * time.Millisecond
	clk.Advance(gap)
	first := clk.Now() // b's first attempt that reads the lease as it stays
	mustHeld(t, b, "b")
	mustHeld(t, c, "c")
	b.mu.Lock()
	readIt := b.seenAt.Equal(first)
	b.mu.Unlock()
	if !readIt {
		t.Fatalf("b did not read the beat of the frozen renewal")
	}

	attempt := func() Lease {
		t.Helper()
		l, _, err := b.TryAcquire(ctx, Candidate{InstanceID: "b"})
		if err == nil {
			t.Cleanup(func() { l.Close() })
			return l
		}
		if !errors.Is(err, ErrHeld) {
			t.Fatal(err)
		}
		return nil
	}
	at := func(d time.Duration) { clk.Advance(first.Add(d).Sub(clk.Now())) }
	var lb Lease
	var resumeC func() (Lease, error)
	for d := gap; d <= 4*ttl && lb == nil; d += gap {
		if d == ttl-gap {
			// a resumes just before its deadline (2.0s): its renewal
			// succeeds, as it began at 0.0s, and its message goes out.
			// Then a stops again, renewing no more.
			at(ttl - gap - time.Millisecond)
			got := 0
			if connected {
				b.mu.Lock()
				got = b.w.got
				b.mu.Unlock()
			}
			close(thaw)
			if err := <-renewed; err != nil {
				t.Fatalf("a's renewal: %v", err)
			}
			if connected {
				waitFor(t, "b received a's message", func() bool {
					b.mu.Lock()
					defer b.mu.Unlock()
					return b.w.got > got
				})
			}
		}
		if d == ttl {
			// c finds the lease expired and freezes holding epoch 2.
			at(ttl)
			resumeC = freezeAt(t, c, "c", "listen:sock")
		}
		at(d)
		lb = attempt()
	}
	took := clk.Now().Sub(first)
	t.Logf("b took over %v after its first attempt that read the lease as it stayed", took)
	if resumeC != nil {
		if lc, err := resumeC(); lc != nil {
			t.Fatalf("the frozen candidate took epoch 2 too: %v", err)
		}
	}
	if lb == nil || took > 2*ttl+gap {
		t.Fatalf("b took over %v after its first attempt that read the lease as it stayed (bound: two TTLs plus the gap, %v); granted: %v",
			took, 2*ttl+gap, lb != nil)
	}
}
