//go:build unix

package measure

import (
	"errors"
	"os/exec"
	"testing"

	"github.com/leasehold/leasehold/internal/fleet"
	"github.com/leasehold/leasehold/internal/worker"
)

// script returns a fleet of one stand-in worker that prints lines.
func script(t *testing.T, lines string) *fleet.Fleet {
	t.Helper()
	f := fleet.New(func() *exec.Cmd { return exec.Command("sh", "-c", "printf '"+lines+"'; exec sleep 60") })
	if _, err := f.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f
}

func TestSuccessor(t *testing.T) {
	t.Parallel()
	owner := worker.Event{Kind: worker.OK, Epoch: 1}
	for _, tc := range []struct {
		name       string
		lines      string
		mark       int   // where the fault was sent, in the log
		t0         int64 // when
		superseded bool
	}{
		{name: "a takeover after the fault",
			lines: `ok 1 1 2\nacquired 2 50 0\nok 2 51 52\n`, mark: 1, t0: 40},
		{name: "acquired before the fault, reported after",
			lines: `ok 1 1 2\nacquired 2 30 0\nok 2 31 32\n`, mark: 1, t0: 40, superseded: true},
		{name: "its first Check seen before the fault",
			lines: `ok 1 1 2\nacquired 2 30 0\nok 2 31 32\nok 2 60 61\n`, mark: 3, t0: 40, superseded: true},
		{name: "a Check begun before the fault",
			lines: `ok 1 1 2\nok 2 35 45\n`, mark: 1, t0: 40, superseded: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := script(t, tc.lines)
			next, err := successor(f, tc.mark, owner, tc.t0)
			if got := errors.Is(err, ErrSuperseded); got != tc.superseded {
				t.Fatalf("successor = %+v, %v; superseded %v, want %v", next, err, got, tc.superseded)
			}
			if next.Epoch != 2 {
				t.Fatalf("successor found epoch %d", next.Epoch)
			}
		})
	}
}
