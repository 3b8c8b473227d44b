package etcdlease_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"

	"github.com/leasehold/leasehold/etcdlease"
	"github.com/leasehold/leasehold/internal/history"
	"github.com/leasehold/leasehold/internal/mono"
	"github.com/leasehold/leasehold/internal/worker"
	"github.com/leasehold/leasehold/owner"
)

// Elections of package owner on the etcd store, in this process. Every
// test watches its owners with a monitor, which fails it on any instant
// two of them passed Check, or on epochs out of order.

// join joins the election at key through cl; the Owner is released at
// cleanup.
func join(t *testing.T, cl *clientv3.Client, ttl, renew time.Duration) *owner.Owner {
	t.Helper()
	o, err := joinStore(cl, ttl, renew)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Release() })
	return o
}

func joinStore(cl *clientv3.Client, ttl, renew time.Duration) (*owner.Owner, error) {
	s, err := etcdlease.Open(cl, key, etcdlease.Options{TTL: ttl})
	if err != nil {
		return nil, err
	}
	return owner.JoinStore(context.Background(), owner.Config{TTL: ttl, RenewInterval: renew}, s)
}

// monitor calls Check on each owner every 2ms while it owns, as an
// application would before each write, and at cleanup fails the test on
// any breach of the rules of package history in what Check said.
type monitor struct {
	t      *testing.T
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	log    []worker.Event
	n      int
}

func newMonitor(t *testing.T) *monitor {
	ctx, cancel := context.WithCancel(context.Background())
	m := &monitor{t: t, ctx: ctx, cancel: cancel}
	t.Cleanup(func() {
		m.cancel()
		m.wg.Wait()
		for _, v := range history.Violations(m.log) {
			t.Errorf("safety: %s", v)
		}
	})
	return m
}

func (m *monitor) add(o *owner.Owner) {
	m.mu.Lock()
	id := m.n
	m.n++
	m.mu.Unlock()
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		select {
		case <-o.Acquired():
		case <-m.ctx.Done():
			return
		}
		epoch := o.Epoch()
		m.record(worker.Event{Worker: id, Kind: worker.Acquired, Epoch: epoch, T1: mono.Now()})
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			b := mono.Now()
			err := o.Check()
			a := mono.Now()
			if err != nil {
				return
			}
			m.record(worker.Event{Worker: id, Kind: worker.OK, Epoch: epoch, T1: b, T2: a})
			select {
			case <-tick.C:
			case <-m.ctx.Done():
				return
			}
		}
	}()
}

func (m *monitor) record(e worker.Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.log = append(m.log, e)
}

func owners(all []*owner.Owner) []*owner.Owner {
	var out []*owner.Owner
	for _, o := range all {
		if o.IsOwner() {
			out = append(out, o)
		}
	}
	return out
}

// Six instances join at once on two clients: one owner. Released one
// after another, each is succeeded by exactly one, at a higher epoch.
func TestOwnersExactlyOne(t *testing.T) {
	c := startCluster(t, 3, nil)
	cls := []*clientv3.Client{c.client(t, c.endpoints(), nil), c.client(t, c.endpoints(), nil)}
	mon := newMonitor(t)
	const n = 6
	all := make([]*owner.Owner, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			all[i], errs[i] = joinStore(cls[i%2], ttl, 0)
		}()
	}
	close(start)
	wg.Wait()
	for _, o := range all {
		if o != nil {
			t.Cleanup(func() { o.Release() })
			mon.add(o)
		}
	}
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	own := owners(all)
	if len(own) != 1 {
		t.Fatalf("%d owners after %d simultaneous joins", len(own), n)
	}
	epoch := own[0].Epoch()
	live := all
	for len(live) > 1 {
		cur := owners(live)[0]
		if err := cur.Release(); err != nil {
			t.Fatalf("Release: %v", err)
		}
		var rest []*owner.Owner
		for _, o := range live {
			if o != cur {
				rest = append(rest, o)
			}
		}
		live = rest
		eventually(t, "a takeover after Release", func() bool { return len(owners(live)) == 1 })
		next := owners(live)[0]
		if next.Epoch() <= epoch {
			t.Fatalf("epoch %d after %d", next.Epoch(), epoch)
		}
		epoch = next.Epoch()
		eventually(t, "every follower seeing the new owner", func() bool {
			for _, o := range live {
				if o.InstanceID() != next.ID() {
					return false
				}
			}
			return true
		})
	}
}

