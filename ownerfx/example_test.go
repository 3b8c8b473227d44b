package ownerfx_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
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

// Serve the module's health check to a probe: 200 while this instance
// follows or renews as the owner, 503 once its renewals are stuck for two
// renewal intervals, or it has lost the lease.
func ExampleHealthCheck() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)

	var probe *httptest.Server
	app := fx.New(
		fx.NopLogger,
		fx.Supply(owner.Config{LeasePath: filepath.Join(dir, "owner.lease"), TTL: 2 * time.Second}),
		ownerfx.Module,
		fx.Invoke(func(h *ownerfx.HealthCheck) {
			mux := http.NewServeMux()
			mux.Handle("GET /healthz", h)
			probe = httptest.NewServer(mux)
		}),
	)
	ctx := context.Background()
	if err := app.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	defer app.Stop(ctx)
	defer probe.Close()

	resp, err := http.Get(probe.URL + "/healthz")
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.Status)
	// Output: 200 OK
}
