package etcdlease_test

import (
	"strings"
	"testing"
	"time"

	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/leasehold/leasehold/config"
	"github.com/leasehold/leasehold/etcdlease"
	"github.com/leasehold/leasehold/owner"
	"github.com/leasehold/leasehold/ownerfx"
)

// An fx application whose configuration selects etcd runs its election on
// the cluster, through Opener: the second instance follows the first, and
// takes over when the first stops.
func TestOpenerWithOwnerfx(t *testing.T) {
	c := startCluster(t, 3, nil)
	environ := []string{
		"OWNER_STORE=etcd",
		"OWNER_ETCD_ENDPOINTS=" + strings.Join(c.endpoints(), ","),
		"OWNER_ETCD_KEY=/leasehold/test/opener",
		"OWNER_TTL=2s",
	}
	start := func() (*fxtest.App, *owner.Owner) {
		var o *owner.Owner
		a := fxtest.New(t,
			fx.Supply(config.Options{Environ: environ, App: "etcdlease-test"}, ownerfx.StoreOpener(etcdlease.Opener)),
			ownerfx.Module, fx.Populate(&o))
		a.RequireStart()
		return a, o
	}
	a, first := start()
	b, second := start()
	if !first.IsOwner() || second.IsOwner() {
		t.Fatalf("roles %v and %v, want owner and follower", first.Role(), second.Role())
	}
	if second.InstanceID() != first.ID() {
		t.Fatalf("the follower sees %q as the holder, want %q", second.InstanceID(), first.ID())
	}
	// The lease is the key in etcd, created at the first owner's epoch.
	resp, err := c.client(t, c.endpoints(), nil).Get(ctxT(t), "/leasehold/test/opener")
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) != 1 || !strings.Contains(string(resp.Kvs[0].Value), first.ID()) || uint64(resp.Kvs[0].CreateRevision) != first.Epoch() {
		t.Fatalf("the key in etcd: %v; want the record of %s, created at revision %d", resp.Kvs, first.ID(), first.Epoch())
	}
	epoch := first.Epoch()
	a.RequireStop()
	within(t, second.Acquired(), "the takeover")
	if second.Epoch() <= epoch {
		t.Fatalf("epoch %d after %d", second.Epoch(), epoch)
	}
	b.RequireStop()
}

func TestOpenerErrors(t *testing.T) {
	cfg := owner.Config{TTL: 2 * time.Second}
	if _, err := etcdlease.Opener(cfg, config.Store{Kind: config.StoreFile}); err == nil || !strings.Contains(err.Error(), "not etcd") {
		t.Fatalf("Opener of the file store: %v", err)
	}
	bad := config.Store{Kind: config.StoreEtcd, Etcd: config.Etcd{Endpoints: []string{"127.0.0.1:1"}, Key: "/k", CAFile: "/nonexistent/ca.pem"}}
	if _, err := etcdlease.Opener(cfg, bad); err == nil || !strings.Contains(err.Error(), "/nonexistent/ca.pem") {
		t.Fatalf("Opener with a missing CA file: %v", err)
	}
	short := config.Store{Kind: config.StoreEtcd, Etcd: config.Etcd{Endpoints: []string{"127.0.0.1:1"}, Key: "/k"}}
	if _, err := etcdlease.Opener(owner.Config{TTL: 1500 * time.Millisecond}, short); err == nil || !strings.Contains(err.Error(), "TTL") {
		t.Fatalf("Opener with a TTL etcd cannot honour: %v", err)
	}
}
