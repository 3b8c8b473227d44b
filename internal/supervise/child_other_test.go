//go:build !unix

package supervise_test

import (
	"context"

	"github.com/leasehold/leasehold/owner"
)

// childMain: the process tests run on Unix only.
func childMain() int { return 99 }

func faultyJoin(cfg owner.Config) func(context.Context) (*owner.Owner, error) {
	return func(ctx context.Context) (*owner.Owner, error) { return owner.Join(ctx, cfg) }
}
