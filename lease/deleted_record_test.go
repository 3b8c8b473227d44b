package lease

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/leasehold/leasehold/internal/clock"
)

// A missing record looks the same every time, so a follower that first
// sees it missing, misses the holder's renewal (which recreates it), and
// finds it deleted again, must learn of the renewal from the holder's
// beat; were expiry judged by the record alone, it would take over while
// the renewal is still valid: two tenures valid at once.
//
// Here the first absence is the natural one, while the first holder has
// claimed epoch 1 but not published yet; the only outside act is one
// deletion of the record, after the holder's renewal.
func TestDeletedRecordDoesNotHideARenewal(t *testing.T) {
	path, clk, h, f := pair(t)

	// h claims epoch 1 and stops just before its first publication.
	begin := clk.Now()
	resume := freezeAt(t, h, "h", "rename:record")
	mustHeld(t, f, "f") // f sees the record missing and epoch 1 taken
	lh, err := resume()
	if err != nil {
		t.Fatal(err)
	}
	deadlineH := begin.Add(ttl) // as package owner counts it

	// A healthy renewal brings the record back; then someone removes the
	// lease file (a user, a cleanup job).
	renewUnseen(t, clk, lh, f, deadlineH, func() error { return os.Remove(path) })
}

// The same with a record that is garbled, twice, with the same bytes (as a
// tool that writes a fixed placeholder would): the follower never saw the
// holder's renewal in between.
func TestGarbledRecordDoesNotHideARenewal(t *testing.T) {
	path, clk, h, f := pair(t)
	deadline := clk.Now().Add(ttl)
	lh := acquire(t, h, "h")
	garbage := []byte("{}\n")

	if err := os.WriteFile(path, garbage, 0o600); err != nil {
		t.Fatal(err)
	}
	mustHeld(t, f, "f") // f first sees the garbage

	renewUnseen(t, clk, lh, f, deadline, func() error { return os.WriteFile(path, garbage, 0o600) })
}

// renewUnseen has h renew while f is not looking, damages the record back
// to what f saw, and checks that f, a TTL after it first saw that, does
// not take over while the renewal is valid. deadline is h's as the owner
// package counts it before the renewal.
func renewUnseen(t *testing.T, clk *clock.Fake, lh Lease, f *File, deadline time.Time, damage func() error) {
	t.Helper()
	clk.Advance(ttl / 2)
	renewBegin := clk.Now()
	if err := lh.Renew(ctx); err != nil {
		t.Fatal(err)
	}
	if clk.Now().Before(deadline) {
		deadline = renewBegin.Add(ttl)
	}
	if err := damage(); err != nil {
		t.Fatal(err)
	}
	clk.Advance(ttl / 2)
	lf, _, err := f.TryAcquire(ctx, Candidate{InstanceID: "f"})
	if err != nil {
		if !errors.Is(err, ErrHeld) {
			t.Fatal(err)
		}
		return // held off: the holder's beat changed
	}
	t.Cleanup(func() { lf.Close() })
	if now := clk.Now(); now.Before(deadline) {
		t.Fatalf("two tenures valid at once: h at epoch %d valid %v more (renewed %v ago), f granted epoch %d by expiry",
			lh.Record().Epoch, deadline.Sub(now), now.Sub(renewBegin), lf.Record().Epoch)
	}
}
