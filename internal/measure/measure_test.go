//go:build unix

package measure

import (
	"os"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/leasehold/leasehold/internal/fleet"
	"github.com/leasehold/leasehold/internal/worker"
)

func TestMain(m *testing.M) {
	if worker.Active() {
		os.Exit(worker.Main())
	}
	goleak.VerifyTestMain(m)
}

var self = []string{"-test.run=^$"}

func sane(t *testing.T, what string, ds []time.Duration, n int, limit time.Duration) {
	t.Helper()
	if len(ds) != n {
		t.Fatalf("%s: %d events, want %d", what, len(ds), n)
	}
	for _, d := range ds {
		if d <= -time.Second || d >= limit {
			t.Fatalf("%s: %v is out of bounds", what, ds)
		}
	}
}

func TestMeasurements(t *testing.T) {
	f, err := fleet.Launch(os.Args[0], self, t.TempDir(), 3, 300*time.Millisecond, 75*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ds, err := Handover(f, syscall.SIGKILL, 3)
	if err != nil {
		t.Fatal(err)
	}
	sane(t, "crash", ds, 3, 300*time.Millisecond) // well under the TTL
	ds, err = Hang(f, 300*time.Millisecond, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	sane(t, "hang beyond the TTL", ds, 1, 2*time.Second)

	j, err := JoinBurst(os.Args[0], self, t.TempDir(), 4, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if j.Owners != 1 || j.Slowest <= 0 {
		t.Fatalf("join burst %+v", j)
	}
}

func TestIdleCPU(t *testing.T) {
	f, err := fleet.Launch(os.Args[0], self, t.TempDir(), 3, time.Second, 0, worker.EnvCheck+"=1s")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := IdleCPU(f, 3, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Followers) != 2 || c.Owner < 0 || c.Owner > 100 {
		t.Fatalf("cpu %+v", c)
	}
}
