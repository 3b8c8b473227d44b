package lease

import (
	"errors"
	"os"
	"testing"
)

// Renew returns ErrLost, which is final, only once a successor has
// published: a record damaged into a valid one that names a higher epoch,
// while a takeover that will be withdrawn has its claim standing, is no
// successor's publication and must not cost a healthy holder its lease.
func TestForgedLaterEpochKeepsTheHolder(t *testing.T) {
	path, clk, a, b := pair(t)
	la := acquire(t, a, "a")
	mustHeld(t, b, "b")
	clk.Advance(ttl)
	forged, err := EncodeRecord(Record{Version: 1, InstanceID: "x", Epoch: 5, TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	var during error
	b.hook = func(p string) {
		if p == "sync:side" { // claim.2 stands, unpublished
			b.hook = nil
			if err := os.WriteFile(path, forged, 0o600); err != nil {
				t.Error(err)
			}
			during = la.Renew(ctx)
		}
	}
	mustHeld(t, b, "b") // b withdraws its claim: the record changed
	mustBeWithdrawn(t, path, 2)
	after := la.Renew(ctx)
	if errors.Is(during, ErrLost) {
		t.Fatalf("Renew while a withdrawn takeover's claim stood = %v, though no successor published (the next Renew = %v)", during, after)
	}
}
