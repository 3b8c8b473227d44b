//go:build unix

package main

import (
	"context"
	"os"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"

	"github.com/leasehold/leasehold/etcdlease/internal/embedded"
	"github.com/leasehold/leasehold/etcdlease/internal/leakcheck"
	"github.com/leasehold/leasehold/internal/mono"
)

func TestMain(m *testing.M) { leakcheck.Main(m.Run) }

// A keep-alive that etcd answers is recorded with the time it was sent,
// one that renews nothing is not, and the requests etcd received are
// counted by method.
func TestRenewalsAndRequests(t *testing.T) {
	c, err := embedded.Start(t.TempDir(), 1, nil, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dir := t.TempDir()
	r, err := newRenewals(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.f.Close()
	cli, err := clientv3.New(clientv3.Config{
		Endpoints: c.Clients, DialTimeout: 5 * time.Second, Logger: zap.NewNop(),
		DialOptions: []grpc.DialOption{grpc.WithChainStreamInterceptor(r.intercept)},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	g, err := cli.Grant(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	before, err := requests()
	if err != nil {
		t.Fatal(err)
	}
	last := func() (int64, error) { return readRenewal(dir, os.Getpid()) }
	if at, err := last(); err != nil || at != 0 {
		t.Fatalf("a renewal recorded before any keep-alive: %d, %v", at, err)
	}
	t0 := mono.Now()
	if _, err := cli.KeepAliveOnce(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	t1 := mono.Now()
	at, err := last()
	if err != nil || at < t0 || at > t1 {
		t.Fatalf("renewal recorded at %d, want within [%d, %d]: %v", at, t0, t1, err)
	}
	// A keep-alive of a revoked lease is answered with TTL 0: no renewal.
	if _, err := cli.Revoke(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.KeepAliveOnce(ctx, g.ID); err == nil {
		t.Fatal("keep-alive of a revoked lease succeeded")
	}
	if again, err := last(); err != nil || again != at {
		t.Fatalf("after a keep-alive that renewed nothing, the renewal is %d, want %d: %v", again, at, err)
	}
	after, err := requests()
	if err != nil {
		t.Fatal(err)
	}
	// Each KeepAliveOnce is a stream of one request; its end counts as a
	// message too.
	for m, want := range map[string]float64{"LeaseKeepAlive": 4, "LeaseRevoke": 1, "Range": 0} {
		if got := after[m] - before[m]; got != want {
			t.Errorf("%s: %v requests counted, want %v (%v)", m, got, want, after)
		}
	}
}
