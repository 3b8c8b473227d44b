package etcdlease

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/metadata"

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
// Wait reads nothing while the holder stays: renewals do not change the
// key, so they wake no follower. It asks its watch's stream for a notice
// of progress once a TTL in which the stream said nothing (see watch).
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
		changed, silent := s.watch(ctx, rev)
		if changed || (silent && s.changedSince(ctx, rev)) {
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
// must be read again; and whether it left a stream that did not answer.
//
// Each watch has a gRPC stream of its own. clientv3 sends every watch
// whose context has the same metadata over one stream, which keeps the
// auth token it was opened with and the member it reached: once the token
// is stale, etcd cancels every new watch on it, and a member that stops
// answering (a paused process) holds it silent. So a watch that ends
// without a change is made again on a new stream, and a stream that has
// said nothing for a TTL is asked for a notice of progress.
//
// A stream that does not answer within the request timeout, after the
// watch or a notice of progress was asked of it, is left for a new one.
// Leaving it cancels the watch's context: clientv3's Watch returns only
// once the member created the watch, and RequestProgress only once the
// stream took the request, so either would otherwise wait for as long as
// the member does not answer. (The client may give the new stream the
// same member: Wait reads the key then, through any member that answers.)
func (s *Store) watch(ctx context.Context, rev int64) (changed, silent bool) {
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	wctx = metadata.AppendToOutgoingContext(wctx, "leasehold-watch", strconv.FormatUint(watchStreams.Add(1), 10))
	var left atomic.Bool
	leave := time.AfterFunc(s.opts.RequestTimeout, func() {
		left.Store(true)
		cancel()
	})
	defer leave.Stop()
	ch := s.client.Watch(wctx, s.key, clientv3.WithRev(rev+1), clientv3.WithCreatedNotify())
	quiet := time.NewTimer(s.opts.TTL)
	defer quiet.Stop()
	for {
		select {
		case resp, ok := <-ch:
			if !ok {
				return false, left.Load()
			}
			if len(resp.Events) > 0 || resp.CompactRevision != 0 {
				return true, false
			}
			if resp.Canceled {
				return false, left.Load()
			}
			// Created, or a notice of progress: nothing changed, and the
			// stream answers.
			if resp.Created {
				notifyCreated(resp.Header.MemberId)
			}
			leave.Stop()
			quiet.Reset(s.opts.TTL)
		case <-quiet.C:
			leave.Reset(s.opts.RequestTimeout)
			if err := s.client.RequestProgress(wctx); err != nil {
				return false, left.Load()
			}
		}
	}
}

// watchCreated, when set, is called with the ID of the member that
// created a watch of Wait's; for tests.
var watchCreated atomic.Pointer[func(member uint64)]

func notifyCreated(member uint64) {
	if f := watchCreated.Load(); f != nil {
		(*f)(member)
	}
}

// changedSince reads the key, through any member that answers, and
// reports whether it changed after rev (or the read failed: the next
// TryAcquire then reads it again).
func (s *Store) changedSince(ctx context.Context, rev int64) bool {
	var resp *clientv3.GetResponse
	err := s.call(ctx, func(ctx context.Context) (err error) {
		resp, err = s.client.Get(ctx, s.key)
		return err
	})
	return err != nil || len(resp.Kvs) == 0 || resp.Kvs[0].ModRevision > rev
}

// watchStreams numbers the watches' streams.
var watchStreams atomic.Uint64

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
