package etcdlease_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"

	"github.com/leasehold/leasehold/etcdlease"
	"github.com/leasehold/leasehold/lease"
	"github.com/leasehold/leasehold/owner"
)

// authCluster starts a one-member cluster with auth enabled and returns a
// configuration tweak that logs in as root.
func authCluster(t *testing.T) (*cluster, func(*clientv3.Config)) {
	t.Helper()
	// JWT tokens carry the auth revision they were issued at.
	dir := t.TempDir()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	priv := filepath.Join(dir, "priv.pem")
	pubf := filepath.Join(dir, "pub.pem")
	if err := os.WriteFile(priv, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pubf, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o600); err != nil {
		t.Fatal(err)
	}
	c := startCluster(t, 1, func(cfg *embed.Config) {
		cfg.AuthToken = "jwt,pub-key=" + pubf + ",priv-key=" + priv + ",sign-method=RS256"
		cfg.BcryptCost = 4
	})
	admin := c.client(t, c.endpoints(), nil)
	ctx := ctxT(t)
	if _, err := admin.UserAdd(ctx, "root", "secret"); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.UserGrantRole(ctx, "root", "root"); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.AuthEnable(ctx); err != nil {
		t.Fatal(err)
	}
	return c, func(cfg *clientv3.Config) { cfg.Username, cfg.Password = "root", "secret" }
}

