package lease

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A record deleted under a live holder is read from the holder's claim
// (see FileObserver), but the claim's renewed_at is the acquisition's: a
// holder that has renewed faithfully for longer than its TTL, and whose
// record was then deleted, is reported unrenewed ("frozen, stalled, or
// cut off from the store; its Check fails") though its Check succeeds and
// its beat shows its latest renewal. The beat, which deleting the record
// cannot undo, says it renewed; StateUnrenewed should need more than a
// claim's age.
func TestObserveDeletedRecordOfRenewingHolderIsLive(t *testing.T) {
	const ttl = 200 * time.Millisecond
	path := filepath.Join(t.TempDir(), "owner.lease")
	a, err := Open(path, Options{TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	la := acquire(t, a, "a")
	for range 6 { // renewing every TTL/4 for 1.5 TTL
		time.Sleep(ttl / 4)
		if err := la.Renew(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Remove(path); err != nil { // just after a renewal: a quarter of the TTL before the next
		t.Fatal(err)
	}
	obs, err := observer(t, path, nil).Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if obs.State != StateLive {
		t.Fatalf("state %v (renewed %v ago by the claim), want live: the holder renewed %v ago",
			obs.State, time.Since(obs.Renewed).Round(time.Millisecond), time.Since(la.Record().RenewedAt).Round(time.Millisecond))
	}
}
