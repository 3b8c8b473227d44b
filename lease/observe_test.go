package lease

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leasehold/leasehold/internal/dirtree"
)

func observer(t *testing.T, path string, clk Clock) *FileObserver {
	t.Helper()
	o, err := Observe(path, ObserveOptions{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	return o
}

func mustRead(t *testing.T, o *FileObserver, want State) Observation {
	t.Helper()
	obs, err := o.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if obs.State != want {
		t.Fatalf("state %v (record %+v), want %v", obs.State, obs.Record, want)
	}
	return obs
}

// tree returns every file and directory under dir with its content and
// modification time, to show that nothing was written.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	m, err := dirtree.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func sameTree(t *testing.T, before, after map[string]string) {
	t.Helper()
	for _, d := range dirtree.Diff(before, after) {
		t.Error(d)
	}
}

// The states follow the facts a follower decides on: the live lock, the
// record's release, and a TTL without change on the observer's clock.
func TestObserveStates(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "owner.lease")
	clk := newClock()
	o := observer(t, path, clk)
	mustRead(t, o, StateFree)

	a := open(t, path, clk)
	la := acquire(t, a, "a")
	obs := mustRead(t, o, StateLive)
	if obs.Record.InstanceID != "a" || obs.Record.Epoch != 1 || obs.Remaining <= 0 || obs.Renewed.IsZero() {
		t.Fatalf("live observation %+v", obs)
	}

	clk.Advance(ttl) // no renewal for a TTL on the observer's clock
	mustRead(t, o, StateUnrenewed)
	if err := la.Renew(ctx); err != nil {
		t.Fatal(err)
	}
	mustRead(t, o, StateLive)

	la.Close() // the tenure ends without a release, as when the process dies
	if obs := mustRead(t, o, StateGone); obs.Record.InstanceID != "a" || obs.Remaining != 0 {
		t.Fatalf("gone observation %+v", obs)
	}

	b := open(t, path, clk)
	lb := acquire(t, b, "b")
	if obs := mustRead(t, o, StateLive); obs.Record.InstanceID != "b" || obs.Record.Epoch != 2 {
		t.Fatalf("after the takeover %+v", obs.Record)
	}
	if err := lb.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if obs := mustRead(t, o, StateReleased); obs.Record.InstanceID != "b" || !obs.Record.Released {
		t.Fatalf("released observation %+v", obs.Record)
	}
}

// A holder that stopped renewing is found unrenewed at the first reading,
// by the record's renewed_at, while it keeps its live lock.
func TestObserveFirstReadingFindsFrozenHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "owner.lease")
	a := open(t, path, nil)
	la := acquire(t, a, "a")
	rec := la.Record()
	rec.RenewedAt = time.Now().Add(-2 * rec.TTL)
	b, err := EncodeRecord(rec)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	mustRead(t, observer(t, path, nil), StateUnrenewed)
}

// A record deleted under a live holder is read from the holder's claim.
func TestObserveDeletedRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "owner.lease")
	acquire(t, open(t, path, nil), "a")
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if obs := mustRead(t, observer(t, path, nil), StateLive); obs.Record.InstanceID != "a" {
		t.Fatalf("record %+v, want the claim's", obs.Record)
	}
}

// Observing writes nothing: not the record, not the sidecar directory, and
// no directory where none exists.
func TestObserveWritesNothing(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "no", "such", "owner.lease")
	o := observer(t, missing, nil)
	mustRead(t, o, StateFree)
	wctx, cancel := context.WithTimeout(ctx, 3*DefaultObserveInterval)
	defer cancel()
	if err := o.Wait(wctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait on a lease that stays free: %v, want the context's deadline", err)
	}
	mustRead(t, o, StateFree)
	if _, err := os.Stat(filepath.Join(dir, "no")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("observing a missing lease made its directory: %v", err)
	}

	path := filepath.Join(dir, "owner.lease")
	la := acquire(t, open(t, path, nil), "a")
	before := tree(t, dir)
	o = observer(t, path, nil)
	for range 3 {
		mustRead(t, o, StateLive)
	}
	sameTree(t, before, tree(t, dir))
	la.Close()
	before = tree(t, dir)
	mustRead(t, o, StateGone)
	sameTree(t, before, tree(t, dir))
}

