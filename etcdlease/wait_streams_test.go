package etcdlease_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
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
	return c, c.enableAuth(t)
}

// Two Stores of different leases on one client (as two elections in one
// process) would share clientv3's watch stream if both watched with the
// same metadata. The stream carries the auth token it was opened with.
// After any change to etcd's auth data (here a user added), that token is
// of an old auth revision, and every new watch created on that stream is
// cancelled at once ("auth revision is old"): a Wait that watched again on
// the same stream would never return, although the holder released and
// the key is gone. Each watch of Wait has a stream of its own.
func TestWaitSharedClientAuthRevision(t *testing.T) {
	c, root := authCluster(t)
	ctx := ctxT(t)
	holderCl := c.client(t, c.endpoints(), root)
	followCl := c.client(t, c.endpoints(), root)
	two := holdTwoLeases(t, holderCl, followCl, ttl)

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
	two.followBThenRelease(t, 5*ttl)
}

// The same through package owner: two elections on one client of a
// follower process. After an auth change, a follower that joins the
// second election takes over when its owner releases.
func TestOwnerFollowerSharedClientAuthRevision(t *testing.T) {
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
// must still see the holder go, on a stream of its own.
func TestWaitSharedClientSimpleTokenExpired(t *testing.T) {
	const tokenTTL = time.Second
	const storeTTL = 10 * time.Second // the holders need not renew meanwhile
	c := startCluster(t, 1, func(cfg *embed.Config) {
		cfg.AuthToken = "simple"
		cfg.AuthTokenTTL = uint(tokenTTL / time.Second)
		cfg.BcryptCost = 4
	})
	root := c.enableAuth(t)
	ctx := ctxT(t)
	holderCl := c.client(t, c.endpoints(), root)
	followCl := c.client(t, c.endpoints(), root)
	two := holdTwoLeases(t, holderCl, followCl, storeTTL)
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
	two.followBThenRelease(t, storeTTL)
}

// twoLeases is a holder's client holding leases a and b, and a follower's
// client whose Store of lease a waits, its watch stream up.
type twoLeases struct {
	ctx      context.Context
	holderCl *clientv3.Client
	lb       lease.Lease
	fb       *etcdlease.Store
}

func holdTwoLeases(t *testing.T, holderCl, followCl *clientv3.Client, storeTTL time.Duration) twoLeases {
	t.Helper()
	ctx := ctxT(t)
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
	t.Cleanup(func() { la.Close() })
	lb, _, err := hb.TryAcquire(ctx, lease.Candidate{InstanceID: "holder-b"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lb.Close() })
	// Follower of lease A, on the shared client: its Wait holds a watch
	// stream open. (The watch below, with the metadata of a shared stream,
	// stands for one and tells when the stream is up.)
	fa, fb := open(followCl, keyA), open(followCl, keyB)
	if _, _, err := fa.TryAcquire(ctx, lease.Candidate{InstanceID: "follower-a"}); !errors.Is(err, lease.ErrHeld) {
		t.Fatal(err)
	}
	go fa.Wait(ctx)
	wch := followCl.Watch(clientv3.WithRequireLeader(ctx), "/leasehold/other", clientv3.WithCreatedNotify())
	if r := <-wch; !r.Created {
		t.Fatalf("want the created notification, got %+v", r)
	}
	return twoLeases{ctx: ctx, holderCl: holderCl, lb: lb, fb: fb}
}

// followBThenRelease makes the Store of lease b on the follower's client
// follow and wait, releases b, and fails unless the Wait returns within
// bound.
func (two twoLeases) followBThenRelease(t *testing.T, bound time.Duration) {
	t.Helper()
	ctx := two.ctx
	if _, _, err := two.fb.TryAcquire(ctx, lease.Candidate{InstanceID: "follower-b"}); !errors.Is(err, lease.ErrHeld) {
		t.Fatalf("follower b: %v", err)
	}
	waitB := make(chan error, 1)
	go func() { waitB <- two.fb.Wait(ctx) }()
	if err := two.lb.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if g, err := two.holderCl.Get(ctx, "/leasehold/b"); err != nil || len(g.Kvs) != 0 {
		t.Fatalf("key b after release: %v %v", g, err)
	}
	select {
	case err := <-waitB:
		if err != nil {
			t.Fatalf("Wait: %v", err)
		}
	case <-time.After(bound):
		t.Fatalf("follower b's Wait did not return %v after the holder released the key (key gone)", bound)
	}
}

// stallProxy forwards TCP connections to a member until stall: from then
// on it forwards nothing, on the connections open so far or on new ones,
// and closes none, as a paused member (SIGSTOP, a frozen VM) or a path
// that silently drops packets: the client sees no error. It counts the
// bytes clients sent on open connections since the stall, which it held.
type stallProxy struct {
	ln      net.Listener
	target  string
	stalled chan struct{}
	once    sync.Once
	held    atomic.Int64
	mu      sync.Mutex
	conns   []net.Conn
	wg      sync.WaitGroup
}

func startStallProxy(t *testing.T, target string) *stallProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallProxy{ln: ln, target: target, stalled: make(chan struct{})}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *stallProxy) addr() string { return p.ln.Addr().String() }

func (p *stallProxy) stall() { p.once.Do(func() { close(p.stalled) }) }

func (p *stallProxy) isStalled() bool {
	select {
	case <-p.stalled:
		return true
	default:
		return false
	}
}

