package lease

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The Observer's new rules, attacked: a first claimant that has not
// published (frozen after its claim, or after its beat was created) is
// free; a later claimant that has not published, after a release, is not
// free; with the record deleted, renewals are judged by the observer's own
// clock from the beats (Renewed zero, Remaining counting down from the
// TTL, restarted by a renewal), unrenewed a full TTL after the last change
// it saw, gone once the holder closes.
func TestObserveUnpublishedAndRecordlessStates(t *testing.T) {
	clk := newClock()
	for _, point := range []string{"create:beat", "rename:record"} {
		path := filepath.Join(t.TempDir(), "owner.lease")
		a := open(t, path, clk)
		o := observer(t, path, clk)
		resume := freezeAt(t, a, "a", point)
		obs, err := o.Read(ctx)
		l, rerr := resume()
		a.hook = nil
		if err != nil || obs.State != StateFree || obs.Record.Epoch != 0 {
			t.Fatalf("first claimant frozen at %s: %v, %v, record %+v; want free, no record", point, obs.State, err, obs.Record)
		}
		if rerr != nil {
			t.Fatal(rerr)
		}
		mustRead(t, o, StateLive)
		l.Close()
		mustRead(t, o, StateGone)
	}

	path := filepath.Join(t.TempDir(), "owner.lease")
	a, b := open(t, path, clk), open(t, path, clk)
	o := observer(t, path, clk)
	l := acquire(t, a, "a")
	// The record deleted: judged by the observer's clock.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	obs := mustRead(t, o, StateLive)
	if !obs.Renewed.IsZero() || obs.Remaining != ttl || obs.Record.InstanceID != "a" {
		t.Fatalf("record deleted: renewed %v, remaining %v, record %+v; want zero, %v, a's claim", obs.Renewed, obs.Remaining, obs.Record, ttl)
	}
	clk.Advance(ttl / 2)
	if obs := mustRead(t, o, StateLive); obs.Remaining != ttl/2 {
		t.Fatalf("remaining %v, want %v", obs.Remaining, ttl/2)
	}
	if err := l.Renew(ctx); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if obs := mustRead(t, o, StateLive); obs.Remaining != ttl {
		t.Fatalf("after a renewal: remaining %v, want %v", obs.Remaining, ttl)
	}
	clk.Advance(ttl - time.Millisecond)
	mustRead(t, o, StateLive)
	clk.Advance(time.Millisecond)
	mustRead(t, o, StateUnrenewed)
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	mustRead(t, o, StateReleased)
	// After the release, b claims and stops before publishing: the lease
	// is not free (an epoch was published), whatever else it is.
	resume := freezeAt(t, b, "b", "rename:record")
	obs, err := o.Read(ctx)
	lb, rerr := resume()
	b.hook = nil
	if err != nil || obs.State == StateFree {
		t.Fatalf("a later claimant unpublished after a release: %v, %v (record %+v); want not free", obs.State, err, obs.Record)
	}
	t.Logf("after a release, with the next claimant unpublished: %v (record released: %v)", obs.State, obs.Record.Released)
	if rerr != nil {
		t.Fatal(rerr)
	}
	mustRead(t, o, StateLive)
	lb.Close()
	mustRead(t, o, StateGone)
}
