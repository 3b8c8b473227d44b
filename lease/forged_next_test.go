package lease

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// Two followers that find the holder gone (its live lock free) take the
// lease over without waiting, at the epoch after the latest claim. A valid
// record naming an epoch above every claim must not make one of them skip
// ahead: were the next epoch taken from the record, the first would lock
// epoch 4 and the second, reading after the record was deleted, epoch 2,
// and neither claim would stop the other: two owners.
//
// The outside acts are one write of a forged record and one deletion.
func TestForgedEpochAboveTheClaimsDoesNotSplitTheProbe(t *testing.T) {
	path := filepath.Join(t.TempDir(), "owner.lease")
	clk := newClock()
	h, a, b := open(t, path, clk), open(t, path, clk), open(t, path, clk)
	acquire(t, h, "h").Close() // epoch 1; h's process dies
	forged, err := EncodeRecord(Record{Version: 1, InstanceID: "x", Epoch: 3, TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, forged, 0o600); err != nil {
		t.Fatal(err)
	}

	// a finds epoch 1's holder gone, locks the next epoch and freezes.
	resumeA := freezeAt(t, a, "a", "listen:sock")
	if err := os.Remove(path); err != nil { // someone removes the lease file
		t.Fatal(err)
	}
	lb, _, errB := b.TryAcquire(ctx, Candidate{InstanceID: "b"}) // finds h gone too
	la, errA := resumeA()
	if lb != nil {
		t.Cleanup(func() { lb.Close() })
	}
	if la != nil && lb != nil {
		t.Fatalf("two owners: a at epoch %d, b at epoch %d", la.Record().Epoch, lb.Record().Epoch)
	}
	if la == nil || la.Record().Epoch != 2 || !errors.Is(errB, ErrHeld) {
		t.Fatalf("a = (%v, %v), b = %v: want a at epoch 2, the one after the latest claim, and b held off", la, errA, errB)
	}
}