// Two Stores of different leases on one client (as two elections in one
// process) share clientv3's watch stream, since both watch with the same
// metadata (WithRequireLeader). The stream carries the auth token it was
// opened with. After any change to etcd's auth data (here a user added),
// that token is of an old auth revision, and every new watch created on
// the shared stream is cancelled at once ("auth revision is old"). Wait
// takes the cancellation for a lost leader and watches again, on the same
// stream, forever: it never returns although the holder released and the
// key is gone.
func TestReviewWaitSharedClientAuthRevision(t *testing.T) {
	c, root := authCluster(t)
	ctx := ctxT(t)
	holderCl := c.client(t, c.endpoints(), root)
	followCl := c.client(t, c.endpoints(), root)
	open := func(cl *clientv3.Client, k string) *etcdlease.Store {
		s, err := etcdlease.Open(cl, k, etcdlease.Options{TTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	const keyA, keyB = "/leasehold/a", "/leasehold/b"
	ha, hb := open(holderCl, keyA), open(holderCl, keyB)
	la, _, err := ha.TryAcquire(ctx, lease.Candidate{InstanceID: "holder-a"})
	if err != nil {
		t.Fatal(err)
	}
	defer la.Close()
	lb, _, err := hb.TryAcquire(ctx, lease.Candidate{InstanceID: "holder-b"})
	if err != nil {
		t.Fatal(err)
	}
	defer lb.Close()

	// Follower of lease A, on the shared client: its Wait holds the
	// client's require-leader watch stream open. (The watch below, with
	// the same metadata, stands for it and tells when the stream is up.)
	fa, fb := open(followCl, keyA), open(followCl, keyB)
	if _, _, err := fa.TryAcquire(ctx, lease.Candidate{InstanceID: "follower-a"}); !errors.Is(err, lease.ErrHeld) {
		t.Fatal(err)
	}
	waitA := make(chan error, 1)
	go func() { waitA <- fa.Wait(ctx) }()
	wch := followCl.Watch(clientv3.WithRequireLeader(ctx), "/leasehold/other", clientv3.WithCreatedNotify())
	if r := <-wch; !r.Created {
		t.Fatalf("want the created notification, got %+v", r)
	}

	// An administrator changes the auth data: the auth revision moves on.
	m := c.members[0].etcd.Server
	before := m.AuthStore().Revision()
	if _, err := holderCl.UserAdd(ctx, "someone", "pw"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the auth revision moves", func() bool { return m.AuthStore().Revision() > before })

	w2 := followCl.Watch(clientv3.WithRequireLeader(ctx), "/leasehold/other2", clientv3.WithCreatedNotify())
	r2, ok := <-w2
	t.Logf("probe watch: ok=%v created=%v canceled=%v reason=%q err=%v", ok, r2.Created, r2.Canceled, r2.CancelReason, r2.Err())
	// Follower of lease B on the same client.
	if _, _, err := fb.TryAcquire(ctx, lease.Candidate{InstanceID: "follower-b"}); !errors.Is(err, lease.ErrHeld) {
		t.Fatalf("follower b: %v", err)
	}
	waitB := make(chan error, 1)
	go func() { waitB <- fb.Wait(ctx) }()
	if err := lb.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if g, err := holderCl.Get(ctx, keyB); err != nil || len(g.Kvs) != 0 {
		t.Fatalf("key b after release: %v %v", g, err)
	}
	select {
	case err := <-waitB:
		if err != nil {
			t.Fatalf("Wait: %v", err)
		}
	case <-time.After(5 * ttl):
		t.Fatalf("follower b's Wait did not return %v after the holder released the key (key gone)", 5*ttl)
	}
}

// The same through package owner: two elections on one client of a
// follower process. After an auth change, a follower that joins the
// second election never takes over when its owner releases.
func TestReviewOwnerFollowerSharedClientAuthRevision(t *testing.T) {
	c, root := authCluster(t)
	ctx := ctxT(t)
	holderCl := c.client(t, c.endpoints(), root)
	followCl := c.client(t, c.endpoints(), root)
	joinKey := func(cl *clientv3.Client, k string) *owner.Owner {
		s, err := etcdlease.Open(cl, k, etcdlease.Options{TTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		o, err := owner.JoinStore(context.Background(), owner.Config{TTL: ttl}, s)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { o.Release() })
		return o
	}
	const keyA, keyB = "/leasehold/a", "/leasehold/b"
	ownA, ownB := joinKey(holderCl, keyA), joinKey(holderCl, keyB)
	if !ownA.IsOwner() || !ownB.IsOwner() {
		t.Fatal("the first to join is not the owner")
	}
	folA := joinKey(followCl, keyA) // its Wait keeps followCl's watch stream open
	if folA.IsOwner() {
		t.Fatal("follower a owns")
	}
	// Let follower a's watch be created before the auth change.
	wch := followCl.Watch(clientv3.WithRequireLeader(ctx), "/leasehold/other", clientv3.WithCreatedNotify())
	if r := <-wch; !r.Created {
		t.Fatalf("want the created notification, got %+v", r)
	}
	m := c.members[0].etcd.Server
	before := m.AuthStore().Revision()
	if _, err := holderCl.UserAdd(ctx, "someone", "pw"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the auth revision moves", func() bool { return m.AuthStore().Revision() > before })

	folB := joinKey(followCl, keyB)
	if folB.IsOwner() {
		t.Fatal("follower b owns")
	}
	if err := ownB.Release(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-folB.Acquired():
	case <-time.After(5 * ttl):
		t.Fatalf("follower b did not take over within %v of the owner's release", 5*ttl)
	}
}

// The same with etcd's default simple tokens and no administrator at all:
// the token a shared watch stream was opened with is used by nothing once
// the stream is up, so it expires (--auth-token-ttl, 300s by default; 1s
// here); the client then gets a new one for its requests, but the stream
// keeps the old one, and every watch created on it afterwards is
// cancelled ("invalid auth token"). A follower that starts waiting then
// never sees the holder go.
func TestReviewWaitSharedClientSimpleTokenExpired(t *testing.T) {
	const tokenTTL = time.Second
	const storeTTL = 10 * time.Second // the holders need not renew meanwhile
	c := startCluster(t, 1, func(cfg *embed.Config) {
		cfg.AuthToken = "simple"
		cfg.AuthTokenTTL = uint(tokenTTL / time.Second)
		cfg.BcryptCost = 4
	})
	admin := c.client(t, c.endpoints(), nil)
	ctx := ctxT(t)
	if _, err := admin.UserAdd(ctx, "root", "secret"); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.UserGrantRole(ctx, "root", "root"); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.AuthEnable(ctx); err != nil {
		t.Fatal(err)
	}
	root := func(cfg *clientv3.Config) { cfg.Username, cfg.Password = "root", "secret" }
	holderCl := c.client(t, c.endpoints(), root)
	followCl := c.client(t, c.endpoints(), root)
	open := func(cl *clientv3.Client, k string) *etcdlease.Store {
		s, err := etcdlease.Open(cl, k, etcdlease.Options{TTL: storeTTL})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	const keyA, keyB = "/leasehold/a", "/leasehold/b"
	ha, hb := open(holderCl, keyA), open(holderCl, keyB)
	la, _, err := ha.TryAcquire(ctx, lease.Candidate{InstanceID: "holder-a"})
	if err != nil {
		t.Fatal(err)
	}
	defer la.Close()
	lb, _, err := hb.TryAcquire(ctx, lease.Candidate{InstanceID: "holder-b"})
	if err != nil {
		t.Fatal(err)
	}
	defer lb.Close()
	fa, fb := open(followCl, keyA), open(followCl, keyB)
	if _, _, err := fa.TryAcquire(ctx, lease.Candidate{InstanceID: "follower-a"}); !errors.Is(err, lease.ErrHeld) {
		t.Fatal(err)
	}
	go fa.Wait(ctx)
	wch := followCl.Watch(clientv3.WithRequireLeader(ctx), "/leasehold/other", clientv3.WithCreatedNotify())
	if r := <-wch; !r.Created {
		t.Fatalf("want the created notification, got %+v", r)
	}
	// followCl sends nothing now: the stream's token goes unused.
	time.Sleep(3 * tokenTTL)
	// Precondition: the stream's token has expired (a probe on it is
	// refused; an expired token is not revived by the attempt).
	probe := followCl.Watch(clientv3.WithRequireLeader(ctx), "/leasehold/probe", clientv3.WithCreatedNotify())
	if r := <-probe; !r.Canceled {
		t.Fatalf("the shared stream's token has not expired after %v: %+v", 3*tokenTTL, r)
	} else {
		t.Logf("probe on the shared stream: %v", r.Err())
	}
	if _, _, err := fb.TryAcquire(ctx, lease.Candidate{InstanceID: "follower-b"}); !errors.Is(err, lease.ErrHeld) {
		t.Fatalf("follower b: %v", err)
	}
	waitB := make(chan error, 1)
	go func() { waitB <- fb.Wait(ctx) }()
	if err := lb.Release(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-waitB:
		if err != nil {
			t.Fatalf("Wait: %v", err)
		}
	case <-time.After(storeTTL):
		t.Fatalf("follower b's Wait did not return %v after the holder released the key", storeTTL)
	}
}
