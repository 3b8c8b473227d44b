package etcdlease

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/leasehold/leasehold/lease"
)

// TryAcquire makes one attempt to take the lease: it grants an etcd lease
// of the Store's TTL, then creates the key bound to it in a transaction
// that succeeds only if the key does not exist (tried again while etcd is
// unavailable, within Options.RequestTimeout). On success the tenure's
// epoch is the key's create revision. Otherwise it revokes the etcd lease
// it granted and returns an error wrapping lease.ErrHeld with the
// holder's record (the zero Record if the key holds no readable one), or
// the fault of etcd (a timeout, no leader). The tenure is valid for a TTL
// from when the call began: etcd counts the lease from when it granted
// it, later.
//
// It returns lease.ErrClosed after Close.
func (s *Store) TryAcquire(ctx context.Context, c lease.Candidate) (lease.Lease, lease.Record, error) {
	if c.InstanceID == "" {
		return nil, lease.Record{}, errors.New("etcdlease: Candidate.InstanceID is empty")
	}
	if s.isClosed() {
		return nil, lease.Record{}, lease.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, lease.Record{}, err
	}
	now := time.Now()
	rec := lease.Record{
		Version:    lease.FormatVersion,
		InstanceID: c.InstanceID,
		PID:        os.Getpid(),
		Host:       s.host,
		AcquiredAt: now,
		RenewedAt:  now,
		TTL:        s.opts.TTL,
		Seq:        1,
		Meta:       maps.Clone(c.Meta),
	}
	val, err := encode(rec)
	if err != nil {
		return nil, lease.Record{}, err
	}

	id, err := s.grant(ctx)
	if err != nil {
		return nil, lease.Record{}, err
	}
	resp, err := s.create(ctx, id, val)
	if err != nil {
		// The key may have been created all the same: revoking the lease
		// deletes it with it.
		s.revoke(id)
		return nil, lease.Record{}, fmt.Errorf("etcdlease: acquire %s: %w", s.key, err)
	}
	s.read(resp.Header.Revision)
	var kv *mvccpb.KeyValue
	if !resp.Succeeded {
		if r := resp.Responses; len(r) == 1 && r[0].GetResponseRange() != nil && len(r[0].GetResponseRange().Kvs) == 1 {
			kv = r[0].GetResponseRange().Kvs[0]
		}
		if kv == nil || kv.Lease != int64(id) {
			s.revoke(id)
			if kv == nil {
				return nil, lease.Record{}, fmt.Errorf("%w: %s", lease.ErrHeld, s.key)
			}
			return nil, decode(kv), fmt.Errorf("%w: %s (epoch %d)", lease.ErrHeld, s.key, kv.CreateRevision)
		}
		// Bound to this attempt's lease: an earlier try of the
		// transaction created it, and its answer was lost.
	}
	rec.Epoch = uint64(resp.Header.Revision)
	if kv != nil {
		rec.Epoch = uint64(kv.CreateRevision)
	}
	s.own.hold()
	t := &tenure{s: s, id: id, rec: rec}
	return t, rec.Clone(), nil
}

// create runs the transaction that creates the key bound to lease id if
// it does not exist, and reads it otherwise. A try whose answer was lost
// may have created the key: the next then reads it, bound to id.
func (s *Store) create(ctx context.Context, id clientv3.LeaseID, val []byte) (*clientv3.TxnResponse, error) {
	var resp *clientv3.TxnResponse
	err := s.call(ctx, func(ctx context.Context) (err error) {
		resp, err = s.client.Txn(ctx).
			If(clientv3.Compare(clientv3.CreateRevision(s.key), "=", 0)).
			Then(clientv3.OpPut(s.key, string(val), clientv3.WithLease(id))).
			Else(clientv3.OpGet(s.key)).
			Commit()
		return err
	})
	return resp, err
}

// grant grants an etcd lease of the Store's TTL. (A try whose answer was
// lost leaves a lease with no key, which expires by itself.)
func (s *Store) grant(ctx context.Context) (clientv3.LeaseID, error) {
	var g *clientv3.LeaseGrantResponse
	err := s.call(ctx, func(ctx context.Context) (err error) {
		g, err = s.client.Grant(ctx, int64(s.opts.TTL/time.Second))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("etcdlease: grant a lease for %s: %w", s.key, err)
	}
	if g.Error != "" {
		s.revoke(g.ID)
		return 0, fmt.Errorf("etcdlease: grant a lease for %s: %s", s.key, g.Error)
	}
	if got := time.Duration(g.TTL) * time.Second; got != s.opts.TTL {
		// etcd raises a TTL below ceil(1.5 x its election timeout): the
		// key would outlive the holder's deadline by the difference, and
		// every takeover after a crash would wait that much longer.
		s.revoke(g.ID)
		return 0, fmt.Errorf("etcdlease: etcd granted a lease of %v for Options.TTL %v: its election timeout calls for a longer TTL", got, s.opts.TTL)
	}
	return g.ID, nil
}

// revoke revokes an etcd lease, and so deletes the key if it is bound to
// it, even when the caller's context is done. A failure is left alone:
// the lease expires by itself within its TTL.
func (s *Store) revoke(id clientv3.LeaseID) {
	_ = s.revokeCtx(context.Background(), id)
}

// revokeCtx revokes an etcd lease; one that no longer exists is not an
// error.
func (s *Store) revokeCtx(ctx context.Context, id clientv3.LeaseID) error {
	err := s.call(ctx, func(ctx context.Context) error {
		_, err := s.client.Revoke(ctx, id)
		return err
	})
	if isLeaseNotFound(err) {
		return nil
	}
	return err
}

// encode returns the value the key holds for rec: its JSON form, with
// epoch 0, since the epoch is the key's create revision, which is known
// only once the key exists.
func encode(rec lease.Record) ([]byte, error) {
	rec.Epoch = 0
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("etcdlease: encode record: %w", err)
	}
	return append(b, '\n'), nil
}

// decode returns the record of a key, with its create revision as the
// epoch, or the zero Record if its value is not a valid record.
func decode(kv *mvccpb.KeyValue) lease.Record {
	var rec lease.Record
	if err := json.Unmarshal(kv.Value, &rec); err != nil {
		return lease.Record{}
	}
	if rec.Version < 1 || rec.InstanceID == "" || rec.TTL <= 0 {
		return lease.Record{}
	}
	rec.Epoch = uint64(kv.CreateRevision)
	return rec
}
