//go:build unix

package supervise_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leasehold/leasehold/internal/supervise"
	"github.com/leasehold/leasehold/owner"
	"github.com/leasehold/leasehold/ownerfx"
)

func testConfig(t *testing.T) owner.Config {
	return owner.Config{LeasePath: filepath.Join(t.TempDir(), "owner.lease"), TTL: 2 * time.Second, RenewInterval: 500 * time.Millisecond}
}

func TestExitLostIsOwnerfxs(t *testing.T) {
	if supervise.ExitLost != ownerfx.ExitCodeLost {
		t.Fatalf("ExitLost = %d, ownerfx.ExitCodeLost = %d", supervise.ExitLost, ownerfx.ExitCodeLost)
	}
}

func TestRunRefuses(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*supervise.Options)
		code  int
		error string
	}{
		{"no command", func(o *supervise.Options) { o.Command = "" }, supervise.ExitFailed, "Command are required"},
		{"grace beyond the renewal window", func(o *supervise.Options) { o.Grace = 1500 * time.Millisecond }, supervise.ExitFailed, "must be at most half of the TTL"},
		{"negative grace", func(o *supervise.Options) { o.Grace = -time.Second }, supervise.ExitFailed, "negative"},
		{"command not found", func(o *supervise.Options) { o.Command = "leasehold-no-such-command" }, supervise.ExitNotFound, "executable file not found"},
		{"missing path", func(o *supervise.Options) { o.Command = "/nonexistent/cmd" }, supervise.ExitNotFound, "no such file"},
		{"not executable", func(o *supervise.Options) { o.Command = os.DevNull }, supervise.ExitCannotRun, "permission denied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t)
			opt := childOptions(cfg, 0, t.Logf)
			tc.edit(&opt)
			code, err := supervise.Run(context.Background(), opt)
			if code != tc.code || err == nil || !strings.Contains(err.Error(), tc.error) {
				t.Fatalf("Run = %d, %v; want %d and an error with %q", code, err, tc.code, tc.error)
			}
			// Whatever failed, the lease is free again.
			o, err := owner.Join(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer o.Release()
			if err := o.Check(); err != nil {
				t.Fatalf("the lease was not released: %v", err)
			}
		})
	}
}

// Cancelling Run's context stops the child with SIGTERM; Run returns its
// status and the cause, and releases the lease.
func TestRunContextStopsChild(t *testing.T) {
	cfg := testConfig(t)
	events := filepath.Join(t.TempDir(), "events")
	t.Setenv(envEvents, events)
	t.Setenv(envChild, "term:6")
	ctx, cancel := context.WithCancelCause(context.Background())
	stop := errors.New("stop now")
	opt := childOptions(cfg, 0, func(format string, args ...any) {
		t.Logf(format, args...)
		if strings.HasPrefix(format, "owner at epoch") {
			go func() {
				// Cancel once the child has started and can take SIGTERM.
				for !strings.Contains(readFile(events), "start ") {
					time.Sleep(time.Millisecond)
				}
				cancel(stop)
			}()
		}
	})
	code, err := supervise.Run(ctx, opt)
	if code != 6 || !errors.Is(err, stop) {
		t.Fatalf("Run = %d, %v; want 6 (the child's) and the cause", code, err)
	}
	if !strings.Contains(readFile(events), "term ") {
		t.Fatalf("the child did not get SIGTERM:\n%s", readFile(events))
	}
	o, err := owner.Join(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Release()
	if err := o.Check(); err != nil {
		t.Fatalf("the lease was not released: %v", err)
	}
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}