func (p *stallProxy) track(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.conns = append(p.conns, c)
}

func (p *stallProxy) serve() {
	defer p.wg.Done()
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.track(in)
		if p.isStalled() {
			continue // accepted by the kernel, never answered
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil {
			in.Close()
			continue
		}
		p.track(out)
		pipe := func(dst, src net.Conn, held *atomic.Int64) {
			defer p.wg.Done()
			buf := make([]byte, 32<<10)
			for {
				n, err := src.Read(buf)
				if p.isStalled() {
					// Hold what was read; forward nothing more.
					held.Add(int64(n))
					io.Copy(counter{held}, src)
					return
				}
				if n > 0 {
					if _, werr := dst.Write(buf[:n]); werr != nil {
						return
					}
				}
				if err != nil {
					dst.Close()
					return
				}
			}
		}
		p.wg.Add(2)
		go pipe(out, in, &p.held)
		go pipe(in, out, new(atomic.Int64))
	}
}

// counter is a writer that counts what it is given, and drops it.
type counter struct{ n *atomic.Int64 }

func (c counter) Write(b []byte) (int, error) {
	c.n.Add(int64(len(b)))
	return len(b), nil
}

// pausedCluster is a cluster of three members, each behind a stallProxy;
// a holder, on a client of all three members, holds the lease, and a
// follower, on a client given member 0 alone, has read the key.
type pausedCluster struct {
	c        *cluster
	ps       []*stallProxy
	holderCl *clientv3.Client
	followCl *clientv3.Client
	l        lease.Lease
	f        *etcdlease.Store
}

func startPausedCluster(t *testing.T) pausedCluster {
	t.Helper()
	c := startCluster(t, 3, nil)
	ctx := ctxT(t)
	var ps []*stallProxy
	for _, m := range c.members {
		ps = append(ps, startStallProxy(t, m.client))
	}
	holderCl := c.client(t, c.endpoints(), nil)
	followCl := c.client(t, []string{ps[0].addr()}, nil)
	h, err := etcdlease.Open(holderCl, key, etcdlease.Options{TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	f, err := etcdlease.Open(followCl, key, etcdlease.Options{TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	l, _, err := h.TryAcquire(ctx, lease.Candidate{InstanceID: "holder"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	if _, _, err := f.TryAcquire(ctx, lease.Candidate{InstanceID: "follower"}); !errors.Is(err, lease.ErrHeld) {
		t.Fatal(err)
	}
	return pausedCluster{c: c, ps: ps, holderCl: holderCl, followCl: followCl, l: l, f: f}
}

// releaseAndAwait gives the follower's client every member, releases the
// lease, and fails unless the follower's Wait, done, returns within 5 TTLs.
func (pc pausedCluster) releaseAndAwait(t *testing.T, done <-chan error) {
	t.Helper()
	ctx := ctxT(t)
	pc.followCl.SetEndpoints(pc.ps[0].addr(), pc.ps[1].addr(), pc.ps[2].addr())
	// Member 0 itself is fine: the cluster keeps its leader.
	if err := pc.l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if g, err := pc.holderCl.Get(ctx, key); err != nil || len(g.Kvs) != 0 {
		t.Fatalf("key after release: %v %v", g, err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Wait: %v", err)
		}
	case <-time.After(5 * ttl):
		t.Fatalf("the follower's Wait did not return %v after the holder released the key, with two of three members serving", 5*ttl)
	}
}

// A follower's Wait whose watch stream is on a member that stops answering
// (paused) without closing the connection: the member cannot send the
// no-leader cancellation, and the client has no keepalive by default.
// Wait leaves a stream that does not answer within the request timeout
// for a new one, and returns once the holder released, through the other
// two members.
func TestWaitOnPausedMember(t *testing.T) {
	// The watch is created on member 0, which then stops: Wait asks the
	// silent stream for a notice of progress, which does not come.
	t.Run("paused after the watch was created", func(t *testing.T) {
		pc := startPausedCluster(t)
		ctx := ctxT(t)
		created := make(chan uint64, 1)
		etcdlease.OnWatchCreated(t, func(member uint64) {
			select {
			case created <- member:
			default:
			}
		})
		done := make(chan error, 1)
		go func() { done <- pc.f.Wait(ctx) }()
		select {
		case m := <-created:
			if want := uint64(pc.c.members[0].etcd.Server.MemberID()); m != want {
				t.Fatalf("Wait's watch was created by member %x, want member 0 (%x)", m, want)
			}
		case <-time.After(patience):
			t.Fatalf("Wait's watch was not created within %v", patience)
		}
		pc.ps[0].stall()
		pc.releaseAndAwait(t, done)
	})
	// The watch is sent to member 0 once it has stopped: clientv3's Watch
	// returns only once the member created the watch, which it never does.
	t.Run("paused before the watch was sent", func(t *testing.T) {
		pc := startPausedCluster(t)
		ctx := ctxT(t)
		pc.ps[0].stall()
		done := make(chan error, 1)
		go func() { done <- pc.f.Wait(ctx) }()
		// The follower's client sends the watch to member 0, the only
		// member it knows of, which holds it.
		eventually(t, "the follower's watch reaches member 0", func() bool { return pc.ps[0].held.Load() > 0 })
		pc.releaseAndAwait(t, done)
	})
}
