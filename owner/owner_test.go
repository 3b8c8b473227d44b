package owner

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leasehold/leasehold/internal/clock"
	"github.com/leasehold/leasehold/lease"
)

const (
	ttl   = 2 * time.Second
	renew = 500 * time.Millisecond
	// patience bounds waits for background goroutines; generous for a
	// loaded machine, never part of a time rule.
	patience = 10 * time.Second
)

func testConfig(t *testing.T) Config {
	return Config{LeasePath: filepath.Join(t.TempDir(), "owner.lease"), TTL: ttl, RenewInterval: renew}
}

// joinT joins with clk and releases at cleanup.
func joinT(t *testing.T, ctx context.Context, cfg Config, clk clock.Clock) *Owner {
	t.Helper()
	o, err := join(ctx, cfg, clk)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Release() })
	return o
}

// startT joins through a faulty store wrapped around the real one.
func startT(t *testing.T, cfg Config, clk clock.Clock, fs *faultyStore) *Owner {
	return startCtxT(t, context.Background(), cfg, clk, fs)
}

func startCtxT(t *testing.T, ctx context.Context, cfg Config, clk clock.Clock, fs *faultyStore) *Owner {
	t.Helper()
	cfg, err := cfg.Validate()
	if err != nil {
		t.Fatal(err)
	}
	s, err := lease.Open(cfg.LeasePath, lease.Options{TTL: cfg.TTL, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	fs.Store = s
	o, err := start(ctx, cfg, fs, clk)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Release() })
	return o
}

// settle waits until n timers are set on clk: the expiry timer and the
// renewal timer of each owner, the Wait timer of each follower.
func settle(t *testing.T, clk *clock.Fake, n int) {
	t.Helper()
	if !clk.BlockUntil(n, patience) {
		t.Fatalf("%d timers set, want %d", clk.Pending(), n)
	}
}

func within(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(patience):
		t.Fatalf("%s did not happen within %v", what, patience)
	}
}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// faultyStore is the real store with renewals that can be held up or made
// to fail, as by a slow or broken disk.
type faultyStore struct {
	lease.Store
	mu       sync.Mutex
	gate     chan struct{} // when set, Renew waits for it to close
	fail     error         // when set, Renew returns it
	renewed  chan struct{} // receives after every Renew returns
	entered  chan struct{} // when set, receives as every Renew begins
	acquired func()        // when set, runs after a TryAcquire that succeeded
}

func newFaulty() *faultyStore { return &faultyStore{renewed: make(chan struct{}, 100)} }

func (s *faultyStore) TryAcquire(ctx context.Context, c lease.Candidate) (lease.Lease, lease.Record, error) {
	l, rec, err := s.Store.TryAcquire(ctx, c)
	if l != nil {
		l = faultyLease{l, s}
		if s.acquired != nil {
			s.acquired()
		}
	}
	return l, rec, err
}

func (s *faultyStore) set(gate chan struct{}, fail error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gate, s.fail = gate, fail
}

type faultyLease struct {
	lease.Lease
	s *faultyStore
}

func (l faultyLease) Renew(ctx context.Context) error {
	defer func() { l.s.renewed <- struct{}{} }()
	l.s.mu.Lock()
	gate, fail, entered := l.s.gate, l.s.fail, l.s.entered
	l.s.mu.Unlock()
	if entered != nil {
		entered <- struct{}{}
	}
	if gate != nil {
		<-gate
	}
	if fail != nil {
		return fail
	}
	return l.Lease.Renew(ctx)
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no path", Config{TTL: ttl}, "Config.LeasePath is empty"},
		{"no TTL", Config{LeasePath: "x"}, "Config.TTL must be positive, got 0s"},
		{"negative TTL", Config{LeasePath: "x", TTL: -time.Second}, "Config.TTL must be positive"},
		{"negative renew", Config{LeasePath: "x", TTL: ttl, RenewInterval: -1}, "Config.RenewInterval must not be negative"},
		{"renew = TTL", Config{LeasePath: "x", TTL: ttl, RenewInterval: ttl}, "Config.RenewInterval (2s) must be shorter than Config.TTL (2s)"},
		{"tiny TTL", Config{LeasePath: "x", TTL: 2}, "too short"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Join(context.Background(), tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Join error = %v, want it to say %q", err, tc.want)
			}
		})
	}
	cfg, err := Config{LeasePath: "x", TTL: 3 * time.Second}.Validate()
	if err != nil || cfg.RenewInterval != time.Second {
		t.Fatalf("default RenewInterval = %v (%v), want TTL/3", cfg.RenewInterval, err)
	}
}

