package lease

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leasehold/leasehold/internal/clock"
)

// The hello byte, attacked: connections of the same user that send
// nothing (held open past Release), that send a garbage byte, or that
// send an observer's byte and hang up at once; 64 followers connecting at
// once, and an Observer. The holder's renewals must not wait on any
// greeter; each real follower gets a distinct follower rank, the Observer
// one after them all; and when the holder releases with a silent
// connection still unanswered, the first follower takes over within
// milliseconds, exactly one, and no goroutine is left (goleak).
func TestHelloGarbageSilenceAndBurstDelayNoTakeover(t *testing.T) {
	const followers = 64
	path := filepath.Join(t.TempDir(), "owner.lease")
	a := open(t, path, clock.System)
	la := acquire(t, a, "a")
	fl := la.(*fileLease)
	sock := a.name(kindSock, 1)
	dialRaw := func(hello []byte) net.Conn {
		c, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if hello != nil {
			if _, err := c.Write(hello); err != nil {
				t.Fatal(err)
			}
		}
		return c
	}
	dialRaw(nil)                   // silent: a follower after 50 ms
	dialRaw([]byte("x"))           // garbage: a follower
	dialRaw([]byte("o")).Close()   // an observer gone at once
	dialRaw([]byte("ffffoooo!!!")) // more than one byte

	fs := make([]*File, followers)
	for i := range fs {
		fs[i] = open(t, path, clock.System)
		mustHeld(t, fs[i], "f")
	}
	o := observer(t, path, clock.System)
	mustRead(t, o, StateLive)

	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	var taken atomic.Int32
	var first atomic.Int64
	for i, f := range fs {
		wg.Go(func() {
			if err := f.Wait(wctx); err != nil {
				return
			}
			for wctx.Err() == nil {
				l, _, err := f.TryAcquire(wctx, Candidate{InstanceID: "f"})
				if err == nil {
					taken.Add(1)
					first.CompareAndSwap(0, time.Now().UnixNano())
					<-wctx.Done()
					l.Close()
					return
				}
				if !errors.Is(err, ErrHeld) {
					t.Errorf("follower %d: %v", i, err)
					return
				}
				if f.Wait(wctx) != nil {
					return
				}
			}
		})
	}
	wg.Go(func() { _ = o.Wait(wctx) })
	for _, f := range fs {
		waitConnected(t, f)
	}
	waitConnected(t, o.f)
	conns := func() (int, int) {
		fl.n.mu.Lock()
		defer fl.n.mu.Unlock()
		return len(fl.n.conns), len(fl.n.watched)
	}
	waitFor(t, "every connection greeted", func() bool {
		c, w := conns()
		return c == followers+3 && w >= 1 // the silent, garbage and multi-byte ones are followers
	})
	start := time.Now()
	if err := la.Renew(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 20*time.Millisecond {
		t.Errorf("a renewal with %d connections took %v", followers+5, d)
	}
	ranks := map[int]bool{}
	waitFor(t, "every follower told its rank", func() bool {
		for _, f := range fs {
			f.mu.Lock()
			got := f.w != nil && f.w.got > 0
			f.mu.Unlock()
			if !got {
				return false
			}
		}
		o.f.mu.Lock()
		defer o.f.mu.Unlock()
		return o.f.w != nil && o.f.w.got > 0
	})
	for i, f := range fs {
		f.mu.Lock()
		r := f.w.rank
		f.mu.Unlock()
		if ranks[r] || r < 0 || r >= followers+3 {
			t.Errorf("follower %d has rank %d (taken or out of the followers' ranks)", i, r)
		}
		ranks[r] = true
	}
	nc, _ := conns()
	o.f.mu.Lock()
	if r := o.f.w.rank; r < nc {
		t.Errorf("the observer has rank %d among %d followers", r, nc)
	}
	o.f.mu.Unlock()

	dialRaw(nil) // a silent connection unanswered when the holder releases
	time.Sleep(5 * time.Millisecond)
	start = time.Now()
	if err := la.Release(ctx); err != nil {
		t.Fatal(err)
	}
	released := time.Since(start)
	waitFor(t, "a follower took over", func() bool { return first.Load() != 0 })
	took := time.Duration(first.Load() - start.UnixNano())
	time.Sleep(50 * time.Millisecond)
	t.Logf("Release took %v; the first follower took over %v after it began", released, took)
	if took > 30*time.Millisecond {
		t.Errorf("the first of %d followers took over %v after the release began", followers, took)
	}
	if n := taken.Load(); n != 1 {
		t.Errorf("%d followers took the lease over, want 1", n)
	}
}
