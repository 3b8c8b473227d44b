package etcdlease_test

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"

	"github.com/leasehold/leasehold/etcdlease/internal/embedded"
)

// patience bounds waits for something that must happen; generous for a
// loaded machine, never part of a time rule.
const patience = 30 * time.Second

// cluster is a real etcd cluster of members embedded in the test binary,
// on loopback, with its data in a temporary directory.
type cluster struct {
	members []*member
}

type member struct {
	name   string
	client string // the client address
	etcd   *embed.Etcd
	mu     sync.Mutex
	down   bool
}

// startCluster starts a cluster of n members with the default heartbeat
// and election timeout (100ms and 1s), after tweak has changed each
// member's configuration; it stops at cleanup.
func startCluster(t testing.TB, n int, tweak func(*embed.Config)) *cluster {
	t.Helper()
	e, err := embedded.Start(t.TempDir(), n, tweak, patience)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	c := &cluster{}
	for i, m := range e.Members {
		c.members = append(c.members, &member{name: m.Config().Name, client: e.Clients[i], etcd: m})
	}
	return c
}

// endpoints returns the client addresses of the members.
func (c *cluster) endpoints() []string {
	var eps []string
	for _, m := range c.members {
		eps = append(eps, m.client)
	}
	return eps
}

// leader returns the index of a running member that leads, or -1.
func (c *cluster) leader() int {
	for i, m := range c.members {
		if !m.isDown() && m.etcd.Server.Leader() == m.etcd.Server.MemberID() {
			return i
		}
	}
	return -1
}

// awaitLeader waits until a running member leads and returns its index.
func (c *cluster) awaitLeader(t testing.TB) int {
	t.Helper()
	deadline := time.Now().Add(patience)
	for time.Now().Before(deadline) {
		if l := c.leader(); l >= 0 {
			return l
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no etcd leader within %v", patience)
	return -1
}

// crash stops member i at once, as a crash would: no leadership transfer,
// and its clients' connections end (as the proxies in front of it are
// refused by the caller).
func (c *cluster) crash(i int) {
	m := c.members[i]
	m.mu.Lock()
	m.down = true
	m.mu.Unlock()
	m.etcd.Server.HardStop()
}

// cutOff drops the raft messages between member i and its peers, both
// ways, as etcd's own integration tests do: a follower cut off loses its
// leader after an election timeout, but still serves its clients.
func (c *cluster) cutOff(i int) {
	for j, o := range c.members {
		if j != i {
			c.members[i].etcd.Server.CutPeer(o.etcd.Server.MemberID())
			o.etcd.Server.CutPeer(c.members[i].etcd.Server.MemberID())
		}
	}
}

func (m *member) isDown() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.down
}

// client returns a client of the cluster through eps, closed at cleanup.
// It reconnects within a second of a member coming back, rather than at
// gRPC's default pace.
func (c *cluster) client(t testing.TB, eps []string, tweak func(*clientv3.Config)) *clientv3.Client {
	t.Helper()
	cfg := clientConfig(eps)
	if tweak != nil {
		tweak(&cfg)
	}
	cl, err := clientv3.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

// enableAuth adds the user root, password "secret", with the role root,
// and turns authentication on. It returns the change that makes a
// client's configuration log in as root.
func (c *cluster) enableAuth(t testing.TB) func(*clientv3.Config) {
	t.Helper()
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
	return func(cfg *clientv3.Config) { cfg.Username, cfg.Password = "root", "secret" }
}

func clientConfig(eps []string) clientv3.Config {
	return clientv3.Config{
		Endpoints:   eps,
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
		DialOptions: []grpc.DialOption{grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 50 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second},
			MinConnectTimeout: time.Second,
		})},
	}
}

// proxies puts a proxy in front of every member, closed at cleanup.
func (c *cluster) proxies(t testing.TB) proxySet {
	t.Helper()
	var ps proxySet
	for _, m := range c.members {
		ps = append(ps, startProxy(t, m.client))
	}
	return ps
}

type proxySet []*proxy

func (ps proxySet) endpoints() []string {
	var eps []string
	for _, p := range ps {
		eps = append(eps, p.addr())
	}
	return eps
}

func (ps proxySet) set(m proxyMode) {
	for _, p := range ps {
		p.set(m)
	}
}

type proxyMode int

const (
	pass      proxyMode = iota // forward
	refuse                     // close every connection at once, as a host that is down
	blackhole                  // accept connections and forward nothing, as a partition
)

// proxy forwards TCP connections to a member, or, as a fault, drops them.
type proxy struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu     sync.Mutex
	mode   proxyMode
	conns  map[net.Conn]struct{}
	closed bool
}

func startProxy(t testing.TB, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(p.close)
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) serve() {
	defer p.wg.Done()
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		mode := p.mode
		p.mu.Unlock()
		switch mode {
		case refuse:
			in.Close()
		case blackhole:
			p.track(in)
			p.go1(func() { io.Copy(io.Discard, in); p.drop(in) })
		case pass:
			out, err := net.Dial("tcp", p.target)
			if err != nil {
				in.Close()
				continue
			}
			p.track(in)
			p.track(out)
			pipe := func(dst, src net.Conn) {
				io.Copy(dst, src)
				p.drop(dst)
				p.drop(src)
			}
			p.go1(func() { pipe(out, in) })
			p.go1(func() { pipe(in, out) })
		}
	}
}

func (p *proxy) go1(f func()) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		f()
	}()
}

func (p *proxy) track(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return
	}
	p.conns[c] = struct{}{}
}

func (p *proxy) drop(c net.Conn) {
	c.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, c)
}

// set changes the mode; any change ends the connections open so far.
func (p *proxy) set(m proxyMode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = m
	for c := range p.conns {
		c.Close()
	}
}

func (p *proxy) close() {
	p.ln.Close()
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.set(refuse)
	p.wg.Wait()
}

// within fails t unless ch is closed within patience.
func within(t testing.TB, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(patience):
		t.Fatalf("%s did not happen within %v", what, patience)
	}
}

// eventually waits until cond holds, checking every 10ms, for up to
// patience.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen within %v", what, patience)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	t.Cleanup(cancel)
	return ctx
}
