package lease

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The lowest epoch whose beat a follower compares is the record's, if the
// record is valid and names an epoch at or below the latest claim. A
// valid record written over the lease that names the latest claim, seen
// twice alike while that epoch is claimed, each time by a takeover by
// expiry that will withdraw, leaves out the beat of a holder that took an
// epoch below it in between: the follower takes over while that holder,
// granted after the follower first saw the record, is still valid.
//
// Epoch 2 stays free below the claims of epoch 3 because a forged record
// naming 2 made the takeovers start at 3. Every participant follows the
// protocol; the outside acts are writes of two forged records (one of
// them twice alike) and one deletion of the record.
func TestForgedRecordHidesAHolderBelowAReclaimedEpoch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "owner.lease")
	clk := newClock()
	h, b, g, f, v := open(t, path, clk), open(t, path, clk), open(t, path, clk), open(t, path, clk), open(t, path, clk)
	write := func(r Record) {
		t.Helper()
		raw, err := EncodeRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, raw, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	naming2 := Record{Version: 1, InstanceID: "y", Epoch: 2, TTL: ttl}
	naming3 := Record{Version: 1, InstanceID: "x", Epoch: 3, TTL: ttl}

	lh := acquire(t, h, "h") // epoch 1; h then stops renewing (frozen)
	write(naming2)
	mustHeld(t, b, "b")
	mustHeld(t, g, "g")
	clk.Advance(ttl) // h's tenure is over

	var (
		t1, renewBegin time.Time
		lv             Lease
		lf             Lease
		errF           error
		step           int
	)
	reads := map[*File]int{}
	// b: a takeover by expiry of epoch 3 (the record names 2), which
	// withdraws because the record changes while its claim stands; f
	// first sees the lease then.
	b.hook = func(p string) {
		if p != "read:record" {
			return
		}
		if reads[b]++; reads[b] == 2 { // the check after claiming 3
			write(naming3)
			t1 = clk.Now()
			mustHeld(t, f, "f") // f: record naming 3, epoch 3 claimed
		}
	}
	g.hook = func(p string) {
		switch {
		case p == "lock:live" && step == 0:
			// g found the lease expired and is about to lock epoch 3.
			step = 1
			if _, _, err := b.TryAcquire(ctx, Candidate{InstanceID: "b"}); !errors.Is(err, ErrHeld) {
				t.Fatalf("b = %v, want ErrHeld (withdrawn)", err)
			}
			if _, err := os.Stat(path + ".d/claim.3"); !os.IsNotExist(err) {
				t.Fatalf("claim.3 not withdrawn: %v", err)
			}
			lh.Close() // h's process dies
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			// v takes epoch 2 over from the dead holder, after f's first
			// sight, and renews.
			clk.Advance(ttl / 8)
			var err error
			lv, _, err = v.TryAcquire(ctx, Candidate{InstanceID: "v"})
			if err != nil {
				t.Fatalf("v: %v", err)
			}
			if got := lv.Record().Epoch; got != 2 {
				t.Fatalf("v granted epoch %d, want 2", got)
			}
			clk.Advance(ttl / 2)
			begin := clk.Now()
			if err := lv.Renew(ctx); err != nil {
				t.Fatalf("v's renewal: %v", err)
			}
			renewBegin = begin
		case p == "read:record":
			if reads[g]++; reads[g] == 2 && step == 1 { // g's check after claiming 3
				// g's claim of 3 stands, its beat empty as b's was: the
				// record is written again as f first saw it, and f tries
				// a TTL after that.
				step = 2
				write(naming3)
				clk.Advance(t1.Add(ttl).Sub(clk.Now()))
				lf, _, errF = f.TryAcquire(ctx, Candidate{InstanceID: "f"})
			}
		}
	}
	// g: a takeover by expiry that read the lease before b's claim and
	// locks epoch 3 only after b withdrew it.
	if _, _, err := g.TryAcquire(ctx, Candidate{InstanceID: "g"}); !errors.Is(err, ErrHeld) {
		t.Errorf("g = %v, want ErrHeld (withdrawn)", err)
	}
	if lv != nil {
		t.Cleanup(func() { lv.Close() })
	}
	if step != 2 {
		t.Fatalf("schedule not reached (step %d)", step)
	}
	if errF != nil {
		if !errors.Is(errF, ErrHeld) {
			t.Fatal(errF)
		}
		return // held off
	}
	t.Cleanup(func() { lf.Close() })
	deadlineV := renewBegin.Add(ttl)
	if now := clk.Now(); now.Before(deadlineV) {
		t.Fatalf("two tenures valid at once: v at epoch %d valid %v more (renewed %v ago), f granted epoch %d by expiry",
			lv.Record().Epoch, deadlineV.Sub(now), now.Sub(renewBegin), lf.Record().Epoch)
	}
}
