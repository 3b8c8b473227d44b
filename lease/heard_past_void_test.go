package lease

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// heard now takes renewals past epochs above the holder that were never
// used: a tombstone (claim.2/, a skipped epoch) and a withdrawn claim
// (claim.3 with void.3). Attacked: the follower hears the renewals without
// reading a file; a claim made after its reading (a candidate mid-takeover,
// epoch 4, not yet withdrawn) makes the holder's renewals fail rather than
// reach the follower; and once the holder stops, the follower takes over a
// TTL after the last renewal it heard, not later, at an epoch above every
// one taken, and the holder's next renewal is lost.
func TestRenewalsHeardPastTombAndVoidStillExpire(t *testing.T) {
	path := filepath.Join(t.TempDir(), "owner.lease")
	clk := newClock()
	a, c := open(t, path, clk), open(t, path, clk)
	la := acquire(t, a, "a")
	side := path + ".d"
	if err := os.Mkdir(filepath.Join(side, "claim.2"), 0o700); err != nil { // a skipped epoch
		t.Fatal(err)
	}
	claim3, _ := json.Marshal(map[string]any{"version": FormatVersion, "instance_id": "x", "epoch": 3, "ttl": ttl})
	for name, b := range map[string][]byte{"claim.3": claim3, "void.3": nil, "live.3": nil} {
		if err := os.WriteFile(filepath.Join(side, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := la.Renew(ctx); err != nil {
		t.Fatalf("a's renewal past a tomb and a void: %v", err)
	}
	if rec := mustHeld(t, c, "c"); rec.InstanceID != "a" {
		t.Fatalf("c sees %+v", rec)
	}
	var reads atomic.Int32
	c.hook = func(p string) {
		if strings.HasPrefix(p, "read:") || strings.HasPrefix(p, "list:") {
			reads.Add(1)
		}
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait(ctx) }()
	waitConnected(t, c)
	for i := range 4 {
		clk.Advance(ttl / 2)
		if err := la.Renew(ctx); err != nil {
			t.Fatal(err)
		}
		now := clk.Now()
		waitFor(t, "renewal heard", func() bool {
			c.mu.Lock()
			defer c.mu.Unlock()
			return c.seenAt.Equal(now)
		})
		select {
		case err := <-done:
			t.Fatalf("c.Wait returned (%v) at renewal %d", err, i)
		default:
		}
	}
	if n := reads.Load(); n != 0 {
		t.Fatalf("c read the files %d times between renewals", n)
	}
	c.hook = nil

	// A candidate claims epoch 4 after c's reading and stops there, its
	// live lock held: a's renewal must fail, not reach c as a renewal.
	l4, ok, err := lockFile(filepath.Join(side, "live.4"), true)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	claim4 := strings.Replace(string(claim3), `"epoch":3`, `"epoch":4`, 1)
	if err := os.WriteFile(filepath.Join(side, "claim.4"), []byte(claim4), 0o600); err != nil {
		t.Fatal(err)
	}
	lastHeard := clk.Now()
	clk.Advance(ttl / 2)
	if err := la.Renew(ctx); !errors.Is(err, errContested) {
		t.Fatalf("a's renewal with claim 4 standing = %v, want errContested", err)
	}
	// It withdraws; a is frozen from here on.
	if err := os.WriteFile(filepath.Join(side, "void.4"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	l4.Unlock()
	clk.Advance(lastHeard.Add(ttl).Sub(clk.Now()) - time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("c.Wait returned (%v) before a TTL after the last renewal it heard", err)
	case <-time.After(20 * time.Millisecond):
	}
	clk.Advance(time.Millisecond)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// c read nothing between; its first reading now sees claim and void 4:
	// a change, so its clock starts again; a stays frozen.
	mustHeld(t, c, "c")
	clk.Advance(ttl)
	lc, _, err := c.TryAcquire(ctx, Candidate{InstanceID: "c"})
	if err != nil {
		t.Fatalf("c's takeover of the frozen a: %v", err)
	}
	defer lc.Close()
	if e := lc.Record().Epoch; e != 5 {
		t.Fatalf("c took epoch %d, want 5", e)
	}
	if err := la.Renew(ctx); !errors.Is(err, ErrLost) {
		t.Fatalf("a's renewal after c took over = %v, want ErrLost", err)
	}
}
