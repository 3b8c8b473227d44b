package etcdlease

import (
	"context"
	"errors"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/leasehold/leasehold/config"
	"github.com/leasehold/leasehold/lease"
	"github.com/leasehold/leasehold/owner"
)

// Observer follows the lease at a key without campaigning for it: it
// implements lease.Observer. It never grants, writes or revokes anything;
// a Read is a Get of the key and, while it exists, a TimeToLive of its
// etcd lease, and Wait watches the key as a follower's Store.Wait does
// (with clientv3.WithRequireLeader, never polling), so an idle Observer
// costs etcd what an idle follower does.
//
// The states it reports:
//
//   - lease.StateLive: the key exists and its etcd lease has time left.
//     Observation.Remaining is that time (whole seconds, as etcd counts),
//     and Renewed is when the holder last renewed by it: the reading's
//     time less what the etcd lease has run since (TTL less Remaining).
//   - lease.StateUnrenewed: the key still exists but its etcd lease has
//     run out; etcd's leader is about to delete the key.
//   - lease.StateFree: the key does not exist. etcd deletes it alike when
//     the holder releases or closes its tenure (a revoke) and when its
//     lease expires, so an Observer cannot tell released or gone from
//     free; it never reports those.
//
// An Observer is used by one goroutine at a time; Close may be called
// from any.
type Observer struct {
	s *Store
}

var _ lease.Observer = (*Observer)(nil)

// Observe returns an Observer of the lease at key, using client, which
// stays the caller's, as with Open. opts.TTL paces the watch's requests
// for progress and its pauses (the holder's TTL is read from the key);
// opts.RequestTimeout bounds each request.
func Observe(client *clientv3.Client, key string, opts Options) (*Observer, error) {
	if client == nil {
		return nil, errors.New("etcdlease: Observe: nil client")
	}
	s, err := open(client, key, opts, nil)
	if err != nil {
		return nil, err
	}
	return &Observer{s: s}, nil
}

// DialObserver connects to etcd with cfg, as Dial does, and returns an
// Observer of the lease at key that owns the connection: Close closes it.
func DialObserver(cfg clientv3.Config, key string, opts Options) (*Observer, error) {
	s, err := Dial(cfg, key, opts)
	if err != nil {
		return nil, err
	}
	return &Observer{s: s}, nil
}

// ObserverOpener opens an Observer of the lease that a configuration of
// package config selects (owner.store: etcd), dialling as Opener does.
func ObserverOpener(cfg owner.Config, store config.Store) (lease.Observer, error) {
	ccfg, err := clientConfig(store)
	if err != nil {
		return nil, err
	}
	return DialObserver(ccfg, store.Etcd.Key, Options{TTL: cfg.TTL})
}

// Key returns the key observed.
func (o *Observer) Key() string { return o.s.key }

// Read implements lease.Observer: a Get of the key, and a TimeToLive of
// its etcd lease while it exists. A value that is not a record is an
// error wrapping lease.ErrCorrupt.
func (o *Observer) Read(ctx context.Context) (lease.Observation, error) {
	s := o.s
	if s.isClosed() {
		return lease.Observation{}, lease.ErrClosed
	}
	var resp *clientv3.GetResponse
	err := s.call(ctx, func(ctx context.Context) (err error) {
		resp, err = s.client.Get(ctx, s.key)
		return err
	})
	if err != nil {
		return lease.Observation{}, fmt.Errorf("etcdlease: read %s: %w", s.key, err)
	}
	if len(resp.Kvs) == 0 {
		s.read(resp.Header.Revision)
		return lease.Observation{State: lease.StateFree}, nil
	}
	kv := resp.Kvs[0]
	rec := decode(kv)
	if rec.InstanceID == "" {
		return lease.Observation{}, fmt.Errorf("etcdlease: key %s: %w", s.key, lease.ErrCorrupt)
	}
	if kv.Lease == 0 {
		return lease.Observation{}, fmt.Errorf("etcdlease: key %s is bound to no etcd lease: something else wrote it", s.key)
	}
	var ttl *clientv3.LeaseTimeToLiveResponse
	err = s.call(ctx, func(ctx context.Context) (err error) {
		ttl, err = s.client.TimeToLive(ctx, clientv3.LeaseID(kv.Lease))
		return err
	})
	if err != nil && !isLeaseNotFound(err) {
		return lease.Observation{}, fmt.Errorf("etcdlease: time to live of the lease of %s: %w", s.key, err)
	}
	now := time.Now()
	s.read(resp.Header.Revision)
	obs := lease.Observation{Record: rec, State: lease.StateUnrenewed}
	if err == nil && ttl.TTL > 0 {
		left := time.Duration(ttl.TTL) * time.Second
		obs.State, obs.Remaining = lease.StateLive, left
		obs.Renewed = now.Add(left - time.Duration(ttl.GrantedTTL)*time.Second)
	}
	return obs, nil
}

// Wait implements lease.Observer: it watches the key from the revision
// after the last Read, as Store.Wait does, and returns at its first
// change (a holder that went, or a new one) or when that revision was
// compacted.
func (o *Observer) Wait(ctx context.Context) error { return o.s.Wait(ctx) }

// Close implements lease.Observer; it closes the client if DialObserver
// made it. It is idempotent.
func (o *Observer) Close() error { return o.s.Close() }
