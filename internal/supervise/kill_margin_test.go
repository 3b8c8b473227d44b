//go:build linux

package supervise_test

import (
	"context"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leasehold/leasehold/internal/supervise"
	"github.com/leasehold/leasehold/lease"
	"github.com/leasehold/leasehold/owner"
)

// When renewals fail, SIGKILL is due killMargin (10 ms) before the
// deadline, "so that a timer firing late still lands in time". On a
// machine whose cores are all busy (here: four processes spinning on two
// cores), the supervisor's timer fires later than that, and SIGKILL goes
// out after the deadline, when a successor may already own the lease.
func TestSigkillBeforeDeadlineOnBusyMachine(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the machine")
	}
	for range 4 {
		hog := exec.Command("sh", "-c", "while :; do :; done")
		if err := hog.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = hog.Process.Kill(); _ = hog.Wait() })
	}
	worst := time.Duration(-1 << 62)
	for i := range 10 {
		cfg := testConfig(t)
		cfg.TTL, cfg.RenewInterval = 400*time.Millisecond, 100*time.Millisecond
		t.Setenv(envEvents, t.TempDir()+"/events")
		t.Setenv(envChild, "ignore")
		var (
			mu     sync.Mutex
			o      *owner.Owner
			killed time.Time
		)
		opt := childOptions(cfg, 150*time.Millisecond, func(format string, args ...any) {
			if strings.Contains(format, "SIGKILL") && strings.Contains(format, "still running") {
				mu.Lock()
				killed = time.Now()
				mu.Unlock()
			}
		})
		opt.Join = func(ctx context.Context) (*owner.Owner, error) {
			f, err := lease.Open(cfg.LeasePath, lease.Options{TTL: cfg.TTL})
			if err != nil {
				return nil, err
			}
			s := &faultyStore{Store: f}
			s.broken.Store(true) // every renewal fails
			oo, err := owner.JoinStore(ctx, cfg, s)
			mu.Lock()
			o = oo
			mu.Unlock()
			return oo, err
		}
		code, err := supervise.Run(context.Background(), opt)
		if code != supervise.ExitLost {
			t.Fatalf("Run = %d, %v; want ExitLost", code, err)
		}
		mu.Lock()
		late := killed.Sub(o.Deadline())
		mu.Unlock()
		if killed.IsZero() {
			t.Fatalf("run %d: no SIGKILL logged", i)
		}
		worst = max(worst, late)
		t.Logf("run %d: SIGKILL %v after the deadline", i, late)
	}
	if worst > 0 {
		t.Fatalf("SIGKILL went out up to %v after the deadline", worst)
	}
}
