//go:build unix

package lease

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/leasehold/leasehold/internal/clock"
)

// Anything that is not a regular file in the record's place is damage,
// which the next publication replaces. A directory is not replaced by a
// rename: rename(2) of a file over a directory fails with EISDIR. Unless
// the publication removes an empty directory first, one mkdir at the
// record path (as one mkfifo makes the FIFO of
// TestRecordReplacedByFIFOIsDamage) makes every renewal of the live holder
// fail, for good; a follower takes the unrenewed lease over by expiry,
// claims the next epoch, fails to publish in turn, and leaves its claim
// standing, neither published nor withdrawn: one epoch burnt per TTL and
// no holder, ever. The holder's next renewal must replace it, as it does a
// garbage record.
func TestDirectoryInRecordsPlaceIsReplacedByRenewal(t *testing.T) {
	path, clk, a, b := pair(t)
	la := acquire(t, a, "a")
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	mustHeld(t, b, "b")
	renewErr := la.Renew(ctx)
	clk.Advance(ttl)
	// With the holder's renewal failed, b takes over by expiry; does it
	// get the lease?
	l, _, err := b.TryAcquire(ctx, Candidate{InstanceID: "b"})
	if l != nil {
		t.Cleanup(func() { l.Close() })
	}
	ls, lerr := b.list()
	if lerr != nil {
		t.Fatal(lerr)
	}
	fi, serr := os.Lstat(path)
	if renewErr != nil {
		t.Errorf("the holder's renewal with an empty directory in the record's place: %v (b then: %v; claims %v, withdrawn or skipped %v)",
			renewErr, err, ls.claims, ls.tombs)
	}
	if serr != nil || !fi.Mode().IsRegular() {
		t.Errorf("the record path after a renewal and a takeover attempt: %v, %v", fi, serr)
	}
}

// The same with the holder gone: a follower finds it gone within
// milliseconds, then cannot publish, and no one ever acquires.
func TestDirectoryInRecordsPlaceDoesNotStopTakeover(t *testing.T) {
	path := filepath.Join(t.TempDir(), "owner.lease")
	a, b := open(t, path, clock.System), open(t, path, clock.System)
	la := acquire(t, a, "a")
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	la.Close()
	var err error
	for range 3 {
		var l Lease
		l, _, err = b.TryAcquire(ctx, Candidate{InstanceID: "b"})
		if err == nil {
			l.Close()
			return
		}
	}
	ls, _ := b.list()
	t.Fatalf("b's TryAcquire with the holder gone and an empty directory in the record's place: %v (claims now %v, never published nor withdrawn)", err, ls.claims)
}

// A regular file in the record's place must not be read whatever its
// size. A sparse file costs nothing to make (one truncate by any process of the
// user) and reads as that many zero bytes: every follower that reads the
// lease then allocates its whole size, and a terabyte one kills every
// follower and Observer before the holder's next renewal replaces it; with
// the holder frozen, no one takes over. A record is a few hundred bytes
// (messages bound it at 64 KiB): anything larger is damage, to be
// decided on without reading it all.
func TestHugeSparseRecordIsNotReadWhole(t *testing.T) {
	path, clk, a, b := pair(t)
	acquire(t, a, "a")
	if err := os.Truncate(path, 256<<20); err != nil { // 256 MiB of holes
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	_, _, err := b.TryAcquire(ctx, Candidate{InstanceID: "b"})
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrHeld) {
		t.Errorf("b's TryAcquire with a live holder and a huge record: %v, want ErrHeld", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("one TryAcquire with a 256 MiB sparse record allocated %d MiB and took %v", alloc>>20, took)
	}
	_ = clk
}
