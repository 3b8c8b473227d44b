package owner

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/leasehold/leasehold/internal/clock"
)

func benchConfig(b *testing.B) Config {
	return Config{LeasePath: filepath.Join(b.TempDir(), "owner.lease"), TTL: 2 * time.Second}
}

// BenchmarkJoinRelease measures a Join that acquires a free lease, followed
// by the Release that frees it. The lease is the same throughout, so its
// block of epochs is reserved already: the Join does not wait for the disk,
// as every takeover in a boot but the first.
func BenchmarkJoinRelease(b *testing.B) {
	cfg := benchConfig(b)
	for b.Loop() {
		joinOwnerRelease(b, cfg)
	}
}

// joinOwnerRelease joins as the owner and releases.
func joinOwnerRelease(b *testing.B, cfg Config) {
	o, err := Join(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	if !o.IsOwner() {
		b.Fatal("not owner")
	}
	if err := o.Release(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkJoinFresh measures a Join that acquires a new lease, the first
// acquisition of a boot: it reserves the first block of epochs durably (an
// fsync of the reservation and of the sidecar directory). Opening the
// lease, which creates the sidecar directory, is part of it.
func BenchmarkJoinFresh(b *testing.B) {
	dir := b.TempDir()
	i := 0
	for b.Loop() {
		i++
		joinOwnerRelease(b, Config{LeasePath: filepath.Join(dir, fmt.Sprint("owner-", i, ".lease")), TTL: 2 * time.Second})
	}
}

// BenchmarkRenew measures one renewal of a held lease.
func BenchmarkRenew(b *testing.B) {
	o, err := join(context.Background(), benchConfig(b), clock.NewFake(time.Unix(0, 0)))
	if err != nil {
		b.Fatal(err)
	}
	defer o.Release()
	l := o.lease
	ctx := context.Background()
	for b.Loop() {
		if err := l.Renew(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRenewOwner measures one renewal as the Owner's goroutine makes
// it: the store's renewal and the Owner's bookkeeping after it.
func BenchmarkRenewOwner(b *testing.B) {
	o, err := join(context.Background(), benchConfig(b), clock.NewFake(time.Unix(0, 0)))
	if err != nil {
		b.Fatal(err)
	}
	defer o.Release()
	l := o.lease
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		o.renew(ctx, l)
	}
	if err := o.Check(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkRenewed measures the Owner's bookkeeping after a successful
// renewal alone, which the store's I/O hides in BenchmarkRenewOwner.
func BenchmarkRenewed(b *testing.B) {
	clk := clock.NewFake(time.Unix(0, 0))
	o, err := join(context.Background(), benchConfig(b), clk)
	if err != nil {
		b.Fatal(err)
	}
	defer o.Release()
	b.ReportAllocs()
	for b.Loop() {
		o.renewed(clk.Now())
	}
	if err := o.Check(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkCheck measures the check an owner makes before touching owned
// state.
func BenchmarkCheck(b *testing.B) {
	o, err := Join(context.Background(), benchConfig(b))
	if err != nil {
		b.Fatal(err)
	}
	defer o.Release()
	b.ReportAllocs()
	for b.Loop() {
		if err := o.Check(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJoinFollower measures a Join that finds the lease held, and the
// Release of that follower.
func BenchmarkJoinFollower(b *testing.B) {
	cfg := benchConfig(b)
	holder, err := Join(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer holder.Release()
	for b.Loop() {
		o, err := Join(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		if o.IsOwner() {
			b.Fatal("owner")
		}
		if err := o.Release(); err != nil {
			b.Fatal(err)
		}
	}
}
