package lease

import (
	"errors"
	"path/filepath"
	"testing"
)

// Two takeovers by expiry, of epochs 2 and 3, both withdrawn because a
// renewal of the holder of epoch 1, begun before either, lands while they
// are under way. Claim 2 is withdrawn before claim 3 is made, and claim 3
// is withdrawn after a follower c has listed {1, 3}: c will take epoch 4
// once the live locks of 1 and 3 are free. The holder's tenure ends. Were
// withdrawn claims removed, epoch 2, the one after the latest taken again,
// would be claimed and granted to d, below c's listing; c, resuming, would
// probe 1 and 3 only, find them free and take epoch 4 too: two owners. A
// withdrawn claim is voided instead, and its epoch never claimed again. No
// file is tampered with.
func TestWithdrawnEpochIsNotClaimedAgain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "owner.lease")
	clk := newClock()
	h, a, b, c, d := open(t, path, clk), open(t, path, clk), open(t, path, clk), open(t, path, clk), open(t, path, clk)

	lh := acquire(t, h, "h") // epoch 1
	mustHeld(t, a, "a")

	// The holder's renewal passes its first check and stops before its
	// rename.
	renaming, proceed := make(chan struct{}), make(chan struct{})
	h.hook = func(p string) {
		if p == "rename:record" {
			h.hook = nil
			close(renaming)
			<-proceed
		}
	}
	renewed := make(chan error, 1)
	go func() { renewed <- lh.Renew(ctx) }()
	<-renaming

	clk.Advance(ttl)
	resumeA := freezeAt(t, a, "a", "create:beat") // claim.2 made, by expiry
	mustHeld(t, b, "b")                           // b first sees claim 2
	clk.Advance(ttl)

	var resumeC func() (Lease, error)
	b.hook = func(p string) {
		switch {
		case p == "lock:live" && resumeA != nil:
			// b has judged the lease expired on what it read. The
			// renewal lands now; a sees it and withdraws claim 2.
			close(proceed)
			if err := <-renewed; err == nil {
				t.Error("renewal succeeded with claim 2 standing")
			}
			if la, err := resumeA(); la != nil {
				t.Errorf("a granted epoch %d, want withdrawn (%v)", la.Record().Epoch, err)
			}
			resumeA = nil
		case p == "create:beat" && resumeC == nil:
			// claim.3 made; c lists {1, 3} and stops before probing.
			resumeC = freezeAt(t, c, "c", "rlock:live")
		}
	}
	mustHeld(t, b, "b") // b sees the renewal too and withdraws claim 3
	b.hook = nil
	if resumeC == nil {
		t.Fatal("b never claimed epoch 3")
	}

	lh.Close() // the holder's tenure ends: its live lock is free

	ld := acquire(t, d, "d") // the epoch after the withdrawn ones
	lc, errC := resumeC()
	if lc != nil {
		t.Fatalf("two tenures valid at once: d at epoch %d and c at epoch %d, both granted at %v", ld.Record().Epoch, lc.Record().Epoch, clk.Now())
	}
	if ld.Record().Epoch != 4 || !errors.Is(errC, ErrHeld) {
		t.Fatalf("d at epoch %d, c = %v; want d at 4 (2 and 3 withdrawn) and c held off", ld.Record().Epoch, errC)
	}
}
