package lease

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// A follower's read of the lease is not atomic: it reads the record, then
// the claims and their beats. One that read the record of a holder that
// had released (or died), and then the claim and the first beat of the
// successor, which published in between, got the predecessor's record
// from TryAcquire. The successor's renewals that then reach it through the
// socket are not renewals of a tenure it saw published: Wait must return,
// so that the next TryAcquire reports the new holder. (Taken as renewals,
// they kept the follower asleep with the old holder's record, its endpoint
// included, for the successor's whole tenure.)
func TestSuccessorPublishedDuringReadWakesFollower(t *testing.T) {
	path := filepath.Join(t.TempDir(), "owner.lease")
	clk := newClock()
	a, b, c := open(t, path, clk), open(t, path, clk), open(t, path, clk)
	la := acquire(t, a, "a")
	mustHeld(t, c, "c")
	if err := la.Release(ctx); err != nil {
		t.Fatal(err)
	}
	resumeB := freezeAt(t, b, "b", "rename:record") // epoch 2 claimed, its record not published

	// c reads a's record, then stops before it reads the beats.
	atBeats, thaw := make(chan struct{}), make(chan struct{})
	stopped := false // read and written by c's attempt only
	c.hook = func(p string) {
		if p == "read:beat" && !stopped {
			stopped = true
			close(atBeats)
			<-thaw
		}
	}
	type result struct {
		rec Record
		err error
	}
	read := make(chan result, 1)
	go func() {
		_, rec, err := c.TryAcquire(ctx, Candidate{InstanceID: "c"})
		read <- result{rec, err}
	}()
	<-atBeats
	lb, err := resumeB() // b publishes its record and its first beat
	if err != nil {
		t.Fatal(err)
	}
	close(thaw)
	r := <-read
	c.hook = nil
	if !errors.Is(r.err, ErrHeld) || r.rec.InstanceID != "a" {
		t.Fatalf("c's read: %v, holder %q; want ErrHeld with a's record, read before b published", r.err, r.rec.InstanceID)
	}

	// c waits, connected to b's socket; b renews, and tells c.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	waited := make(chan error, 1)
	go func() { waited <- c.Wait(wctx) }()
	fl := lb.(*fileLease)
	waitFor(t, "b accepted c's connection", func() bool {
		fl.n.mu.Lock()
		defer fl.n.mu.Unlock()
		return len(fl.n.conns) == 1
	})
	if err := lb.Renew(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-waited:
		if err != nil {
			t.Fatalf("c.Wait = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("c.Wait did not return on b's renewal: c still takes a for the holder")
	}
	if rec := mustHeld(t, c, "c"); rec.InstanceID != "b" || rec.Epoch != 2 {
		t.Fatalf("c sees %q at %d, want b at 2", rec.InstanceID, rec.Epoch)
	}
}
