package lease

import (
	"os"
	"path/filepath"
	"testing"
)

// Two followers that find the holder gone (its live lock free) take the
// lease over without waiting, each at the epoch after the latest it read.
// A valid record naming an epoch above every claim makes the first skip
// ahead; if the record changes before the second reads it (here it is
// deleted), the second takes the epoch after the holder's, publishes, and
// the first, resuming, claims its higher epoch without seeing the lower
// one: two owners, both by the probe of the dead holder's lock.
//
// Every participant follows the protocol; the outside acts are one write
// of a forged record and one deletion of the record.
func TestForgedEpochAboveTheClaimsSplitsTheProbe(t *testing.T) {
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

	// a finds epoch 1's holder gone and locks epoch 4 (after the forged 3).
	resumeA := freezeAt(t, a, "a", "create:beat")
	if err := os.Remove(path); err != nil { // someone removes the lease file
		t.Fatal(err)
	}
	begin := clk.Now()
	lb := acquire(t, b, "b") // b finds epoch 1's holder gone too: epoch 2
	deadlineB := begin.Add(ttl)
	la, errA := resumeA()
	if la == nil {
		t.Logf("a = %v", errA)
		return
	}
	if now := clk.Now(); now.Before(deadlineB) {
		t.Fatalf("two tenures valid at once: b at epoch %d valid %v more, a granted epoch %d",
			lb.Record().Epoch, deadlineB.Sub(now), la.Record().Epoch)
	}
}
