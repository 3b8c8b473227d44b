package etcdlease_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"github.com/leasehold/leasehold/etcdlease"
	"github.com/leasehold/leasehold/lease"
)

// ttl is the shortest TTL etcd grants with its default election timeout.
const ttl = 2 * time.Second

const key = "/leasehold/test"

func openT(t *testing.T, cl *clientv3.Client) *etcdlease.Store {
	t.Helper()
	s, err := etcdlease.Open(cl, key, etcdlease.Options{TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// twoStores starts a cluster of one member and opens two Stores of the key
// on one client of it.
func twoStores(t *testing.T) (cl *clientv3.Client, a, b *etcdlease.Store, ctx context.Context) {
	t.Helper()
	c := startCluster(t, 1, nil)
	cl = c.client(t, c.endpoints(), nil)
	return cl, openT(t, cl), openT(t, cl), ctxT(t)
}

func leases(t *testing.T, cl *clientv3.Client) int {
	t.Helper()
	resp, err := cl.Leases(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	return len(resp.Leases)
}

func TestOptions(t *testing.T) {
	cl, err := clientv3.New(clientv3.Config{Endpoints: []string{"127.0.0.1:1"}, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for _, tc := range []struct {
		name string
		key  string
		opts etcdlease.Options
		want string
	}{
		{"no TTL", key, etcdlease.Options{}, "Options.TTL must be positive, got 0s"},
		{"fraction of a second", key, etcdlease.Options{TTL: 2500 * time.Millisecond}, "Options.TTL (2.5s) must be a whole number of seconds"},
		{"one second", key, etcdlease.Options{TTL: time.Second}, "Options.TTL (1s) is shorter than 2s"},
		{"negative timeout", key, etcdlease.Options{TTL: ttl, RequestTimeout: -1}, "Options.RequestTimeout must not be negative"},
		{"timeout of a TTL", key, etcdlease.Options{TTL: ttl, RequestTimeout: ttl}, "Options.RequestTimeout (2s) must be shorter than Options.TTL (2s)"},
		{"no key", "", etcdlease.Options{TTL: ttl}, "the key is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := etcdlease.Open(cl, tc.key, tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open: %v, want an error saying %q", err, tc.want)
			}
			if _, err := etcdlease.Dial(clientv3.Config{Endpoints: []string{"127.0.0.1:1"}}, tc.key, tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Dial: %v, want an error saying %q", err, tc.want)
			}
		})
	}
	if _, err := etcdlease.Open(nil, key, etcdlease.Options{TTL: ttl}); err == nil {
		t.Error("Open with a nil client succeeded")
	}
	s, err := etcdlease.Open(cl, key, etcdlease.Options{TTL: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if s.TTL() != 3*time.Second || s.Key() != key {
		t.Fatalf("TTL %v, key %q", s.TTL(), s.Key())
	}
	s.Close()
	if _, _, err := s.TryAcquire(context.Background(), lease.Candidate{InstanceID: "a"}); !errors.Is(err, lease.ErrClosed) {
		t.Errorf("TryAcquire after Close: %v, want ErrClosed", err)
	}
	if err := s.Wait(context.Background()); !errors.Is(err, lease.ErrClosed) {
		t.Errorf("Wait after Close: %v, want ErrClosed", err)
	}
}

// One holder at a time, its epoch the key's create revision; a failed
// attempt leaves no etcd lease behind; Release hands over at once.
func TestAcquireRenewRelease(t *testing.T) {
	cl, a, b, ctx := twoStores(t)

	la, rec, err := a.TryAcquire(ctx, lease.Candidate{InstanceID: "a", Meta: map[string]string{"endpoint": "10.0.0.1:80"}})
	if err != nil {
		t.Fatal(err)
	}
	get, err := cl.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if len(get.Kvs) != 1 {
		t.Fatalf("%d keys %s", len(get.Kvs), key)
	}
	kv := get.Kvs[0]
	if rec.Epoch != uint64(kv.CreateRevision) || la.Record().Epoch != rec.Epoch || kv.Lease == 0 {
		t.Fatalf("epoch %d, create revision %d, lease %x", rec.Epoch, kv.CreateRevision, kv.Lease)
	}
	var stored lease.Record
	if err := json.Unmarshal(kv.Value, &stored); err != nil || stored.InstanceID != "a" || stored.Epoch != 0 || stored.TTL != ttl {
		t.Fatalf("stored record %+v (%v)", stored, err)
	}

	_, held, err := b.TryAcquire(ctx, lease.Candidate{InstanceID: "b"})
	if !errors.Is(err, lease.ErrHeld) {
		t.Fatalf("second TryAcquire: %v, want ErrHeld", err)
	}
	if held.InstanceID != "a" || held.Epoch != rec.Epoch || held.Meta["endpoint"] != "10.0.0.1:80" || held.PID == 0 || held.TTL != ttl {
		t.Fatalf("holder %+v", held)
	}
	if n := leases(t, cl); n != 1 {
		t.Fatalf("%d etcd leases after a failed attempt, want 1", n)
	}
	for range 3 {
		if err := la.Renew(ctx); err != nil {
			t.Fatalf("Renew: %v", err)
		}
	}
	if err := la.Release(ctx); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if err := la.Renew(ctx); !errors.Is(err, lease.ErrClosed) {
		t.Fatalf("Renew after Release: %v, want ErrClosed", err)
	}
	if err := la.Release(ctx); err != nil {
		t.Fatalf("second Release: %v", err)
	}
	lb, recB, err := b.TryAcquire(ctx, lease.Candidate{InstanceID: "b"})
	if err != nil {
		t.Fatalf("TryAcquire after Release: %v", err)
	}
	if recB.Epoch <= rec.Epoch {
		t.Fatalf("epoch %d after %d", recB.Epoch, rec.Epoch)
	}
	if err := lb.Close(); err != nil {
		t.Fatal(err)
	}
	if err := lb.Close(); err != nil {
		t.Fatal(err)
	}
	if get, err := cl.Get(ctx, key); err != nil {
		t.Fatal(err)
	} else if len(get.Kvs) != 0 || leases(t, cl) != 0 {
		t.Fatalf("after Close: %d keys, %d etcd leases", len(get.Kvs), leases(t, cl))
	}
}

// Renew fails for good once the etcd lease is gone or the key is another
// tenure's.
func TestRenewLost(t *testing.T) {
	cl, a, b, ctx := twoStores(t)

	// The etcd lease expired (revoked here, by hand).
	la, _, err := a.TryAcquire(ctx, lease.Candidate{InstanceID: "a"})
	if err != nil {
		t.Fatal(err)
	}
	get, err := cl.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Revoke(ctx, clientv3.LeaseID(get.Kvs[0].Lease)); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := la.Renew(ctx); !errors.Is(err, lease.ErrLost) {
			t.Fatalf("Renew after the etcd lease went: %v, want ErrLost", err)
		}
	}
	la.Close()

	// The key deleted and made again by another, the etcd lease alive.
	la, recA, err := a.TryAcquire(ctx, lease.Candidate{InstanceID: "a"})
	if err != nil {
		t.Fatal(err)
	}
	defer la.Close()
	if _, err := cl.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	lb, recB, err := b.TryAcquire(ctx, lease.Candidate{InstanceID: "b"})
	if err != nil {
		t.Fatal(err)
	}
	defer lb.Close()
	if recB.Epoch <= recA.Epoch {
		t.Fatalf("epoch %d after %d", recB.Epoch, recA.Epoch)
	}
	if err := la.Renew(ctx); !errors.Is(err, lease.ErrLost) || !strings.Contains(err.Error(), "created again") {
		t.Fatalf("Renew of a key made again: %v, want ErrLost", err)
	}
	if err := lb.Renew(ctx); err != nil {
		t.Fatalf("the new holder's Renew: %v", err)
	}
}

// Wait returns when the holder goes, not on its renewals, and when ctx
// ends or the Store closes.
func TestWait(t *testing.T) {
	_, a, b, ctx := twoStores(t)

	if err := b.Wait(ctx); err != nil {
		t.Fatalf("Wait before any read: %v", err)
	}
	la, _, err := a.TryAcquire(ctx, lease.Candidate{InstanceID: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.TryAcquire(ctx, lease.Candidate{InstanceID: "b"}); !errors.Is(err, lease.ErrHeld) {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- b.Wait(ctx) }()
	for range 3 {
		if err := la.Renew(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// A renewal writes nothing: the watch has no event to deliver.
	select {
	case err := <-done:
		t.Fatalf("Wait returned %v on renewals", err)
	case <-time.After(200 * time.Millisecond):
	}
	if err := la.Release(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Wait: %v", err)
		}
	case <-time.After(patience):
		t.Fatal("Wait did not return after Release")
	}
	lb, _, err := b.TryAcquire(ctx, lease.Candidate{InstanceID: "b"})
	if err != nil {
		t.Fatal(err)
	}
	defer lb.Close()

	// A cancelled context, then Close, end a Wait.
	if _, _, err := a.TryAcquire(ctx, lease.Candidate{InstanceID: "a"}); !errors.Is(err, lease.ErrHeld) {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	go func() { done <- a.Wait(wctx) }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait with its context cancelled: %v", err)
	}
	go func() { done <- a.Wait(ctx) }()
	a.Close()
	if err := <-done; !errors.Is(err, lease.ErrClosed) {
		t.Fatalf("Wait ended by Close: %v", err)
	}
}

// A watch from a compacted revision ends Wait early; the next attempt
// reads the key afresh and the follower still takes over on release.
func TestWaitCompacted(t *testing.T) {
	cl, a, b, ctx := twoStores(t)

	la, _, err := a.TryAcquire(ctx, lease.Candidate{InstanceID: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.TryAcquire(ctx, lease.Candidate{InstanceID: "b"}); !errors.Is(err, lease.ErrHeld) {
		t.Fatal(err)
	}
	compactPast(t, cl)
	if err := b.Wait(ctx); err != nil {
		t.Fatalf("Wait from a compacted revision: %v", err)
	}
	if _, held, err := b.TryAcquire(ctx, lease.Candidate{InstanceID: "b"}); !errors.Is(err, lease.ErrHeld) || held.InstanceID != "a" {
		t.Fatalf("TryAcquire after compaction: %v, holder %q", err, held.InstanceID)
	}
	done := make(chan error, 1)
	go func() { done <- b.Wait(ctx) }()
	if err := la.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	lb, _, err := b.TryAcquire(ctx, lease.Candidate{InstanceID: "b"})
	if err != nil {
		t.Fatal(err)
	}
	lb.Close()
}

// compactPast writes other keys and compacts the cluster's history up to
// the last of them.
func compactPast(t *testing.T, cl *clientv3.Client) {
	t.Helper()
	ctx := ctxT(t)
	var rev int64
	for range 10 {
		resp, err := cl.Put(ctx, "/other", "x")
		if err != nil {
			t.Fatal(err)
		}
		rev = resp.Header.Revision
	}
	if _, err := cl.Compact(ctx, rev, clientv3.WithCompactPhysical()); err != nil {
		t.Fatal(err)
	}
}

// A cluster whose election timeout calls for longer leases than the TTL
// refuses it, naming the option.
func TestTTLBelowClusterMinimum(t *testing.T) {
	c := startCluster(t, 1, func(cfg *embed.Config) { cfg.TickMs, cfg.ElectionMs = 300, 3000 })
	cl := c.client(t, c.endpoints(), nil)
	s := openT(t, cl)
	_, _, err := s.TryAcquire(ctxT(t), lease.Candidate{InstanceID: "a"})
	if err == nil || !strings.Contains(err.Error(), "granted a lease of 5s for Options.TTL 2s") {
		t.Fatalf("TryAcquire: %v, want a refusal of the TTL", err)
	}
	if n := leases(t, cl); n != 0 {
		t.Fatalf("%d etcd leases left", n)
	}
}

// A Store made by Dial keeps its client for the Leases it granted, after
// it is closed itself; goleak sees that the client closes with the last.
func TestDialOwnsClient(t *testing.T) {
	c := startCluster(t, 1, nil)
	s, err := etcdlease.Dial(clientConfig(c.endpoints()), key, etcdlease.Options{TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	l, _, err := s.TryAcquire(ctx, lease.Candidate{InstanceID: "a"})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := l.Renew(ctx); err != nil {
		t.Fatalf("Renew after the Store closed: %v", err)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	cl := c.client(t, c.endpoints(), nil)
	if get, err := cl.Get(ctx, key); err != nil {
		t.Fatal(err)
	} else if len(get.Kvs) != 0 {
		t.Fatalf("after Release: %d keys", len(get.Kvs))
	}
}

// A follower's watch on a member cut off from its peers ends, since it
// requires a leader, and Wait watches again from the same revision: once
// the client may use another member, the follower learns of the release
// that the cut-off member never saw. A watch that did not require a
// leader would wait on that member for ever (etcd issues 7593, 8980).
func TestWaitOnCutOffMember(t *testing.T) {
	c := startCluster(t, 3, nil)
	lead := c.awaitLeader(t)
	x, y := (lead+1)%3, (lead+2)%3
	clA := c.client(t, []string{c.members[lead].client}, nil)
	clB := c.client(t, []string{c.members[x].client}, nil)
	a, b := openT(t, clA), openT(t, clB)
	ctx := ctxT(t)
	la, _, err := a.TryAcquire(ctx, lease.Candidate{InstanceID: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.TryAcquire(ctx, lease.Candidate{InstanceID: "b"}); !errors.Is(err, lease.ErrHeld) {
		t.Fatal(err)
	}
	t0 := time.Now()
	c.cutOff(x)
	eventually(t, "the cut-off member losing its leader", func() bool { return c.members[x].etcd.Server.Leader() == 0 })
	t.Logf("cut-off member without a leader after %v", time.Since(t0))
	done := make(chan error, 1)
	go func() { done <- b.Wait(ctx) }()
	if err := la.Release(ctx); err != nil {
		t.Fatal(err)
	}
	clB.SetEndpoints(c.members[x].client, c.members[y].client)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Wait: %v", err)
		}
		t.Logf("Wait returned %v after the cut", time.Since(t0))
	case <-time.After(patience):
		t.Fatal("Wait did not return after the release")
	}
	// A transaction sent to the cut-off member is tried again on another.
	lb, _, err := b.TryAcquire(ctx, lease.Candidate{InstanceID: "b"})
	if err != nil {
		t.Fatalf("TryAcquire after the release: %v", err)
	}
	lb.Close()
}
