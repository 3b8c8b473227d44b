//go:build unix

package supervise_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/leasehold/leasehold/internal/supervise"
	"github.com/leasehold/leasehold/lease"
	"github.com/leasehold/leasehold/owner"
)

// slowStore is a store whose renewals all succeed, each taking delay: a
// loaded machine or a slow disk, nothing failing.
type slowStore struct {
	lease.Store
	delay time.Duration
}

func (s *slowStore) TryAcquire(ctx context.Context, c lease.Candidate) (lease.Lease, lease.Record, error) {
	l, rec, err := s.Store.TryAcquire(ctx, c)
	if l != nil {
		l = slowLease{l, s.delay}
	}
	return l, rec, err
}

type slowLease struct {
	lease.Lease
	delay time.Duration
}

func (l slowLease) Renew(ctx context.Context) error {
	time.Sleep(l.delay)
	return l.Lease.Renew(ctx)
}

// Options.Grace is accepted up to just under the TTL less the renewal
// interval, which the documentation calls how close the deadline comes
// between two renewals that succeed. It comes closer: the owner waits
// RenewInterval from the END of a renewal, while the deadline runs from
// its START, so two renewals that take d each bring the deadline to
// TTL - RenewInterval - 2d (plus the timers' lateness) before the next
// one moves it on. A Grace that Run accepts must not stop a child whose
// supervisor renews successfully every time; here every renewal succeeds
// in 5 ms, and Run stops the child with ExitLost ("not renewed") within
// the first renewal interval.
func TestGraceRunAcceptsNeverStopsChildWhileRenewalsSucceed(t *testing.T) {
	cfg := testConfig(t)
	cfg.TTL, cfg.RenewInterval = 300*time.Millisecond, 100*time.Millisecond
	grace := (cfg.TTL - cfg.RenewInterval) / 2 // the longest accepted
	t.Setenv(envEvents, t.TempDir()+"/events")
	t.Setenv(envChild, "term:6")
	stop := errors.New("test over")
	ctx, cancel := context.WithCancelCause(context.Background())
	timer := time.AfterFunc(1500*time.Millisecond, func() { cancel(stop) })
	defer timer.Stop()
	opt := childOptions(cfg, grace, t.Logf)
	opt.Join = func(ctx context.Context) (*owner.Owner, error) {
		f, err := lease.Open(cfg.LeasePath, lease.Options{TTL: cfg.TTL})
		if err != nil {
			return nil, err
		}
		return owner.JoinStore(ctx, cfg, &slowStore{Store: f, delay: 5 * time.Millisecond})
	}
	code, err := supervise.Run(ctx, opt)
	switch {
	case code == supervise.ExitLost:
		t.Fatalf("Run = %d, %v: the child was stopped although every renewal succeeded (grace %v accepted for TTL %v, renew interval %v)",
			code, err, grace, cfg.TTL, cfg.RenewInterval)
	case code != 6 || !errors.Is(err, stop):
		t.Fatalf("Run = %d, %v; want 6 and the test's cause", code, err)
	}
}

// A grace longer than half of the TTL less the renewal interval is refused
// before anything runs: with it, the deadline would come within the grace
// between two renewals that succeed.
func TestGraceLongerThanHalfTheWindowRefused(t *testing.T) {
	cfg := testConfig(t)
	cfg.TTL, cfg.RenewInterval = 300*time.Millisecond, 100*time.Millisecond
	opt := childOptions(cfg, 101*time.Millisecond, t.Logf)
	code, err := supervise.Run(context.Background(), opt)
	if code != supervise.ExitFailed || err == nil || !strings.Contains(err.Error(), "grace 101ms must be at most half") {
		t.Fatalf("Run with grace 101ms, TTL 300ms, renewal 100ms = %d, %v; want ExitFailed naming the grace", code, err)
	}
}
