package lease

import (
	"errors"
	"os"
	"testing"
)

// Renew returns ErrLost, which is final, only once a successor has
// published. A copy of a pending claim written over the record names the
// claimed epoch and its claimant's instance, as the claimant's own record
// would; while that takeover by expiry stands (to be withdrawn, since the
// record changed) it must not cost the holder its lease.
func TestCopiedClaimKeepsTheHolder(t *testing.T) {
	path, clk, a, b := pair(t)
	la := acquire(t, a, "a")
	mustHeld(t, b, "b")
	clk.Advance(ttl)
	var during error
	b.hook = func(p string) {
		if p == "sync:side" { // claim.2 stands, unpublished
			b.hook = nil
			claim, err := os.ReadFile(path + ".d/claim.2")
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, claim, 0o600); err != nil {
				t.Fatal(err)
			}
			during = la.Renew(ctx)
		}
	}
	mustHeld(t, b, "b") // b withdraws its claim: the record changed
	mustBeWithdrawn(t, path, 2)
	after := la.Renew(ctx)
	if errors.Is(during, ErrLost) || after != nil {
		t.Fatalf("Renew while a withdrawn takeover's claim stood = %v, though no successor published; the next Renew = %v", during, after)
	}
}
