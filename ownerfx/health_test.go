package ownerfx_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/leasehold/leasehold/config"
	"github.com/leasehold/leasehold/lease"
	"github.com/leasehold/leasehold/owner"
	"github.com/leasehold/leasehold/ownerfx"
)

// stuckStore is the file store whose renewals can be made to hang, as on
// a disk that stopped answering, until the Owner gives up on them.
type stuckStore struct {
	lease.Store
	mu    sync.Mutex
	stuck bool
}

func (s *stuckStore) TryAcquire(ctx context.Context, c lease.Candidate) (lease.Lease, lease.Record, error) {
	l, rec, err := s.Store.TryAcquire(ctx, c)
	if l != nil {
		l = stuckLease{l, s}
	}
	return l, rec, err
}

func (s *stuckStore) hang() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stuck = true
}

type stuckLease struct {
	lease.Lease
	s *stuckStore
}

func (l stuckLease) Renew(ctx context.Context) error {
	l.s.mu.Lock()
	stuck := l.s.stuck
	l.s.mu.Unlock()
	if stuck {
		<-ctx.Done()
		return ctx.Err()
	}
	return l.Lease.Renew(ctx)
}

// The module's health check passes for an owner that renews and for a
// follower, and fails once the owner's renewals hang for two renewal
// intervals, long before its deadline. (The rule's bounds, on the
// Owner's clock, are in TestHealthCheckRule.)
func TestHealthCheckOfStuckOwner(t *testing.T) {
	path := filepath.Join(t.TempDir(), "owner.lease")
	store := &stuckStore{}
	opener := ownerfx.StoreOpener(func(cfg owner.Config, _ config.Store) (lease.Store, error) {
		s, err := lease.Open(path, lease.Options{TTL: cfg.TTL})
		store.Store = s
		return store, err
	})
	// The opener is reached through a configuration that selects another
	// store than the file; a TTL far beyond the test, so that the owner
	// stays the owner while its renewals hang.
	opts := config.Options{App: "app", Environ: []string{"OWNER_STORE=etcd", "OWNER_ETCD_ENDPOINTS=127.0.0.1:2379",
		"OWNER_ETCD_KEY=/app/owner", "OWNER_TTL=60s", "OWNER_RENEW_INTERVAL=500ms"}}
	var health *ownerfx.HealthCheck
	a, o := app(t, fx.Supply(opts, opener), fx.Populate(&health))
	a.RequireStart()
	defer a.RequireStop()
	if err := health.Check(nil); err != nil || !o.IsOwner() {
		t.Fatalf("owner that renews: %v (owner %v)", err, o.IsOwner())
	}
	follower, err := owner.Join(context.Background(), owner.Config{LeasePath: path, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer follower.Release()
	if err := ownerfx.NewHealthCheck(follower, 0).Check(nil); err != nil || follower.IsOwner() {
		t.Fatalf("follower: %v (owner %v)", err, follower.IsOwner())
	}

	store.hang()
	end := time.Now().Add(4 * patience)
	for err = health.Check(nil); err == nil; err = health.Check(nil) {
		if time.Now().After(end) {
			t.Fatalf("still healthy %v after the renewals hung", 4*patience)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(err.Error(), "last successful renewal began") || errors.Is(err, owner.ErrLost) || !o.IsOwner() {
		t.Fatalf("unhealthy with %v (owner %v), want the owner's stuck renewal", err, o.IsOwner())
	}
	if s := o.Stats(); s.SinceRenewal <= time.Second {
		t.Fatalf("unhealthy %v after the last renewal, within two intervals", s.SinceRenewal)
	}
}
