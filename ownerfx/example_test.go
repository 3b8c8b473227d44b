package ownerfx_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/leasehold/leasehold/owner"
	"github.com/leasehold/leasehold/ownerfx"
)

// Cache is state that only the owner may hold.
type Cache struct{ o *owner.Owner }

// Owned makes the cache run only while this instance owns the lease.
func (c *Cache) Owned() ownerfx.Owned {
	return ownerfx.Owned{
		Name: "cache",
		OnAcquire: func(ctx context.Context) error {
			fmt.Println("loading the cache at epoch", c.o.Epoch())
			return nil
		},
		OnRelease: func(ctx context.Context) error {
			fmt.Println("dropping the cache")
			return nil
		},
	}
}

// Drop ownership into an fx application: join on start, release on stop,
// owner-only components, and a shutdown with ownerfx.ExitCodeLost if the
// lease is lost.
func Example() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)

	app := fx.New(
		fx.NopLogger,
		fx.Supply(zap.NewNop()), // the application's logger, if it has one
		// Without this, the settings come from config.Load: a file named
		// by a supplied config.Options, and OWNER_* variables.
		fx.Supply(owner.Config{LeasePath: filepath.Join(dir, "owner.lease"), TTL: 2 * time.Second}),
		ownerfx.Module,
		fx.Provide(
			func(o *owner.Owner) *Cache { return &Cache{o: o} },
			ownerfx.AsOwned((*Cache).Owned),
		),
	)
	ctx := context.Background()
	if err := app.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	if err := app.Stop(ctx); err != nil {
		fmt.Println(err)
	}
	// Output:
	// loading the cache at epoch 1
	// dropping the cache
}
