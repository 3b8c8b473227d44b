package lease

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gofrs/flock"
)

// freezeAt runs TryAcquire for f in a goroutine that stops at the first
// step named point and stays there until resume is called; resume returns
// the attempt's outcome.
func freezeAt(t *testing.T, f *File, id, point string) (resume func() (Lease, error)) {
	t.Helper()
	frozen := make(chan struct{})
	thaw := make(chan struct{})
	type result struct {
		l   Lease
		err error
	}
	done := make(chan result, 1)
	stopped := false // read and written by the attempt's goroutine only
	f.hook = func(p string) {
		if p == point && !stopped {
			stopped = true
			close(frozen)
			<-thaw
		}
	}
	go func() {
		l, _, err := f.TryAcquire(ctx, Candidate{InstanceID: id})
		done <- result{l, err}
	}()
	select {
	case <-frozen:
	case r := <-done:
		t.Fatalf("%s: TryAcquire returned (%v) before reaching %s", id, r.err, point)
	}
	return func() (Lease, error) {
		close(thaw)
		r := <-done
		if r.l != nil {
			t.Cleanup(func() { r.l.Close() })
		}
		return r.l, r.err
	}
}

// A candidate frozen after locking epoch 2 and before claiming it, which
// resumes just after a follower gave up waiting on it, must not hold the
// lease together with that follower: whoever is first to take epoch 2
// (the candidate by its claim, the follower by its tombstone) decides.
func TestSkippedEpochCannotBeClaimedLate(t *testing.T) {
	for _, resumeFirst := range []bool{true, false} {
		name := "follower skips first"
		if resumeFirst {
			name = "candidate claims first"
		}
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "owner.lease")
			clk := newClock()
			h, c1, s := open(t, path, clk), open(t, path, clk), open(t, path, clk)
			lh := acquire(t, h, "h")
			if err := lh.Release(ctx); err != nil {
				t.Fatal(err)
			}
			resume := freezeAt(t, c1, "c1", "listen:sock") // live.2 locked, epoch 2 unclaimed
			mustHeld(t, s, "s")                            // s finds epoch 2 being claimed
			clk.Advance(ttl)

			var lc1 Lease
			var errC1 error
			s.hook = func(p string) {
				if p == "lock:live" && resumeFirst && resume != nil {
					lc1, errC1 = resume() // c1 claims 2 after s read the lease
					resume = nil
				}
			}
			ls, _, errS := s.TryAcquire(ctx, Candidate{InstanceID: "s"})
			if ls != nil {
				t.Cleanup(func() { ls.Close() })
			}
			if resume != nil {
				lc1, errC1 = resume()
			}
			if ls != nil && lc1 != nil {
				t.Fatalf("both hold the lease: c1 at epoch %d, s at epoch %d", lc1.Record().Epoch, ls.Record().Epoch)
			}
			winner, loserErr := lc1, errS
			if !resumeFirst {
				winner, loserErr = ls, errC1
			}
			if winner == nil || !errors.Is(loserErr, ErrHeld) {
				t.Fatalf("c1 = (%v, %v), s = (%v, %v): want one winner and ErrHeld", lc1, errC1, ls, errS)
			}
			if got := readRecord(t, path); got.Epoch != winner.Record().Epoch {
				t.Fatalf("record at epoch %d, want the winner's %d", got.Epoch, winner.Record().Epoch)
			}
		})
	}
}

// Candidates frozen holding the locks of epochs 2 and 3, unclaimed (one
// after skipping the other, or a follower frozen with a shared lock left
// from a stale listing and the exclusive lock of the next), hold a
// follower off for one TTL from when it first found one of them, not for
// as long as they stay frozen.
func TestFrozenCandidatesDelayOneTTL(t *testing.T) {
	path, clk, h, s := pair(t)
	lh := acquire(t, h, "h")
	if err := lh.Release(ctx); err != nil {
		t.Fatal(err)
	}
	side := path + ".d"
	shared := flock.New(filepath.Join(side, "live.2"), flock.SetFlag(os.O_CREATE|os.O_RDWR))
	if ok, err := shared.TryRLock(); !ok || err != nil {
		t.Fatal(ok, err)
	}
	defer shared.Unlock()
	excl := flock.New(filepath.Join(side, "live.3"))
	if ok, err := excl.TryLock(); !ok || err != nil {
		t.Fatal(ok, err)
	}
	defer excl.Unlock()

	for elapsed := time.Duration(0); elapsed < ttl; elapsed += ttl / 4 {
		mustHeld(t, s, "s") // alternating between 2 and 3 must not restart the wait
		clk.Advance(ttl / 4)
	}
	l := acquire(t, s, "s")
	if got := l.Record().Epoch; got != 4 {
		t.Fatalf("epoch %d, want 4 (2 and 3 skipped)", got)
	}
	for _, n := range []string{"claim.2", "claim.3"} {
		fi, err := os.Stat(filepath.Join(side, n))
		if err != nil || !fi.IsDir() {
			t.Fatalf("%s is not a tombstone: %v", n, err)
		}
	}
	// The frozen candidates resume: neither can claim its epoch now.
	excl.Unlock()
	c := open(t, path, clk)
	if err := c.writeClaim(Record{Version: 1, InstanceID: "c", Epoch: 3, TTL: ttl}); !errors.Is(err, ErrHeld) {
		t.Fatalf("late claim of a skipped epoch = %v, want ErrHeld", err)
	}
}

