package lease

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leasehold/leasehold/internal/clock"
)

// A connection to the holder's socket that never reads (an observer or a
// follower frozen by SIGSTOP) neither slows nor fails the holder's
// renewals: once its buffer is full it is dropped, and a follower beside
// it hears every renewal without waking.
func TestStuckReaderDoesNotHoldUpRenewals(t *testing.T) {
	path := filepath.Join(t.TempDir(), "owner.lease")
	a, b := open(t, path, clock.System), open(t, path, clock.System)
	la, _, err := a.TryAcquire(ctx, Candidate{InstanceID: "a", Meta: map[string]string{"pad": strings.Repeat("x", 8<<10)}})
	if err != nil {
		t.Fatal(err)
	}
	defer la.Close()
	fl := la.(*fileLease)
	stuck, err := net.Dial("unix", a.name(kindSock, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Close()
	waitFor(t, "the stuck reader accepted", func() bool {
		fl.n.mu.Lock()
		defer fl.n.mu.Unlock()
		return len(fl.n.conns) == 1
	})
	mustHeld(t, b, "b")
	done := make(chan error, 1)
	go func() { done <- b.Wait(ctx) }()
	waitConnected(t, b)
	const renewals = 300
	var slowest time.Duration
	for range renewals {
		start := time.Now()
		if err := la.Renew(ctx); err != nil {
			t.Fatal(err)
		}
		slowest = max(slowest, time.Since(start))
	}
	if slowest > 200*time.Millisecond {
		t.Errorf("slowest renewal %v", slowest)
	}
	fl.n.mu.Lock()
	n := len(fl.n.conns)
	fl.n.mu.Unlock()
	if n != 1 {
		t.Errorf("%d connections after %d renewals of 8 KiB, want 1: the stuck reader is kept", n, renewals)
	}
	waitFor(t, "b heard every renewal", func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.w != nil && b.w.got == renewals
	})
	select {
	case err := <-done:
		t.Fatalf("b.Wait returned (%v) while the holder renewed", err)
	default:
	}
}
