//go:build unix

package main

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/leasehold/leasehold/etcdlease/internal/leakcheck"
	"github.com/leasehold/leasehold/internal/chaos"
	"github.com/leasehold/leasehold/internal/worker"
)

func TestMain(m *testing.M) {
	if worker.Active() {
		os.Exit(worker.MainStore(openStore))
	}
	leakcheck.Main(m.Run)
}

// A short chaos run on a three-member cluster: owners are killed,
// frozen, released, followers killed, and the checker finds no two
// owners at once, no epoch twice and no errors.
func TestChaosShort(t *testing.T) {
	if testing.Short() {
		t.Skip("a 20s chaos run")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cfg := chaos.Config{
		Exe: exe, Args: []string{"-test.run=^$"}, Workers: 4, Duration: 20 * time.Second,
		TTL: 2 * time.Second, Renew: 500 * time.Millisecond, Seed: 1, Faults: kinds(),
	}
	res, err := runOnEtcd(context.Background(), cfg, 3)
	if err != nil {
		t.Fatal(err)
	}
	rep := chaos.Judge(res, cfg.TTL+expiryLag+time.Second)
	if rep.Failed() || len(rep.Errors) > 0 {
		t.Errorf("violations %v, errors %v", rep.Violations, rep.Errors)
	}
	if len(res.Faults) == 0 || rep.Epochs < 2 {
		t.Errorf("%d faults, %d epochs: the run did not exercise failover", len(res.Faults), rep.Epochs)
	}
}
