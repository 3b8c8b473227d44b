package etcdlease

import (
	"context"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/leasehold/leasehold/lease"
)

// Wait watches the key from the revision after the last TryAcquire read
// it, and returns at the first change: a holder that went (released,
// expired, revoked) or a new one. It also returns, early, when the
// revision to watch from was compacted; the next TryAcquire then reads the
// key afresh. It returns at once if TryAcquire has not read the key yet,
// ctx's error when ctx is done, and lease.ErrClosed after Close, or when
// Close ends it.
//
// The watch requires a leader: a member cut off from the others ends it,
// rather than leaving it to wait for events that will not come (etcd
// issues 7593, 8980). Wait then watches again from the same revision,
// after a pause that doubles up to a quarter of the TTL, so that it
// misses nothing and writes nothing while etcd has no leader.
//
// Wait sends nothing to etcd while the holder stays: renewals do not
// change the key, so they wake no follower.
func (s *Store) Wait(ctx context.Context) error {
	s.mu.Lock()
	closed, rev := s.closed, s.rev
	s.mu.Unlock()
	switch {
	case closed:
		return lease.ErrClosed
	case ctx.Err() != nil:
		return ctx.Err()
	case rev == 0:
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel) // Close ends the Wait
	defer stop()
	pause := 50 * time.Millisecond
	for {
		if s.watch(ctx, rev) {
			return nil
		}
		if err := s.waitErr(ctx); err != nil {
			return err
		}
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return s.waitErr(ctx)
		}
		pause = min(2*pause, s.opts.TTL/4)
	}
}

// watch watches the key from rev+1 until ctx is done or the watch ends.
// It reports whether the key changed or rev was compacted: then the key
// must be read again.
func (s *Store) watch(ctx context.Context, rev int64) bool {
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	for resp := range s.client.Watch(wctx, s.key, clientv3.WithRev(rev+1)) {
		if len(resp.Events) > 0 || resp.CompactRevision != 0 {
			return true
		}
		if resp.Canceled {
			return false
		}
		// A notification of progress: nothing changed.
	}
	return false
}

// waitErr returns why a Wait must end: Close, ctx, or a closed client.
func (s *Store) waitErr(ctx context.Context) error {
	switch {
	case s.isClosed():
		return lease.ErrClosed
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return s.client.Ctx().Err()
}
