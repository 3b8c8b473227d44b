package etcdlease

import (
	"context"
	"errors"
	"fmt"
	"sync"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/leasehold/leasehold/lease"
)

// tenure is one holding of the key, bound to one etcd lease.
type tenure struct {
	s  *Store
	id clientv3.LeaseID

	mu     sync.Mutex // held across the requests of Renew, Release and Close
	rec    lease.Record
	lost   error // the ErrLost a renewal returned; final
	closed bool

	// The keep-alive stream, opened by the first renewal and kept while
	// it works: one request and its response per renewal.
	stream pb.Lease_LeaseKeepAliveClient
	cancel context.CancelFunc // ends stream
}

// Record returns the record the key was created with; its epoch is the
// key's create revision. Renewals do not rewrite it.
func (t *tenure) Record() lease.Record {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.rec.Clone()
}

// Renew refreshes the etcd lease once, with one keep-alive request (not
// clientv3's KeepAlive loop, which dates its deadline from the response;
// nor KeepAliveOnce, whose new stream each time authenticates anew), then
// reads the key. It returns nil only if etcd's leader refreshed the lease
// at some instant after the call began: etcd then keeps the key until at
// least a TTL after the call began, and no one else can create it
// meanwhile.
//
// The read checks that the key still has the tenure's create revision
// and etcd lease. It is a serializable read, answered by the member the
// client reaches without a round through the leader: the guarantee rests
// on the keep-alive, since the key lives exactly as long as its lease
// unless something else writes or deletes it, which the rules forbid and
// the read catches. A member that has not yet applied the key's creation
// is asked again.
//
// An etcd lease that no longer exists, or a key gone or of another
// create revision, is lease.ErrLost, for good; any other error (a
// timeout, no leader) is worth retrying.
func (t *tenure) Renew(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.closed:
		return lease.ErrClosed
	case t.lost != nil:
		return t.lost
	}
	var ttl int64
	err := t.s.call(ctx, func(ctx context.Context) (err error) {
		ttl, err = t.keepAlive(ctx)
		return err
	})
	switch {
	case err != nil:
		return fmt.Errorf("etcdlease: renew %s: %w", t.s.key, err)
	case ttl <= 0:
		return t.loseLocked("its etcd lease expired or was revoked")
	}
	// Not WithKeysOnly: etcd 3.7 answers it from its index, without the
	// lease the key is bound to.
	var resp *clientv3.GetResponse
	err = t.s.call(ctx, func(ctx context.Context) (err error) {
		resp, err = t.s.client.Get(ctx, t.s.key, clientv3.WithSerializable())
		if err == nil && uint64(resp.Header.Revision) < t.rec.Epoch {
			return errBehind
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("etcdlease: renew %s: read the key: %w", t.s.key, err)
	}
	switch kvs := resp.Kvs; {
	case len(kvs) == 0:
		return t.loseLocked("the key was deleted")
	case uint64(kvs[0].CreateRevision) != t.rec.Epoch || kvs[0].Lease != int64(t.id):
		return t.loseLocked(fmt.Sprintf("the key was created again at revision %d", kvs[0].CreateRevision))
	}
	return nil
}

func (t *tenure) loseLocked(why string) error {
	t.lost = fmt.Errorf("%w: %s epoch %d: %s", lease.ErrLost, t.s.key, t.rec.Epoch, why)
	return t.lost
}

// keepAlive sends one keep-alive request for the tenure's etcd lease and
// returns the TTL of the response: 0 if the lease no longer exists. A
// stream that fails, or is abandoned when ctx ends, is closed, and the
// next call opens another, so that a response always answers the request
// just sent.
func (t *tenure) keepAlive(ctx context.Context) (int64, error) {
	if t.stream == nil {
		sctx, cancel := context.WithCancel(clientv3.WithRequireLeader(context.Background()))
		stop := context.AfterFunc(ctx, cancel)
		st, err := pb.NewLeaseClient(t.s.client.ActiveConnection()).LeaseKeepAlive(sctx)
		if !stop() || err != nil {
			cancel()
			return 0, errors.Join(rpctypes.Error(err), ctx.Err())
		}
		t.stream, t.cancel = st, cancel
	}
	stop := context.AfterFunc(ctx, t.cancel)
	err := t.stream.Send(&pb.LeaseKeepAliveRequest{ID: int64(t.id)})
	var resp *pb.LeaseKeepAliveResponse
	if err == nil {
		resp, err = t.stream.Recv()
	}
	if !stop() || err != nil {
		t.closeStream()
	}
	switch {
	case err != nil:
		return 0, errors.Join(rpctypes.Error(err), ctx.Err())
	case resp.ID != int64(t.id):
		return 0, fmt.Errorf("keep-alive answered for lease %x, sent for %x", resp.ID, int64(t.id))
	}
	return resp.TTL, nil
}

func (t *tenure) closeStream() {
	if t.cancel != nil {
		t.cancel()
	}
	t.stream, t.cancel = nil, nil
}

// Release revokes the etcd lease, which deletes the key if it is still
// this tenure's, so that a waiting follower takes over at once. An etcd
// lease already gone is not an error. It implies Close, and returns nil
// after Close.
func (t *tenure) Release(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	return t.closeLocked(ctx)
}

// Close ends the tenure as Release does: a tenure left to expire would
// keep a successor waiting for a TTL. A failure to revoke is returned,
// and the key then goes when the etcd lease expires. Close is idempotent.
func (t *tenure) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	return t.closeLocked(context.Background())
}

func (t *tenure) closeLocked(ctx context.Context) error {
	t.closed = true
	t.closeStream()
	defer t.s.own.drop()
	if err := t.s.revokeCtx(ctx, t.id); err != nil {
		return fmt.Errorf("etcdlease: revoke the lease of %s epoch %d: %w", t.s.key, t.rec.Epoch, err)
	}
	return nil
}