// A path that is not a lease file is an error naming it, and stays as it
// was.
func TestObserveRefuses(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.lease")
	if err := os.WriteFile(garbage, []byte("not a record\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	asDir := filepath.Join(dir, "dir.lease")
	if err := os.Mkdir(asDir, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.lease")
	if err := os.Symlink(garbage, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, want string
		is               error
	}{
		{"garbage record", garbage, "corrupt record", ErrCorrupt},
		{"directory", asDir, "is a directory", nil},
		{"symbolic link", link, "symbolic link", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := tree(t, dir)
			_, err := observer(t, tc.path, nil).Read(ctx)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.path) {
				t.Fatalf("error %v, want one naming %s with %q", err, tc.path, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("error %v does not wrap %v", err, tc.is)
			}
			sameTree(t, before, tree(t, dir))
		})
	}
}

// Wait sleeps through renewals and returns once the holder is gone; Close
// ends it.
func TestObserveWait(t *testing.T) {
	path := filepath.Join(t.TempDir(), "owner.lease")
	clk := newClock()
	la := acquire(t, open(t, path, clk), "a")
	o := observer(t, path, clk)
	if err := o.Wait(ctx); err != nil {
		t.Fatalf("Wait before a Read: %v, want nil at once", err)
	}
	mustRead(t, o, StateLive)
	done := make(chan error, 1)
	go func() { done <- o.Wait(ctx) }()
	for range 10 {
		if !clk.BlockUntil(1, 10*time.Second) {
			t.Fatal("Wait set no timer")
		}
		if err := la.Renew(ctx); err != nil {
			t.Fatal(err)
		}
		clk.Advance(DefaultObserveInterval) // 10 of them: more than the TTL
		select {
		case err := <-done:
			t.Fatalf("Wait returned on a renewal: %v", err)
		default:
		}
	}
	if !clk.BlockUntil(1, 10*time.Second) {
		t.Fatal("Wait set no timer")
	}
	la.Close()
	clk.Advance(DefaultObserveInterval)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Wait did not return when the holder went")
	}
	mustRead(t, o, StateGone)

	go func() { done <- o.Wait(ctx) }()
	clk.BlockUntil(1, 10*time.Second)
	o.Close()
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("Wait after Close: %v, want ErrClosed", err)
	}
	if _, err := o.Read(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("Read after Close: %v, want ErrClosed", err)
	}
}

// While the holder renews, a waiting observer sleeps on the holder's
// socket as a follower does: it reads no file, and Wait does not return;
// the holder's going wakes it at once, without waiting for a poll.
func TestObserveWaitSleepsOnTheSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "owner.lease")
	clk := newClock()
	la := acquire(t, open(t, path, clk), "a")
	o := observer(t, path, clk)
	mustRead(t, o, StateLive)
	var reads atomic.Int32
	o.f.hook = func(point string) {
		if strings.HasPrefix(point, "read:") || strings.HasPrefix(point, "list:") {
			reads.Add(1)
		}
	}
	done := make(chan error, 1)
	go func() { done <- o.Wait(ctx) }()
	waitConnected(t, o.f)
	for range 5 {
		if err := la.Renew(ctx); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the renewals heard", func() bool {
		o.f.mu.Lock()
		defer o.f.mu.Unlock()
		return o.f.w.got == 5
	})
	select {
	case err := <-done:
		t.Fatalf("Wait returned on a renewal: %v", err)
	default:
	}
	if n := reads.Load(); n != 0 {
		t.Fatalf("%d reads of the lease's files while the holder renewed, want none", n)
	}
	la.Close() // no clock moves: only the socket can wake Wait
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Wait did not return when the holder went")
	}
	mustRead(t, o, StateGone)
}
