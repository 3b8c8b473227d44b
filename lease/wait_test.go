package lease

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leasehold/leasehold/internal/clock"
)

// follow calls TryAcquire and Wait until b holds the lease, failing after
// the (generous) limit.
func follow(t *testing.T, b *File, limit time.Duration) (Lease, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	for waits := 0; ; waits++ {
		l, _, err := b.TryAcquire(ctx, Candidate{InstanceID: "b"})
		if err == nil {
			t.Cleanup(func() { l.Close() })
			return l, waits
		}
		if !errors.Is(err, ErrHeld) {
			t.Fatal(err)
		}
		if err := b.Wait(ctx); err != nil {
			t.Fatalf("no takeover within %v: %v", limit, err)
		}
	}
}

func TestWaitWakesOnRenewal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "owner.lease")
	a, b := open(t, path, clock.System), open(t, path, clock.System)
	la := acquire(t, a, "a")
	mustHeld(t, b, "b")
	done := make(chan error, 1)
	go func() { done <- b.Wait(ctx) }()
	// The first Wait connects; renew until the notification arrives. The TTL
	// is 2 s, so a return before one second is the notification.
	start := time.Now()
	for {
		if err := la.Renew(ctx); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d > time.Second {
				t.Fatalf("Wait returned after %v, not on the renewal", d)
			}
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func TestWaitWakesWhenHolderGoes(t *testing.T) {
	for _, tc := range []struct {
		name string
		dir  func(t *testing.T) string
	}{
		{"socket", func(t *testing.T) string { return t.TempDir() }},
		{"polling", func(t *testing.T) string {
			return filepath.Join(t.TempDir(), strings.Repeat("d", maxSockPath))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(tc.dir(t), "owner.lease")
			a, b := open(t, path, clock.System), open(t, path, clock.System)
			la := acquire(t, a, "a")
			mustHeld(t, b, "b")
			go func() {
				time.Sleep(50 * time.Millisecond) // let b block in Wait
				la.Close()
			}()
			start := time.Now()
			lb, _ := follow(t, b, 10*time.Second)
			if d := time.Since(start); d >= ttl {
				t.Fatalf("takeover took %v, a full TTL", d)
			}
			if lb.Record().Epoch != 2 {
				t.Fatalf("epoch %d, want 2", lb.Record().Epoch)
			}
		})
	}
}

func TestWaitEnds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "owner.lease")
	a, b := open(t, path, clock.System), open(t, path, clock.System)
	acquire(t, a, "a")
	mustHeld(t, b, "b")

	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- b.Wait(cctx) }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait after cancel = %v", err)
	}
	go func() { done <- b.Wait(ctx) }()
	b.Close()
	if err := <-done; err != nil && !errors.Is(err, ErrClosed) {
		t.Fatalf("Wait after Close = %v", err)
	}
	if err := b.Wait(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("Wait on closed File = %v, want ErrClosed", err)
	}
}