func TestJoinRejectsBadPath(t *testing.T) {
	cfg := testConfig(t)
	cfg.LeasePath = t.TempDir()
	if _, err := Join(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), cfg.LeasePath) {
		t.Fatalf("Join on a directory = %v, want an error naming it", err)
	}
}

func TestOwnerAndFollower(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	cfg := testConfig(t)
	cfg.Endpoint, cfg.Backend = "unix:///run/a.sock", "llama"
	a := joinT(t, context.Background(), cfg, clk)
	cfg.Endpoint, cfg.Backend = "unix:///run/b.sock", "none"
	b := joinT(t, context.Background(), cfg, clk)

	if a.Role() != RoleOwner || !a.IsOwner() || a.Check() != nil || !closed(a.Acquired()) {
		t.Fatalf("a: role %v, check %v", a.Role(), a.Check())
	}
	if b.Role() != RoleFollower || b.IsOwner() || !errors.Is(b.Check(), ErrNotOwner) || closed(b.Acquired()) {
		t.Fatalf("b: role %v, check %v", b.Role(), b.Check())
	}
	for name, o := range map[string]*Owner{"a": a, "b": b} {
		if o.InstanceID() != a.ID() || o.Epoch() != 1 || o.Endpoint() != "unix:///run/a.sock" || o.Backend() != "llama" {
			t.Errorf("%s sees holder %s epoch %d endpoint %q backend %q", name, o.InstanceID(), o.Epoch(), o.Endpoint(), o.Backend())
		}
	}
	if a.ID() == b.ID() || b.ID() == "" {
		t.Fatal("instance ids are not unique")
	}
	if RoleOwner.String() != "owner" || RoleFollower.String() != "follower" {
		t.Fatal("Role.String")
	}
	if closed(a.Lost()) || closed(b.Lost()) || a.LostErr() != nil {
		t.Fatal("Lost fired")
	}
}

// renewThenHang starts an owner whose first renewal, at renew, succeeds
// and whose later ones hang until the test ends; it returns once the
// owner waits for its second renewal.
func renewThenHang(t *testing.T, clk *clock.Fake) *Owner {
	t.Helper()
	fs := newFaulty()
	a := startT(t, testConfig(t), clk, fs)
	settle(t, clk, 2)
	clk.Advance(renew) // first renewal, allowed
	<-fs.renewed
	gate := make(chan struct{})
	t.Cleanup(func() { close(gate) })
	fs.set(gate, nil)
	settle(t, clk, 2)
	return a
}

// The deadline is the start of the last successful renewal plus the TTL,
// and it holds while the renewal goroutine is stuck.
func TestCheckFailsAtDeadlineWhileRenewalStuck(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	a := renewThenHang(t, clk)
	clk.Advance(ttl - time.Nanosecond) // the second renewal starts and hangs
	if err := a.Check(); err != nil {
		t.Fatalf("Check a nanosecond before the deadline = %v", err)
	}
	clk.Advance(time.Nanosecond)
	err := a.Check()
	if !errors.Is(err, ErrLost) || !strings.Contains(err.Error(), "not renewed within 2s") {
		t.Fatalf("Check at the deadline = %v, want ErrLost", err)
	}
	if !closed(a.Lost()) || a.IsOwner() || a.Role() != RoleFollower {
		t.Fatal("Lost did not fire, or the owner still says it owns")
	}
	if !errors.Is(a.LostErr(), ErrLost) {
		t.Fatalf("LostErr = %v", a.LostErr())
	}
}

// Lost fires by the deadline timer alone, with no Check and no renewal.
func TestLostFiresByTimer(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	fs := newFaulty()
	gate := make(chan struct{})
	defer close(gate)
	fs.set(gate, nil)
	a := startT(t, testConfig(t), clk, fs)
	settle(t, clk, 2)
	clk.Advance(ttl)
	within(t, a.Lost(), "Lost")
}

// After a renewal the deadline timer, set for the old deadline, fires
// there without ending ownership and fires again at the new one: Lost then
// fires with no Check, a TTL after the start of the last renewal.
func TestLostFiresByTimerAfterRenewal(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	a := renewThenHang(t, clk)
	clk.Advance(ttl - renew) // the old deadline; the second renewal hangs
	settle(t, clk, 1)        // the deadline timer, set again
	if closed(a.Lost()) {
		t.Fatalf("Lost fired at the old deadline: %v", a.LostErr())
	}
	clk.Advance(renew - time.Nanosecond)
	settle(t, clk, 1)
	if closed(a.Lost()) {
		t.Fatalf("Lost fired before the new deadline: %v", a.LostErr())
	}
	clk.Advance(time.Nanosecond)
	within(t, a.Lost(), "Lost")
}

