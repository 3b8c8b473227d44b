//go:build unix

package measure

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/leasehold/leasehold/internal/fleet"
	"github.com/leasehold/leasehold/internal/worker"
)

func TestLoaded(t *testing.T) {
	const ttl = 300 * time.Millisecond
	res, err := RunLoaded(LoadedConfig{
		Exe: os.Args[0], Args: self, Dir: t.TempDir(),
		Processes: 4, TTL: ttl, Check: 500 * time.Microsecond,
		Events: 2, Warmup: 100 * time.Millisecond, Seed: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", res)
	sane(t, "crash", res.Crash, 2, 2*time.Second)
	sane(t, "graceful", res.Graceful, 2, 2*time.Second)
	sane(t, "hang beyond the TTL", res.HangBeyondTTL, 2, 2*time.Second)
	if res.FollowerKills != 2 {
		t.Errorf("%d follower kills, want 2", res.FollowerKills)
	}
	// Every fault ended a process, which the supervisor replaced: killed
	// (crash, follower), released (graceful) or lost (hang, once resumed).
	want := map[string]int{"signal: killed": 4, "exit status 0": 2, "exit status 3": 2}
	got := maps.Clone(res.Restarts)
	for _, s := range res.Superseded {
		t.Logf("superseded: %s", s) // possible on a loaded machine; each ended a process too
	}
	for cause, n := range want {
		if got[cause] < n {
			t.Errorf("restarts %v: want at least %d of %q", res.Restarts, n, cause)
		}
	}
	if res.Acquisitions < 1+6 || res.Acquisitions != 1+6+res.Unprovoked {
		t.Errorf("%d acquisitions, %d unprovoked: want the first and one for each of the 6 owner faults, besides those", res.Acquisitions, res.Unprovoked)
	}
	if res.Appended == 0 || res.Elapsed <= 0 {
		t.Errorf("the owners appended %d lines in %v", res.Appended, res.Elapsed)
	}
	if len(res.WorkerErrors) != 0 {
		t.Errorf("worker errors: %q", res.WorkerErrors)
	}
}

func TestIdleCost(t *testing.T) {
	f, err := fleet.Launch(os.Args[0], self, t.TempDir(), 3, time.Second, 0, worker.EnvCheck+"=1s")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const window = 300 * time.Millisecond
	var opened, closed time.Time
	probe := func() func() {
		opened = time.Now()
		return func() { closed = time.Now() }
	}
	idle, err := IdleCost(f, 3, 100*time.Millisecond, window, probe)
	if err != nil {
		t.Fatal(err)
	}
	if opened.IsZero() || closed.Sub(opened) < window {
		t.Fatalf("the probe ran from %v to %v, not over the %v window", opened, closed, window)
	}
	if len(idle.Followers) != 2 {
		t.Fatalf("%d followers, want 2", len(idle.Followers))
	}
	for _, c := range append(idle.Followers, idle.Owner) {
		// A Go process has several threads, and an idle one uses far less
		// than a core.
		if c.Window < window || c.Threads < 2 || c.OnCPU <= 0 || c.OnCPU >= c.Window {
			t.Fatalf("idle cost %+v", c)
		}
	}
}

func TestCauses(t *testing.T) {
	t.Parallel()
	got := Causes([]fleet.Restart{
		{Exit: errors.New("signal: killed")}, {Exit: nil}, {Exit: errors.New("signal: killed")}, {Exit: errors.New("exit status 3")},
	})
	want := map[string]int{"signal: killed": 2, "exit status 0": 1, "exit status 3": 1}
	if !maps.Equal(got, want) {
		t.Fatalf("Causes = %v, want %v", got, want)
	}
	if k := SortedCauses(got); len(k) != 3 || k[0] != "exit status 0" || k[2] != "signal: killed" {
		t.Fatalf("SortedCauses = %q", k)
	}
}

func TestCountLines(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if n, err := countLines(filepath.Join(dir, "missing")); n != 0 || err != nil {
		t.Fatalf("missing file: %d, %v", n, err)
	}
	path := filepath.Join(dir, "out")
	var b []byte
	for range 70000 { // more than one read
		b = append(b, "7 123\n"...)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if n, err := countLines(path); n != 70000 || err != nil {
		t.Fatalf("countLines = %d, %v", n, err)
	}
}
