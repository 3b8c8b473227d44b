package lease

import (
	"errors"
	"os"
	"testing"
)

// A record is compared together with the beats of the claims from the
// record's epoch up, and that epoch counts only up to the latest claim. A
// record damaged into a valid one that names an epoch above the holder's
// but at or below the latest epoch taken (here a tombstone left by a
// follower that gave up on a frozen candidate) must not leave the
// holder's beat out of the comparison, or a follower that sees that
// record, misses the holder's renewal (which replaces it) and finds the
// same bytes written again would take over while the renewal is still
// valid.
//
// Every participant follows the protocol; the only outside acts are two
// identical writes of the record.
func TestForgedEpochDoesNotHideTheHoldersBeat(t *testing.T) {
	path, clk, h, f := pair(t)
	c := open(t, path, clk)
	lh := acquire(t, h, "h") // epoch 1
	mustHeld(t, f, "f")
	mustHeld(t, c, "c")
	clk.Advance(ttl) // h is silent for a TTL

	// c finds the lease expired, locks live.2 and freezes before claiming.
	resumeC := freezeAt(t, c, "c", "listen:sock")
	mustHeld(t, f, "f") // f finds the lease expired, epoch 2 being claimed
	clk.Advance(ttl)
	// f gives up on c: tombstone 2, claim 3 by expiry; h renews meanwhile,
	// so f withdraws claim 3.
	var renewErr error
	f.hook = func(p string) {
		if p == "create:claim" {
			f.hook = nil
			renewErr = lh.Renew(ctx)
		}
	}
	mustHeld(t, f, "f")
	if renewErr != nil {
		t.Fatalf("h's renewal before f's claim: %v", renewErr)
	}
	if _, err := resumeC(); !errors.Is(err, ErrHeld) {
		t.Fatalf("c's late claim of the skipped epoch = %v, want ErrHeld", err)
	}
	if fi, err := os.Stat(path + ".d/claim.2"); err != nil || !fi.IsDir() {
		t.Fatalf("claim.2 is not a tombstone: %v", err)
	}
	mustBeWithdrawn(t, path, 3)
	deadline := clk.Now().Add(ttl)
	if err := lh.Renew(ctx); err != nil {
		t.Fatalf("h's renewal: %v", err)
	}

	// Someone overwrites the record with a valid one naming epoch 2.
	forged, err := EncodeRecord(Record{Version: 1, InstanceID: "x", Epoch: 2, TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, forged, 0o600); err != nil {
		t.Fatal(err)
	}
	mustHeld(t, f, "f") // f first sees the forged record

	renewUnseen(t, clk, lh, f, deadline, func() error { return os.WriteFile(path, forged, 0o600) })
}