func TestRenewalFaultsEndInLoss(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	fs := newFaulty()
	disk := errors.New("disk on fire")
	fs.set(nil, disk)
	a := startT(t, testConfig(t), clk, fs)
	settle(t, clk, 2)
	clk.Advance(renew)
	<-fs.renewed
	if err := a.Check(); err != nil {
		t.Fatalf("one failed renewal ended ownership early: %v", err)
	}
	settle(t, clk, 2)
	clk.Advance(ttl - renew)
	within(t, a.Lost(), "Lost")
	if err := a.LostErr(); !errors.Is(err, ErrLost) || !errors.Is(err, disk) {
		t.Fatalf("LostErr = %v, want ErrLost wrapping the renewal error", err)
	}
}

// A follower takes over a hung owner after a TTL of no renewals, and by
// then the hung owner no longer passes Check.
func TestFollowerTakesOverHungOwner(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	fs := newFaulty()
	gate := make(chan struct{})
	defer close(gate)
	fs.set(gate, nil)
	cfg := testConfig(t)
	a := startT(t, cfg, clk, fs)
	b := joinT(t, context.Background(), cfg, clk)
	changed := b.Changed()

	settle(t, clk, 3)
	clk.Advance(ttl - time.Nanosecond)
	if closed(b.Acquired()) {
		t.Fatal("b took over before the TTL")
	}
	clk.Advance(time.Nanosecond)
	within(t, b.Acquired(), "b's takeover")
	if a.Check() == nil {
		t.Fatal("a and b both pass Check")
	}
	if err := b.Check(); err != nil || b.Epoch() != 2 || b.InstanceID() != b.ID() {
		t.Fatalf("b: check %v epoch %d holder %s", err, b.Epoch(), b.InstanceID())
	}
	if !closed(changed) {
		t.Fatal("Changed did not fire on takeover")
	}
}

func TestReleaseHandsOverAtOnce(t *testing.T) {
	cfg := testConfig(t)
	a := joinT(t, context.Background(), cfg, clock.System)
	b := joinT(t, context.Background(), cfg, clock.System)
	changed := b.Changed()
	start := time.Now()
	if err := a.Release(); err != nil {
		t.Fatal(err)
	}
	within(t, b.Acquired(), "b's takeover")
	if d := time.Since(start); d >= ttl {
		t.Fatalf("handover took %v: a full TTL", d)
	}
	within(t, changed, "Changed")
	if b.Epoch() != 2 || b.Check() != nil {
		t.Fatalf("b: epoch %d check %v", b.Epoch(), b.Check())
	}
	if !errors.Is(a.Check(), ErrReleased) || a.IsOwner() || closed(a.Lost()) || a.LostErr() != nil {
		t.Fatalf("a after Release: check %v lost %v", a.Check(), a.LostErr())
	}
	if err := a.Release(); err != nil {
		t.Fatalf("second Release = %v", err)
	}
	if err := b.Release(); err != nil {
		t.Fatal(err)
	}
}

func TestFollowerRelease(t *testing.T) {
	cfg := testConfig(t)
	a := joinT(t, context.Background(), cfg, clock.System)
	b := joinT(t, context.Background(), cfg, clock.System)
	if err := b.Release(); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(b.Check(), ErrReleased) || a.Check() != nil {
		t.Fatalf("a: %v, b: %v", a.Check(), b.Check())
	}
}

func TestCancelEndsOwnership(t *testing.T) {
	cfg := testConfig(t)
	ctx, cancel := context.WithCancel(context.Background())
	a := joinT(t, ctx, cfg, clock.System)
	b := joinT(t, context.Background(), cfg, clock.System)
	start := time.Now()
	cancel()
	if err := a.Check(); !errors.Is(err, ErrLost) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Check after cancel = %v", err)
	}
	if a.IsOwner() || !closed(a.Lost()) || !errors.Is(a.LostErr(), context.Canceled) {
		t.Fatal("cancel did not end ownership")
	}
	within(t, b.Acquired(), "b's takeover")
	if d := time.Since(start); d >= ttl {
		t.Fatalf("takeover after cancel took %v: a full TTL", d)
	}
}

func TestJoinWithCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Join(ctx, testConfig(t)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Join = %v, want context.Canceled", err)
	}
}

func TestNewThenStart(t *testing.T) {
	cfg := testConfig(t)
	o, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(o.Check(), ErrNotOwner) || o.Epoch() != 0 {
		t.Fatalf("before Start: check %v epoch %d", o.Check(), o.Epoch())
	}
	if err := o.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := o.Check(); err != nil || o.Epoch() != 1 {
		t.Fatalf("after Start: check %v epoch %d", err, o.Epoch())
	}
	if err := o.Start(context.Background()); err == nil {
		t.Fatal("second Start succeeded")
	}
	if err := o.Release(); err != nil {
		t.Fatal(err)
	}

	unstarted, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := unstarted.Release(); err != nil {
		t.Fatal(err)
	}
	if err := unstarted.Start(context.Background()); !errors.Is(err, ErrReleased) {
		t.Fatalf("Start after Release = %v, want ErrReleased", err)
	}
}

// Join's context ending while a follower takes the lease over: it never
// becomes the owner, and the lease is free again at once.
func TestCancelDuringTakeover(t *testing.T) {
	cfg := testConfig(t)
	a := joinT(t, context.Background(), cfg, clock.System)
	ctx, cancel := context.WithCancel(context.Background())
	fs := newFaulty()
	won := make(chan struct{})
	fs.acquired = func() { cancel(); close(won) } // the context ends right after b wins the lease
	b := startCtxT(t, ctx, cfg, clock.System, fs)
	if err := a.Release(); err != nil {
		t.Fatal(err)
	}
	within(t, won, "b winning the lease")
	c := joinT(t, context.Background(), cfg, clock.System)
	within(t, c.Acquired(), "c's takeover")
	if closed(b.Acquired()) || closed(b.Lost()) || b.Check() == nil {
		t.Fatalf("b owned after its context ended: check %v", b.Check())
	}
}

func TestNewStoreChecksTTL(t *testing.T) {
	s, err := lease.Open(filepath.Join(t.TempDir(), "owner.lease"), lease.Options{TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := NewStore(Config{TTL: 2 * ttl}, s); err == nil || !strings.Contains(err.Error(), "Config.TTL") {
		t.Fatalf("NewStore with another TTL than the store's = %v, want an error naming Config.TTL", err)
	}
	if _, err := NewStore(Config{TTL: ttl}, nil); err == nil {
		t.Fatal("NewStore accepted a nil store")
	}
	if _, err := NewStore(Config{}, s); err == nil || !strings.Contains(err.Error(), "Config.TTL") {
		t.Fatalf("NewStore without a TTL = %v", err)
	}
	o, err := NewStore(Config{TTL: ttl}, s)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !o.IsOwner() || o.Epoch() != 1 {
		t.Fatalf("role %v epoch %d, want the owner at epoch 1", o.Role(), o.Epoch())
	}
	if err := o.Release(); err != nil {
		t.Fatal(err)
	}
}

// Deadline is a TTL after the start of the last successful renewal, zero
// before owning, and stays where it was after the tenure ends.
func TestDeadline(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	t0 := clk.Now()
	a := renewThenHang(t, clk)
	if got, want := a.Deadline(), t0.Add(renew+ttl); !got.Equal(want) {
		t.Fatalf("Deadline after the first renewal = %v, want %v", got, want)
	}
	clk.Advance(ttl) // the second renewal hangs; the deadline passes
	within(t, a.Lost(), "Lost")
	if got, want := a.Deadline(), t0.Add(renew+ttl); !got.Equal(want) {
		t.Fatalf("Deadline after loss = %v, want %v", got, want)
	}
}

func TestDeadlineBeforeAndAfterOwning(t *testing.T) {
	cfg := testConfig(t)
	a := joinT(t, context.Background(), cfg, clock.System)
	b := joinT(t, context.Background(), cfg, clock.System)
	if !b.Deadline().IsZero() {
		t.Fatalf("a follower's Deadline = %v, want zero", b.Deadline())
	}
	d := a.Deadline()
	if left := time.Until(d); left <= 0 || left > ttl {
		t.Fatalf("the owner's Deadline is %v from now, want within (0, %v]", left, ttl)
	}
	a.Release()
	if after := a.Deadline(); after.Before(d) {
		t.Fatalf("Deadline after Release = %v, earlier than %v before it", after, d)
	}
}
