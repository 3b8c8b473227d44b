package lease

import (
	"context"
	"errors"
	"time"

	"github.com/leasehold/leasehold/internal/clock"
)

// suspectFirst is the first delay between reads while the holder may have
// just died: its socket closed or refused, but its live lock may not be
// free yet. The delay doubles up to the poll interval.
const suspectFirst = 500 * time.Microsecond

// staggerStep is how much later than the follower before it, by the rank
// its holder gave it, a follower reads the lease once the holder is gone,
// so that one tries to take over at a time. The delay is taken on the
// system clock: it spreads the load and decides nothing.
const staggerStep = 2 * time.Millisecond

// pollInterval is how often a follower that has no connection to the
// holder's socket reads the lease again.
func (f *File) pollInterval() time.Duration {
	return min(max(f.ttl/8, 5*time.Millisecond), 250*time.Millisecond)
}

// untilExpiry is how long the lease as last seen has left before it may be
// taken over by expiry.
func (f *File) untilExpiry() time.Duration {
	return f.seenAt.Add(max(f.ttl, f.expireTTL)).Sub(f.clk.Now())
}

// Wait implements Store. Connected to the holder's socket, it returns when
// the holder's tenure ends or its process dies, when another candidate
// publishes, and when the lease would expire; a renewal restarts the
// expiry clock without returning (see heard), so a follower costs nothing
// in between. Without a socket it returns at the poll interval (TTL/8,
// within 5 ms..250 ms).
func (f *File) Wait(ctx context.Context) error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return ErrClosed
	}
	f.connect()
	poll := f.pollInterval()
	if f.suspect > 0 {
		poll = min(poll, f.suspect)
		f.suspect = min(2*f.suspect, f.pollInterval())
	}
	wait := f.untilExpiry()
	if wait <= 0 {
		// Expired, yet TryAcquire found the lease held: another candidate
		// is taking it. Read again at the poll pace rather than spin.
		wait = poll
	}
	w := f.w
	if w == nil {
		wait = min(wait, poll)
	}
	closing := f.closing
	f.mu.Unlock()
	if wait <= 0 {
		return nil
	}
	var t Timer
	if w != nil && f.clk == clock.System {
		t = newKernelTimer(wait)
	}
	var changed, dead <-chan struct{}
	if w != nil {
		changed, dead = w.changed, w.dead
	}
	if t != nil {
		// Renewals heard move it on (see heard), so that it fires only
		// once the holder has stopped renewing.
		f.mu.Lock()
		f.expiry = t
		f.mu.Unlock()
		defer func() {
			f.mu.Lock()
			f.expiry = nil
			f.mu.Unlock()
			t.Stop()
		}()
	} else {
		t = f.clk.NewTimer(wait)
		defer t.Stop()
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-closing:
			return ErrClosed
		case <-changed:
			return nil
		case <-dead:
			f.mu.Lock()
			rank := w.rank
			if f.w == w {
				f.dropWatcher()
				f.suspect = suspectFirst
			}
			f.mu.Unlock()
			if err := stagger(ctx, closing, rank, poll); err != nil {
				return err
			}
			return f.awaitFree(ctx, closing, w.epoch, f.pollInterval())
		case <-t.C():
			if w == nil {
				return nil
			}
			f.mu.Lock()
			left := f.untilExpiry()
			f.mu.Unlock()
			if left <= 0 {
				return nil
			}
			// Renewals restarted the expiry clock meanwhile.
			t.Reset(left)
		}
	}
}

// stagger waits rank steps, up to limit, before a follower reads the lease
// of a holder that went.
func stagger(ctx context.Context, closing <-chan struct{}, rank int, limit time.Duration) error {
	d := min(time.Duration(rank)*staggerStep, limit)
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-closing:
		return ErrClosed
	case <-t.C:
		return nil
	}
}

// freeStep is how often awaitFree looks at the live lock.
const freeStep = 100 * time.Microsecond

// awaitFree waits, up to limit, until the live lock of epoch is free. A
// holder whose connection has ended is most likely dying, and the kernel
// drops its lock a moment after it closes its sockets: a millisecond or
// more, for a process with several threads. Looking at the lock alone
// every 100 µs, on a timer of the kernel where there is one (the runtime's
// fire about once a millisecond), costs far less than reading the lease,
// and lets TryAcquire find the lock free at its first attempt.
func (f *File) awaitFree(ctx context.Context, closing <-chan struct{}, epoch uint64, limit time.Duration) error {
	if f.clk != clock.System {
		return nil
	}
	deadline := time.Now().Add(limit)
	var t Timer
	for {
		l, free, err := lockFile(f.name(kindLive, epoch), false)
		if l != nil {
			_ = l.Unlock()
		}
		if err != nil || free || !time.Now().Before(deadline) {
			if t != nil {
				t.Stop()
			}
			return nil
		}
		if t == nil {
			if t = newKernelTimer(freeStep); t == nil {
				t = clock.System.NewTimer(freeStep)
			}
		} else {
			t.Reset(freeStep)
		}
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-closing:
			t.Stop()
			return ErrClosed
		case <-t.C():
		}
	}
}

// connect makes sure f watches the current holder's socket, if it has one.
func (f *File) connect() {
	if f.w != nil {
		select {
		case <-f.w.dead:
			f.dropWatcher()
			if f.suspect == 0 {
				f.suspect = suspectFirst
			}
		default:
			return
		}
	}
	if f.watch == 0 {
		return
	}
	w, err := f.dial(f.watch)
	switch {
	case err == nil:
		f.w, f.suspect = w, 0
	case !errors.Is(err, errNoSocket) && f.suspect == 0:
		// The socket is missing or refused: its holder has just gone, or
		// its candidate is about to listen. Read again soon.
		f.suspect = suspectFirst
	}
}

func (f *File) dropWatcher() {
	if f.w != nil {
		f.w.close()
		f.w = nil
	}
}