// A renewal that passed its check just before a successor's claim by
// expiry renames just after it. That publication does not count (a later
// claim stood after it), but it changed the record, so the successor must
// withdraw; and a renewal that comes while the withdrawn claim still
// stands must not cost the holder its lease.
func TestWithdrawnTakeoverKeepsTheHolder(t *testing.T) {
	path, clk, a, b := pair(t)
	la := acquire(t, a, "a")
	mustHeld(t, b, "b")
	clk.Advance(ttl)

	renewing, proceed := make(chan struct{}), make(chan struct{})
	renewed := make(chan error, 1)
	a.hook = func(point string) {
		if point == "rename:record" {
			close(renewing)
			<-proceed
		}
	}
	var inFlight, during error
	b.hook = func(point string) {
		if point == "create:beat" { // claim.2 exists
			close(proceed) // now let a's rename land
			inFlight = <-renewed
			a.hook = nil
			during = la.Renew(ctx) // the holder's next renewal, before b withdraws
		}
	}
	go func() { renewed <- la.Renew(ctx) }()
	<-renewing
	mustHeld(t, b, "b")
	b.hook = nil
	for _, err := range []error{inFlight, during} {
		if err == nil || errors.Is(err, ErrLost) {
			t.Fatalf("renewals while claim 2 stood = %v, %v; want retryable errors", inFlight, during)
		}
	}
	if got := readRecord(t, path); got.InstanceID != "a" {
		t.Fatalf("record = %+v, want a's", got)
	}
	if err := la.Renew(ctx); err != nil {
		t.Fatalf("renewal after the claim was withdrawn = %v, want nil", err)
	}
	la.Close()
	mustBeWithdrawn(t, path, 2)
	if lb := acquire(t, b, "b"); lb.Record().Epoch != 3 {
		t.Fatalf("epoch = %d, want 3 (the withdrawn epoch is never used)", lb.Record().Epoch)
	}
}

// mustBeWithdrawn asserts that the claim of epoch n stands, voided.
func mustBeWithdrawn(t *testing.T, path string, n uint64) {
	t.Helper()
	f := &File{side: path + ".d"}
	ls, err := f.list()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(f.name(kindVoid, n)); err != nil || containsEpoch(ls.claims, n) || !containsEpoch(ls.tombs, n) {
		t.Fatalf("claim of epoch %d is not withdrawn: %v, claims %v", n, err, ls.claims)
	}
}

// A candidate that decided on an old listing and locks an epoch claimed
// since, after its claimant's tenure ended, must not erase that claimant's
// beat: the beat is what tells that the epoch was published, so that the
// holder before it learns it lost.
func TestStaleCandidateKeepsThePublishedBeat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "owner.lease")
	clk := newClock()
	h, f, c := open(t, path, clk), open(t, path, clk), open(t, path, clk)
	lh := acquire(t, h, "h") // epoch 1; h stops renewing
	mustHeld(t, f, "f")
	mustHeld(t, c, "c")
	clk.Advance(ttl)
	resume := freezeAt(t, c, "c", "lock:live") // c judged the lease expired: next is 2
	lf := acquire(t, f, "f")                   // f takes epoch 2 by expiry, publishes
	if err := lf.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := resume(); !errors.Is(err, ErrHeld) {
		t.Fatalf("stale candidate = %v, want ErrHeld", err)
	}
	if beat := c.readBeat(2); len(beat) == 0 {
		t.Fatal("the beat of published epoch 2 was erased")
	}
	if err := lh.Renew(ctx); !errors.Is(err, ErrLost) {
		t.Fatalf("renewal of epoch 1 after epoch 2 was published = %v, want ErrLost", err)
	}
}
