package lease

import (
	"errors"
	"os"
	"testing"
)

// Renew returns ErrLost, which is final, only once a later claimant has
// published. A record written over the lease while a takeover by expiry
// has its claim standing (to be withdrawn, since the record changed) is no
// one's publication and must not cost the holder its lease: neither a
// valid record that names a higher epoch, nor a copy of the pending claim,
// which names the claimed epoch and its claimant's instance as the
// claimant's own record would.
func TestRecordWrittenDuringATakeoverKeepsTheHolder(t *testing.T) {
	forged, err := EncodeRecord(Record{Version: 1, InstanceID: "x", Epoch: 5, TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		record func(path string) ([]byte, error)
	}{
		{"forged later epoch", func(string) ([]byte, error) { return forged, nil }},
		{"copy of the pending claim", func(path string) ([]byte, error) { return os.ReadFile(path + ".d/claim.2") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, clk, a, b := pair(t)
			la := acquire(t, a, "a")
			mustHeld(t, b, "b")
			clk.Advance(ttl)
			var during error
			b.hook = func(p string) {
				if p == "create:beat" { // claim.2 stands, unpublished
					b.hook = nil
					rec, err := tc.record(path)
					if err == nil {
						err = os.WriteFile(path, rec, 0o600)
					}
					if err != nil {
						t.Error(err)
					}
					during = la.Renew(ctx)
				}
			}
			mustHeld(t, b, "b") // b withdraws its claim: the record changed
			mustBeWithdrawn(t, path, 2)
			after := la.Renew(ctx)
			if errors.Is(during, ErrLost) || after != nil {
				t.Fatalf("Renew while a withdrawn takeover's claim stood = %v, though no one published; the next Renew = %v", during, after)
			}
		})
	}
}
