//go:build unix

package supervise_test

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"github.com/leasehold/leasehold/lease"
	"github.com/leasehold/leasehold/owner"
)

// faultyJoin joins on the file lease of cfg through a store whose
// renewals fail from the first SIGUSR1 on. The handler lives as long as
// the process, a supervisor of the process tests.
func faultyJoin(cfg owner.Config) func(context.Context) (*owner.Owner, error) {
	return func(ctx context.Context) (*owner.Owner, error) {
		f, err := lease.Open(cfg.LeasePath, lease.Options{TTL: cfg.TTL})
		if err != nil {
			return nil, err
		}
		s := &faultyStore{Store: f}
		usr1 := make(chan os.Signal, 1)
		signal.Notify(usr1, syscall.SIGUSR1)
		go func() {
			<-usr1
			s.broken.Store(true)
		}()
		return owner.JoinStore(ctx, cfg, s)
	}
}

type faultyStore struct {
	lease.Store
	broken atomic.Bool
}

func (s *faultyStore) TryAcquire(ctx context.Context, c lease.Candidate) (lease.Lease, lease.Record, error) {
	l, rec, err := s.Store.TryAcquire(ctx, c)
	if l != nil {
		l = faultyLease{l, s}
	}
	return l, rec, err
}

type faultyLease struct {
	lease.Lease
	s *faultyStore
}

func (l faultyLease) Renew(ctx context.Context) error {
	if l.s.broken.Load() {
		return errors.New("disk on fire")
	}
	return l.Lease.Renew(ctx)
}
