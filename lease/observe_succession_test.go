package lease

import (
	"path/filepath"
	"testing"
)

// A first claimant that has not published reads as free. After a tenure
// ended, with the holder released (or gone) and the next candidate between
// its claim and its publication, the Observer must not report StateLive, "the holder still holds its tenure (its
// process is alive and has neither released nor closed it)", with the
// released record of the holder that left, or the record of a dead one:
// leasehold status would name as live owner a holder that is gone, for up
// to a TTL if the candidate freezes there.
func TestObserveEndedTenureWithUnpublishedSuccessorIsNotLive(t *testing.T) {
	for _, end := range []string{"release", "death"} {
		t.Run(end, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "owner.lease")
			clk := newClock()
			a, b := open(t, path, clk), open(t, path, clk)
			o := observer(t, path, clk)
			la := acquire(t, a, "a")
			if end == "release" {
				if err := la.Release(ctx); err != nil {
					t.Fatal(err)
				}
			} else {
				la.Close()
			}
			resume := freezeAt(t, b, "b", "rename:record")
			obs, err := o.Read(ctx)
			lb, rerr := resume()
			b.hook = nil
			if rerr != nil {
				t.Fatal(rerr)
			}
			defer lb.Close()
			if err != nil {
				t.Fatal(err)
			}
			if obs.State == StateLive && obs.Record.InstanceID == "a" {
				t.Fatalf("a's tenure ended by %s, b claimed and has not published: observer reports %v with a's record (released %v)",
					end, obs.State, obs.Record.Released)
			}
		})
	}
}
