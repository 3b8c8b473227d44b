package supervise_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/leasehold/leasehold/internal/supervise"
	"github.com/leasehold/leasehold/owner"
)

// The test binary is also the supervisor and the child of the process
// tests, chosen by envRole.
const (
	envRole   = "SUPERVISE_TEST_ROLE"   // "supervisor" or "child"
	envLease  = "SUPERVISE_TEST_LEASE"  // the lease path
	envTTL    = "SUPERVISE_TEST_TTL"    // owner.Config.TTL
	envRenew  = "SUPERVISE_TEST_RENEW"  // owner.Config.RenewInterval
	envGrace  = "SUPERVISE_TEST_GRACE"  // Options.Grace
	envEvents = "SUPERVISE_TEST_EVENTS" // the file the children append their events to
	// envChild is what the child does: "term:N" (the default, N=5) waits
	// for SIGTERM and exits N; "ignore" records SIGTERM and goes on;
	// "exit:N" exits N at once.
	envChild = "SUPERVISE_TEST_CHILD"
	// envFaulty "1": the supervisor's renewals fail once it gets SIGUSR1,
	// as on a broken disk.
	envFaulty = "SUPERVISE_TEST_FAULTY"
)

func TestMain(m *testing.M) {
	switch os.Getenv(envRole) {
	case "supervisor":
		os.Exit(supervisorMain())
	case "child":
		os.Exit(childMain())
	}
	goleak.VerifyTestMain(m)
}

// supervisorMain is a supervisor: supervise.Run on a file lease, running
// this binary as the child, as leasehold run does.
func supervisorMain() int {
	dur := func(name string) time.Duration {
		d, _ := time.ParseDuration(os.Getenv(name))
		return d
	}
	cfg := owner.Config{LeasePath: os.Getenv(envLease), TTL: dur(envTTL), RenewInterval: dur(envRenew)}
	logf := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "supervisor %d: %s\n", os.Getpid(), fmt.Sprintf(format, args...))
	}
	opt := childOptions(cfg, dur(envGrace), logf)
	if os.Getenv(envFaulty) == "1" {
		opt.Join = faultyJoin(cfg)
	}
	code, err := supervise.Run(context.Background(), opt)
	if err != nil {
		logf("%v", err)
	}
	return code
}

// childOptions runs this binary as the child on the lease of cfg.
func childOptions(cfg owner.Config, grace time.Duration, logf func(string, ...any)) supervise.Options {
	return supervise.Options{
		Join:    func(ctx context.Context) (*owner.Owner, error) { return owner.Join(ctx, cfg) },
		Lease:   cfg.LeasePath,
		Grace:   grace,
		Command: os.Args[0],
		Args:    []string{"-test.run=^$"},
		Env:     append(os.Environ(), envRole+"=child"),
		Stdout:  os.Stdout,
		Stderr:  os.Stderr,
		Logf:    logf,
	}
}
