package lease

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gofrs/flock"

	"github.com/leasehold/leasehold/internal/clock"
)

const ttl = 2 * time.Second

var ctx = context.Background()

// open returns a File on path with the fake clock clk, closed at cleanup.
func open(t *testing.T, path string, clk Clock) *File {
	t.Helper()
	f, err := Open(path, Options{TTL: ttl, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func acquire(t *testing.T, f *File, id string) Lease {
	t.Helper()
	l, _, err := f.TryAcquire(ctx, Candidate{InstanceID: id})
	if err != nil {
		t.Fatalf("%s: TryAcquire: %v", id, err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func mustHeld(t *testing.T, f *File, id string) Record {
	t.Helper()
	l, rec, err := f.TryAcquire(ctx, Candidate{InstanceID: id})
	if !errors.Is(err, ErrHeld) {
		if l != nil {
			l.Close()
		}
		t.Fatalf("%s: TryAcquire = %v, want ErrHeld", id, err)
	}
	return rec
}

func readRecord(t *testing.T, path string) Record {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := DecodeRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func newClock() *clock.Fake { return clock.NewFake(time.Unix(1_000_000, 0)) }

// pair opens two participants on a new lease, on one fake clock.
func pair(t *testing.T) (path string, clk *clock.Fake, a, b *File) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "owner.lease")
	clk = newClock()
	return path, clk, open(t, path, clk), open(t, path, clk)
}

func TestFreshAcquireAndFollow(t *testing.T) {
	path, _, a, b := pair(t)
	la := acquire(t, a, "a")
	if got := la.Record().Epoch; got != 1 {
		t.Fatalf("first epoch = %d, want 1", got)
	}
	rec := mustHeld(t, b, "b")
	if rec.InstanceID != "a" || rec.Epoch != 1 || rec.PID != os.Getpid() {
		t.Fatalf("follower sees %+v, want holder a at epoch 1", rec)
	}
	if disk := readRecord(t, path); disk.InstanceID != "a" || disk.Version != FormatVersion {
		t.Fatalf("record on disk = %+v", disk)
	}
}

func TestReleaseHandsOverAtOnce(t *testing.T) {
	path, _, a, b := pair(t)
	la := acquire(t, a, "a")
	mustHeld(t, b, "b")
	if err := la.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if !readRecord(t, path).Released {
		t.Fatal("record not marked released")
	}
	lb := acquire(t, b, "b") // no clock advance: no TTL wait
	if lb.Record().Epoch != 2 {
		t.Fatalf("epoch after handover = %d, want 2", lb.Record().Epoch)
	}
	if err := la.Release(ctx); err != nil {
		t.Fatalf("second Release: %v", err)
	}
	if got := readRecord(t, path); got.InstanceID != "b" || got.Released {
		t.Fatalf("released lease touched its successor's record: %+v", got)
	}
}

// Close is what the kernel does for a holder that dies: its live lock
// goes away with its descriptors.
func TestHolderGoneHandsOverAtOnce(t *testing.T) {
	_, _, a, b := pair(t)
	la := acquire(t, a, "a")
	mustHeld(t, b, "b")
	la.Close()
	if lb := acquire(t, b, "b"); lb.Record().Epoch != 2 {
		t.Fatalf("epoch = %d, want 2", lb.Record().Epoch)
	}
	if err := la.Renew(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("Renew after Close = %v, want ErrClosed", err)
	}
}

func TestExpiryIsMeasuredFromFirstSight(t *testing.T) {
	path, clk, a, b := pair(t)
	la := acquire(t, a, "a")
	clk.Advance(time.Hour) // b has not looked yet: its clock starts at first sight
	mustHeld(t, b, "b")
	clk.Advance(ttl - time.Nanosecond)
	mustHeld(t, b, "b")
	if err := la.Renew(ctx); err != nil { // a renews: b's clock starts again
		t.Fatal(err)
	}
	clk.Advance(time.Nanosecond)
	mustHeld(t, b, "b")
	clk.Advance(ttl - time.Nanosecond)
	mustHeld(t, b, "b")
	clk.Advance(time.Nanosecond)
	lb := acquire(t, b, "b")
	if lb.Record().Epoch != 2 {
		t.Fatalf("epoch = %d, want 2", lb.Record().Epoch)
	}
	for range 2 { // ErrLost is final
		if err := la.Renew(ctx); !errors.Is(err, ErrLost) {
			t.Fatalf("old holder's Renew = %v, want ErrLost", err)
		}
	}
	if got := readRecord(t, path); got.InstanceID != "b" {
		t.Fatalf("old holder overwrote the record: %+v", got)
	}
}

// The record's timestamps are the holder's wall clock and are never used:
// a record stamped hours in the past is not expired, and one stamped hours
// in the future does not keep the lease beyond a TTL.
func TestWallClockJumpsDoNotMatter(t *testing.T) {
	for _, shift := range []time.Duration{-5 * time.Hour, 5 * time.Hour} {
		t.Run(shift.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "owner.lease")
			clk := newClock()
			a, b := open(t, path, clk), open(t, path, clk)
			la := acquire(t, a, "a").(*fileLease)
			rec := la.Record()
			rec.RenewedAt = rec.RenewedAt.Add(shift)
			rec.AcquiredAt = rec.AcquiredAt.Add(shift)
			if err := la.publish(rec); err != nil {
				t.Fatal(err)
			}
			mustHeld(t, b, "b")
			clk.Advance(ttl - time.Millisecond)
			mustHeld(t, b, "b")
			clk.Advance(time.Millisecond)
			acquire(t, b, "b")
		})
	}
}

// A holder frozen between its check and its rename must not overwrite the
// record of a successor that took over meanwhile.
func TestStaleRenewalCannotOverwriteSuccessor(t *testing.T) {
	path, clk, a, b := pair(t)
	la := acquire(t, a, "a")
	mustHeld(t, b, "b")
	clk.Advance(ttl)
	var lb Lease
	a.hook = func(point string) {
		if point == "rename:record" && lb == nil {
			lb = acquire(t, b, "b") // the renewal is frozen right before its rename
		}
	}
	if err := la.Renew(ctx); !errors.Is(err, ErrLost) {
		t.Fatalf("frozen renewal = %v, want ErrLost", err)
	}
	if lb == nil || lb.Record().Epoch != 2 {
		t.Fatal("successor did not take over")
	}
	if got := readRecord(t, path); got.InstanceID != "b" || got.Epoch != 2 {
		t.Fatalf("record = %+v, want the successor's", got)
	}
}

func TestEpochsNeverGoBackwards(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(path string) error
	}{
		{"record deleted", os.Remove},
		{"record emptied", func(p string) error { return os.WriteFile(p, nil, 0o600) }},
		{"record garbage", func(p string) error { return os.WriteFile(p, []byte("{\"epoch\": 1, \"inst"), 0o600) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "owner.lease")
			clk := newClock()
			var last uint64
			for i := range 3 {
				f := open(t, path, clk)
				l := acquire(t, f, "x")
				if e := l.Record().Epoch; e <= last {
					t.Fatalf("round %d: epoch %d after %d", i, e, last)
				} else {
					last = e
				}
				if err := l.Release(ctx); err != nil {
					t.Fatal(err)
				}
				if err := tc.damage(path); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func TestDamagedRecordWhileHeld(t *testing.T) {
	path, clk, a, b := pair(t)
	la := acquire(t, a, "a")
	if err := os.WriteFile(path, []byte("\x00garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if rec := mustHeld(t, b, "b"); rec.Epoch != 0 {
		t.Fatalf("garbage decoded as %+v", rec)
	}
	clk.Advance(ttl - time.Millisecond)
	mustHeld(t, b, "b")
	if err := la.Renew(ctx); err != nil { // the holder repairs the record
		t.Fatal(err)
	}
	clk.Advance(time.Millisecond)
	if rec := mustHeld(t, b, "b"); rec.InstanceID != "a" {
		t.Fatalf("record after renewal = %+v", rec)
	}
	la.Close()
	clk.Advance(ttl)
	if l := acquire(t, b, "b"); l.Record().Epoch != 2 {
		t.Fatalf("epoch = %d, want 2", l.Record().Epoch)
	}
}

func TestSimultaneousAcquireHasOneWinner(t *testing.T) {
	path := filepath.Join(t.TempDir(), "owner.lease")
	const n = 16
	files := make([]*File, n)
	for i := range files {
		files[i] = open(t, path, clock.System)
	}
	start := make(chan struct{})
	type result struct {
		l   Lease
		err error
	}
	results := make(chan result, n)
	for i, f := range files {
		go func() {
			<-start
			l, _, err := f.TryAcquire(ctx, Candidate{InstanceID: string(rune('a' + i))})
			results <- result{l, err}
		}()
	}
	close(start)
	won := 0
	for range n {
		r := <-results
		switch {
		case r.err == nil:
			won++
			defer r.l.Close()
		case !errors.Is(r.err, ErrHeld):
			t.Errorf("TryAcquire: %v", r.err)
		}
	}
	if won != 1 {
		t.Fatalf("%d winners, want 1", won)
	}
}

func TestOldFilesAreCollected(t *testing.T) {
	path := filepath.Join(t.TempDir(), "owner.lease")
	f := open(t, path, newClock())
	for range 30 {
		l := acquire(t, f, "x")
		if err := l.Release(ctx); err != nil {
			t.Fatal(err)
		}
	}
	ents, err := os.ReadDir(path + ".d")
	if err != nil {
		t.Fatal(err)
	}
	var claims int
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "claim.") {
			claims++
		}
	}
	// Each epoch kept has its claim, live file and beat; one block of
	// epochs is reserved, with its ready marker.
	if claims > keepEpochs+1 || len(ents) > 3*(keepEpochs+1)+2 {
		t.Fatalf("%d files (%d claims) left after 30 tenures", len(ents), claims)
	}
	if readRecord(t, path).Epoch != 30 {
		t.Fatal("epoch is not 30")
	}
}

// A candidate frozen after locking the next epoch, before claiming it,
// holds the others off for one more TTL at most.
func TestCandidateFrozenBeforeClaim(t *testing.T) {
	path, clk, a, b := pair(t)
	acquire(t, a, "a") // a holds epoch 1 and stops renewing
	frozen := flock.New(filepath.Join(path+".d", "live.2"))
	if ok, err := frozen.TryLock(); !ok || err != nil {
		t.Fatal(ok, err)
	}
	defer frozen.Unlock()
	mustHeld(t, b, "b")
	clk.Advance(ttl)
	mustHeld(t, b, "b") // epoch 2 is being claimed: wait

	// Expired, yet held: Wait waits at the poll pace instead of spinning.
	done := make(chan error, 1)
	go func() { done <- b.Wait(ctx) }()
	if !clk.BlockUntil(1, 10*time.Second) {
		t.Fatal("Wait returned without waiting: it would spin")
	}
	select {
	case err := <-done:
		t.Fatalf("Wait returned early: %v", err)
	default:
	}
	clk.Advance(b.pollInterval())
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	clk.Advance(ttl - b.pollInterval() - time.Millisecond)
	mustHeld(t, b, "b")
	clk.Advance(time.Millisecond)
	if l := acquire(t, b, "b"); l.Record().Epoch != 3 {
		t.Fatalf("epoch %d, want 3", l.Record().Epoch)
	}
}

// Followers that find a frozen owner at the same instant elect one of
// them and waste no epochs.
func TestSimultaneousExpiryHasOneWinner(t *testing.T) {
	path := filepath.Join(t.TempDir(), "owner.lease")
	clk := newClock()
	acquire(t, open(t, path, clk), "a")
	var fs []*File
	for range 6 {
		f := open(t, path, clk)
		mustHeld(t, f, "f")
		fs = append(fs, f)
	}
	clk.Advance(ttl)
	start := make(chan struct{})
	errs := make(chan error, len(fs))
	for i, f := range fs {
		go func() {
			<-start
			l, _, err := f.TryAcquire(ctx, Candidate{InstanceID: fmt.Sprint("f", i)})
			if err == nil {
				t.Cleanup(func() { l.Close() })
			}
			errs <- err
		}()
	}
	close(start)
	won := 0
	for range fs {
		if err := <-errs; err == nil {
			won++
		} else if !errors.Is(err, ErrHeld) {
			t.Fatal(err)
		}
	}
	if won != 1 {
		t.Fatalf("%d winners", won)
	}
	ents, err := os.ReadDir(path + ".d")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "claim.") && e.Name() != "claim.1" && e.Name() != "claim.2" {
			t.Errorf("epoch wasted: %s", e.Name())
		}
	}
}

// A record that says released, forged or stale, is not taken for a free
// lease while its holder still holds its lock.
func TestReleasedRecordNeedsTheLockToo(t *testing.T) {
	_, _, a, b := pair(t)
	la := acquire(t, a, "a").(*fileLease)
	rec := la.Record()
	rec.Released = true
	if err := la.publish(rec); err != nil {
		t.Fatal(err)
	}
	mustHeld(t, b, "b")
}

func TestHugeEpochIsCorrupt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "owner.lease")
	if err := os.WriteFile(path, []byte(`{"version":1,"instance_id":"x","epoch":18446744073709551615,"ttl":"1s"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	f := open(t, path, newClock())
	if l := acquire(t, f, "a"); l.Record().Epoch != 1 {
		t.Fatalf("epoch %d", l.Record().Epoch)
	}
}

// A candidate frozen after locking the next epoch, before claiming it,
// does not block the takeover of a holder that is gone for more than a TTL.
func TestCandidateFrozenBeforeClaimAfterCrash(t *testing.T) {
	path, clk, a, b := pair(t)
	acquire(t, a, "a").Close() // a is gone
	frozen := flock.New(filepath.Join(path+".d", "live.2"))
	if ok, err := frozen.TryLock(); !ok || err != nil {
		t.Fatal(ok, err)
	}
	defer frozen.Unlock()
	mustHeld(t, b, "b")
	clk.Advance(ttl - time.Millisecond)
	mustHeld(t, b, "b")
	clk.Advance(time.Millisecond)
	if l := acquire(t, b, "b"); l.Record().Epoch != 3 {
		t.Fatalf("epoch %d, want 3", l.Record().Epoch)
	}
}

// A claim whose live file is gone (removed with the files of old epochs,
// then made again by a candidate that resumed too late) is no holder:
// with the record unreadable, every claim is probed, and a released lease
// is still free at once.
func TestClaimWithoutLiveFileIsNoHolder(t *testing.T) {
	path, _, a, b := pair(t)
	la := acquire(t, a, "a")
	if err := la.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(path+".d", "live.1")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if l := acquire(t, b, "b"); l.Record().Epoch != 2 { // no clock advance
		t.Fatalf("epoch %d, want 2", l.Record().Epoch)
	}
}

// A claim at the last epoch leaves none to take: TryAcquire says so
// instead of reporting the lease held for ever. (Only a claim written by
// hand can get there; a record naming any epoch does not count.)
func TestNoEpochLeft(t *testing.T) {
	path := filepath.Join(t.TempDir(), "owner.lease")
	f := open(t, path, newClock())
	claim := fmt.Sprintf(`{"version":1,"instance_id":"x","epoch":%d,"ttl":"1s"}`, uint64(MaxEpoch))
	if err := os.WriteFile(f.name(kindClaim, MaxEpoch), []byte(claim), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := f.TryAcquire(ctx, Candidate{InstanceID: "a"}) // its live file is missing: gone
	if err == nil || errors.Is(err, ErrHeld) || !strings.Contains(err.Error(), "no epoch is left") {
		t.Fatalf("TryAcquire = %v, want the epochs exhausted", err)
	}
}
