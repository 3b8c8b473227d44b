package lease

import (
	"path/filepath"
	"testing"
)

// A candidate decides that the lease is free on one reading of the
// sidecar directory, and then claims an epoch. reserve may raise that
// epoch above the one after the latest taken in the reading, to the first
// epoch of a block above every block (a block of an earlier boot, one
// removed, or a participant without a boot id). A reading gone stale
// meanwhile then no longer makes the exclusive claim fail: whoever took
// the lease since claimed a lower epoch. So after its claim a candidate
// withdraws if any epoch between its reading and its own was claimed (see
// claim); without that rule, each case below ends with two tenures
// granted a moment apart, on a clock that has not moved, neither of them
// released, lost or closed: both valid at once.

func setBlocks(size uint64, boot string, fs ...*File) {
	for _, f := range fs {
		f.blockSize, f.boot = size, boot
	}
}

func mustNotBothHold(t *testing.T, first, second Lease, errSecond error) {
	t.Helper()
	if first == nil {
		t.Fatal("the first candidate was not granted the lease")
	}
	if second != nil {
		t.Fatalf("two tenures valid at once: epoch %d granted, then epoch %d granted without its holder gone or expired",
			first.Record().Epoch, second.Record().Epoch)
	}
	if errSecond == nil {
		t.Fatal("second TryAcquire returned neither a lease nor an error")
	}
}

// Same boot, every participant knowing the boot id. p reads the lease
// free (the holder of epoch 1 gone, blocks 1 and 2 reserved) and freezes
// at its read of block.1. Meanwhile q takes epoch 2 and goes, and r takes
// epoch 3, in block 2, and renews: its tidying removes block.1 and
// reserves block 3. p resumes: block.1 is gone, so reserve goes above
// block 2 of its reading, to block 3, and returns epoch 5; its claim of 5
// is above r's 3, so it passes the check, and p publishes while r holds.
func TestStaleCandidateJumpsAboveHolderSameBoot(t *testing.T) {
	path := filepath.Join(t.TempDir(), "owner.lease")
	clk := newClock()
	h, p, q, r := open(t, path, clk), open(t, path, clk), open(t, path, clk), open(t, path, clk)
	setBlocks(2, "boot-A", h, p, q, r)

	lh := acquire(t, h, "h") // epoch 1, block 1
	h.hook = func(string) {} // tidy inline: block 2 reserved ahead
	if err := lh.Renew(ctx); err != nil {
		t.Fatal(err)
	}
	lh.Close() // h goes

	resume := freezeAt(t, p, "p", "read:block") // p read: claims [1], blocks [1 2]; free

	lq := acquire(t, q, "q") // epoch 2
	if got := lq.Record().Epoch; got != 2 {
		t.Fatalf("q: epoch %d, want 2", got)
	}
	lq.Close()
	lr := acquire(t, r, "r") // epoch 3, block 2
	if got := lr.Record().Epoch; got != 3 {
		t.Fatalf("r: epoch %d, want 3", got)
	}
	r.hook = func(string) {} // tidy inline: removes block 1, reserves block 3
	if err := lr.Renew(ctx); err != nil {
		t.Fatal(err)
	}

	lp, errP := resume()
	mustNotBothHold(t, lr, lp, errP)
}

// A reboot, with nothing lost. The first two candidates of the new boot
// find the lease free (its holder is gone with the old boot) in the same
// reading of claims. c finds block 1 of the old boot, reserves block 2
// and takes its lock of epoch 3. d reads the lease then: blocks 1 and 2,
// claim 1. d's reserve finds block 1 of the old boot and goes above the
// latest block it read, block 2, to block 3: epoch 5. c claims and
// publishes 3; d claims 5, above 3, and publishes too.
func TestRebootCandidatesJumpPastEachOther(t *testing.T) {
	path := filepath.Join(t.TempDir(), "owner.lease")
	clk := newClock()
	a := open(t, path, clk)
	setBlocks(2, "boot-A", a)
	la := acquire(t, a, "a") // epoch 1, block 1 of boot-A
	la.Close()

	// The machine reboots; nothing was lost.
	c, d := open(t, path, clk), open(t, path, clk)
	setBlocks(2, "boot-B", c, d)
	resumeC := freezeAt(t, c, "c", "lock:live") // block 2 reserved; epoch 3 next
	resumeD := freezeAt(t, d, "d", "lock:live") // read claims [1], blocks [1 2]; epoch 5 next
	lc, errC := resumeC()
	if errC != nil {
		t.Fatalf("c: %v", errC)
	}
	ld, errD := resumeD()
	mustNotBothHold(t, lc, ld, errD)
}

// One boot, one participant that knows the boot id and one that does not
// (bootID returns "" where /proc is not mounted, as in some containers).
// Both find the lease free (its holder of epoch 1 gone) in one reading:
// c takes epoch 2, in block 1 (epochs 1 to 4), d the first epoch above
// every block, 5. Nothing has to freeze: d's reading only has to come
// before c's claim, as when two followers wake at the holder's death.
func TestCandidateWithoutBootIDJumpsAboveHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "owner.lease")
	clk := newClock()
	h, c, d := open(t, path, clk), open(t, path, clk), open(t, path, clk)
	setBlocks(4, "boot-A", h, c)
	setBlocks(4, "", d)
	lh := acquire(t, h, "h") // epoch 1, block 1
	lh.Close()

	resumeC := freezeAt(t, c, "c", "lock:live") // epoch 2 next
	resumeD := freezeAt(t, d, "d", "lock:live") // epoch 5 next
	lc, errC := resumeC()
	if errC != nil {
		t.Fatalf("c: %v", errC)
	}
	ld, errD := resumeD()
	mustNotBothHold(t, lc, ld, errD)
}
