package lease

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
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

// A renewal reaches a connected follower as a message that restarts its
// expiry clock: Wait does not return and the follower touches no file. A
// holder that stops renewing is then taken over a TTL after its last
// renewal, not after the follower's first read.
func TestRenewalRestartsExpiryWithoutWaking(t *testing.T) {
	path := filepath.Join(t.TempDir(), "owner.lease")
	clk := newClock()
	a, b := open(t, path, clk), open(t, path, clk)
	la := acquire(t, a, "a")
	mustHeld(t, b, "b")
	var counting atomic.Bool
	var steps atomic.Int32
	b.hook = func(string) {
		if counting.Load() {
			steps.Add(1)
		}
	}
	done := make(chan error, 1)
	go func() { done <- b.Wait(ctx) }()
	waitConnected(t, b)
	counting.Store(true)
	for i := range 5 {
		clk.Advance(ttl / 2)
		if err := la.Renew(ctx); err != nil {
			t.Fatal(err)
		}
		now := clk.Now()
		waitFor(t, fmt.Sprint("renewal ", i, " heard"), func() bool {
			b.mu.Lock()
			defer b.mu.Unlock()
			return b.seenAt.Equal(now)
		})
		select {
		case err := <-done:
			t.Fatalf("Wait returned (%v) on renewal %d, %v after b read the lease", err, i, time.Duration(i+1)*ttl/2)
		default:
		}
	}
	if n := steps.Load(); n != 0 {
		t.Fatalf("b took %d steps on the lease's files during renewals", n)
	}
	counting.Store(false)
	clk.Advance(ttl - time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("Wait returned (%v) before a TTL after the last renewal", err)
	case <-time.After(20 * time.Millisecond):
	}
	clk.Advance(time.Millisecond)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	lb, _, err := b.TryAcquire(ctx, Candidate{InstanceID: "b"})
	if err != nil {
		t.Fatalf("no takeover a TTL after the last renewal: %v", err)
	}
	defer lb.Close()
	if lb.Record().Epoch != 2 {
		t.Fatalf("epoch %d, want 2", lb.Record().Epoch)
	}
	if err := la.Renew(ctx); !errors.Is(err, ErrLost) {
		t.Fatalf("a's renewal after the takeover = %v, want ErrLost", err)
	}
}

// waitConnected waits until f's Wait is connected to the holder's socket.
func waitConnected(t *testing.T, f *File) {
	t.Helper()
	waitFor(t, "connected to the holder", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.w != nil
	})
}

// waitFor polls cond until it holds, failing after a generous bound.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
		time.Sleep(time.Millisecond)
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

// With the system clock a connected follower's Wait times its expiry with
// a timer of the kernel, which renewals heard move on: it returns once the
// holder stops renewing, a TTL after the last renewal and not before.
func TestWaitExpiresAfterLastRenewalHeard(t *testing.T) {
	const short = time.Second
	path := filepath.Join(t.TempDir(), "owner.lease")
	openTTL := func() *File {
		f, err := Open(path, Options{TTL: short})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	a, b := openTTL(), openTTL()
	la := acquire(t, a, "a")
	mustHeld(t, b, "b")
	done := make(chan error, 1)
	go func() { done <- b.Wait(ctx) }()
	waitConnected(t, b)
	var last time.Time
	for range 6 { // more than a TTL of renewals
		time.Sleep(short / 5)
		last = time.Now()
		if err := la.Renew(ctx); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			t.Fatalf("Wait returned (%v) while the holder renewed", err)
		default:
		}
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Wait did not return after the holder stopped renewing")
	}
	if d := time.Since(last); d < short {
		t.Fatalf("Wait returned %v after the last renewal began, before the TTL (%v)", d, short)
	}
}

// When the holder's connection ends, Wait returns once its live lock is
// free, not before: a dying holder closes its sockets a moment before the
// kernel drops its lock, and TryAcquire then finds the lease free at once.
func TestWaitAfterEndOfFileAwaitsTheLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "owner.lease")
	a, b := open(t, path, clock.System), open(t, path, clock.System)
	la := acquire(t, a, "a").(*fileLease)
	mustHeld(t, b, "b")
	done := make(chan error, 1)
	go func() { done <- b.Wait(ctx) }()
	waitConnected(t, b)
	la.closeNotifier() // the socket ends, the lock stays
	select {
	case err := <-done:
		t.Fatalf("Wait returned (%v) while the holder's lock was held", err)
	case <-time.After(50 * time.Millisecond):
	}
	unlocked := time.Now()
	if err := la.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("Wait returned %v after the lock was dropped", time.Since(unlocked))
	case <-time.After(10 * time.Second):
		t.Fatal("Wait did not return after the lock was dropped")
	}
	lb, _, err := b.TryAcquire(ctx, Candidate{InstanceID: "b"})
	if err != nil {
		t.Fatalf("TryAcquire right after Wait: %v", err)
	}
	lb.Close()
}
