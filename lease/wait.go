package lease

import (
	"context"
	"errors"
	"time"
)

// suspectFirst is the first delay between reads while the holder may have
// just died: its socket closed or refused, but its live lock may not be
// free yet. The delay doubles up to the poll interval.
const suspectFirst = 500 * time.Microsecond

// pollInterval is how often a follower that has no connection to the
// holder's socket reads the lease again.
func (f *File) pollInterval() time.Duration {
	return min(max(f.ttl/8, 5*time.Millisecond), 250*time.Millisecond)
}

// Wait implements Store. Connected to the holder's socket, it returns when
// the holder publishes, when its tenure ends or its process dies, and when
// the record would expire; it costs nothing in between. Without a socket it
// returns at the poll interval (TTL/8, within 5 ms..250 ms).
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
	wait := f.seenAt.Add(max(f.ttl, f.expireTTL)).Sub(f.clk.Now())
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
	t := f.clk.NewTimer(wait)
	defer t.Stop()
	var changed, dead <-chan struct{}
	if w != nil {
		changed, dead = w.changed, w.dead
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-closing:
		return ErrClosed
	case <-t.C():
	case <-changed:
	case <-dead:
		f.mu.Lock()
		if f.w == w {
			f.dropWatcher()
			f.suspect = suspectFirst
		}
		f.mu.Unlock()
	}
	return nil
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
	w, err := dial(f.name(kindSock, f.watch), f.watch)
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