// The etcd leader crashes: a new one is elected well within the TTL,
// and the owner keeps its lease throughout.
func TestLeaderCrashOwnerKeepsLease(t *testing.T) {
	const ttl, renew = 5 * time.Second, time.Second
	c := startCluster(t, 3, nil)
	ps := c.proxies(t)
	mon := newMonitor(t)
	a := join(t, c.client(t, ps.endpoints(), nil), ttl, renew)
	b := join(t, c.client(t, ps.endpoints(), nil), ttl, renew)
	mon.add(a)
	mon.add(b)
	if !a.IsOwner() {
		t.Fatal("the first to join is not the owner")
	}
	epoch := a.Epoch()

	old := c.awaitLeader(t)
	t0 := time.Now()
	c.crash(old)
	ps[old].set(refuse)
	c.awaitLeader(t)
	elected := time.Since(t0)
	t.Logf("new etcd leader %v after the crash (TTL %v)", elected, ttl)
	if elected >= ttl-renew {
		t.Errorf("no etcd leader for %v after the crash", elected)
	}
	// A TTL after the crash every renewal begun before it has run out:
	// the owner still owns only if it renewed through the new leader.
	for time.Since(t0) < ttl+time.Second {
		if err := a.Check(); err != nil {
			t.Fatalf("the owner lost its lease %v after the leader crashed: %v", time.Since(t0), err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if a.Epoch() != epoch || b.IsOwner() || b.InstanceID() != a.ID() {
		t.Fatalf("epoch %d -> %d; follower owns: %v", epoch, a.Epoch(), b.IsOwner())
	}
}

// ownerAndFollower joins a, then b, each through its own endpoints, both
// watched by a monitor; a must be the owner.
func ownerAndFollower(t *testing.T, c *cluster, epsA, epsB []string) (a, b *owner.Owner) {
	t.Helper()
	mon := newMonitor(t)
	a = join(t, c.client(t, epsA, nil), ttl, 0)
	b = join(t, c.client(t, epsB, nil), ttl, 0)
	mon.add(a)
	mon.add(b)
	if !a.IsOwner() {
		t.Fatal("the first to join is not the owner")
	}
	return a, b
}

// The owner alone is cut off from etcd: it fails Check by its deadline,
// before the follower, still connected, takes over.
func TestOwnerPartitioned(t *testing.T) {
	c := startCluster(t, 3, nil)
	psA := c.proxies(t)
	a, b := ownerAndFollower(t, c, psA.endpoints(), c.endpoints())
	epoch := a.Epoch()
	t0 := time.Now()
	psA.set(blackhole)
	within(t, b.Acquired(), "the follower's takeover")
	t.Logf("takeover %v after the partition (TTL %v)", time.Since(t0), ttl)
	if err := a.Check(); !errors.Is(err, owner.ErrLost) {
		t.Fatalf("the cut-off owner's Check once the follower owns: %v, want ErrLost", err)
	}
	if b.Epoch() <= epoch {
		t.Fatalf("epoch %d after %d", b.Epoch(), epoch)
	}
	psA.set(pass)
	within(t, a.Lost(), "Lost")
	if err := a.Check(); !errors.Is(err, owner.ErrLost) || !b.IsOwner() {
		t.Fatalf("after the partition: old owner %v, new owner %v", err, b.Check())
	}
}

// The whole cluster is out of reach for longer than the TTL: the owner
// fails Check by its deadline, and the follower takes over once etcd is
// back.
func TestClusterUnreachable(t *testing.T) {
	c := startCluster(t, 3, nil)
	ps := c.proxies(t)
	a, b := ownerAndFollower(t, c, ps.endpoints(), ps.endpoints())
	epoch := a.Epoch()
	t0 := time.Now()
	ps.set(blackhole)
	// Every renewal that succeeded began before t0.
	time.Sleep(time.Until(t0.Add(ttl)))
	if err := a.Check(); !errors.Is(err, owner.ErrLost) {
		t.Fatalf("the owner's Check a TTL after etcd went out of reach: %v, want ErrLost", err)
	}
	within(t, a.Lost(), "Lost")
	if b.IsOwner() {
		t.Fatal("the follower owns while etcd is out of reach")
	}
	ps.set(pass)
	t1 := time.Now()
	within(t, b.Acquired(), "the follower's takeover")
	t.Logf("takeover %v after etcd came back", time.Since(t1))
	if b.Epoch() <= epoch {
		t.Fatalf("epoch %d after %d", b.Epoch(), epoch)
	}
}

// With authentication on and tokens that live a second, a follower that
// waited longer than that still takes over: the client fetches a new
// token, and the owner renews all along.
func TestAuthTokenExpiry(t *testing.T) {
	const tokenTTL = time.Second
	c := startCluster(t, 3, func(cfg *embed.Config) {
		cfg.AuthToken = "simple"
		cfg.AuthTokenTTL = uint(tokenTTL / time.Second)
		cfg.BcryptCost = 4 // the least: passwords are checked at every new token
	})
	root := c.enableAuth(t)
	mon := newMonitor(t)
	a := join(t, c.client(t, c.endpoints(), root), ttl, 0)
	b := join(t, c.client(t, c.endpoints(), root), ttl, 0)
	mon.add(a)
	mon.add(b)
	if !a.IsOwner() || b.IsOwner() {
		t.Fatal("want the first to join as owner, the second as follower")
	}
	// The follower's token expires while it waits.
	time.Sleep(3 * tokenTTL)
	if err := a.Check(); err != nil {
		t.Fatalf("the owner after %v: %v", 3*tokenTTL, err)
	}
	epoch := a.Epoch()
	if err := a.Release(); err != nil {
		t.Fatal(err)
	}
	within(t, b.Acquired(), "the follower's takeover")
	if b.Epoch() <= epoch {
		t.Fatalf("epoch %d after %d", b.Epoch(), epoch)
	}
}

// A compaction of etcd's history under a watching follower: it still
// takes over at once when the owner releases.
func TestCompactionUnderFollower(t *testing.T) {
	c := startCluster(t, 3, nil)
	cl := c.client(t, c.endpoints(), nil)
	mon := newMonitor(t)
	a := join(t, cl, ttl, 0)
	b := join(t, c.client(t, c.endpoints(), nil), ttl, 0)
	mon.add(a)
	mon.add(b)
	compactPast(t, cl)
	epoch := a.Epoch()
	t0 := time.Now()
	if err := a.Release(); err != nil {
		t.Fatal(err)
	}
	within(t, b.Acquired(), "the follower's takeover")
	if d := time.Since(t0); d >= ttl {
		t.Errorf("takeover %v after Release, not within the TTL %v", d, ttl)
	}
	if b.Epoch() <= epoch {
		t.Fatalf("epoch %d after %d", b.Epoch(), epoch)
	}
}

// An owner whose client also knows a member cut off from its peers keeps
// its lease: a renewal that reaches that member is tried on another.
func TestOwnerBesideCutOffMember(t *testing.T) {
	c := startCluster(t, 3, nil)
	lead := c.awaitLeader(t)
	x, y := (lead+1)%3, (lead+2)%3
	mon := newMonitor(t)
	a := join(t, c.client(t, []string{c.members[x].client, c.members[y].client}, nil), ttl, 0)
	mon.add(a)
	c.cutOff(x)
	t0 := time.Now()
	for time.Since(t0) < 3*ttl {
		if err := a.Check(); err != nil {
			t.Fatalf("the owner lost its lease %v after a member was cut off: %v", time.Since(t0), err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
