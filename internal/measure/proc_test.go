//go:build unix

package measure

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// status is the part of a /proc status file that matters, as Linux 6
// writes it, among lines that do not.
func status(voluntary, involuntary int) string {
	return "Name:\tleaseworker\nState:\tS (sleeping)\nThreads:\t5\n" +
		"voluntary_ctxt_switches:\t" + strconv.Itoa(voluntary) + "\n" +
		"nonvoluntary_ctxt_switches:\t" + strconv.Itoa(involuntary) + "\n"
}

// fakeProc writes a /proc tree with one process, pid 100, and the threads
// given: thread id -> schedstat, status and stat texts.
func fakeProc(t *testing.T, threads map[int][3]string) string {
	t.Helper()
	root := t.TempDir()
	for tid, files := range threads {
		dir := filepath.Join(root, "100", "task", strconv.Itoa(tid))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, name := range []string{"schedstat", "status", "stat"} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(files[i]), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return root
}

func TestReadUsageAndBetween(t *testing.T) {
	t.Parallel()
	before, err := readUsage(fakeProc(t, map[int][3]string{
		100: {"1000000 50 7\n", status(10, 2), "100 (leaseworker) S 1"},
		101: {"250000 0 3\n", status(4, 0), "101 (leaseworker) S 1"},
		102: {"900000 0 9\n", status(30, 1), "102 (leaseworker) S 1"}, // exits in the window
	}), 100)
	if err != nil {
		t.Fatal(err)
	}
	if got := before.Threads[101]; got != (ThreadUsage{OnCPU: 250 * time.Microsecond, Voluntary: 4}) {
		t.Fatalf("thread 101: %+v", got)
	}
	after, err := readUsage(fakeProc(t, map[int][3]string{
		100: {"1600000 80 9\n", status(13, 3), "100 (leaseworker) S 1"},
		101: {"250000 0 3\n", status(4, 0), "101 (leaseworker) S 1"},
		103: {"100000 0 1\n", status(1, 0), "103 (leaseworker) S 1"}, // started in the window
	}), 100)
	if err != nil {
		t.Fatal(err)
	}
	if after.At.Before(before.At) || before.At.IsZero() {
		t.Fatalf("readings at %v and %v", before.At, after.At)
	}
	before.At, after.At = time.Unix(100, 0), time.Unix(102, 0)
	c := Between(before, after)
	want := Cost{Window: 2 * time.Second, OnCPU: 700 * time.Microsecond, Voluntary: 4, Involuntary: 1, Threads: 3, ThreadsGone: 1}
	if c != want {
		t.Fatalf("Between = %+v, want %+v", c, want)
	}
	if p := c.Percent(); p < 0.0349 || p > 0.0351 {
		t.Fatalf("Percent = %v, want 0.035", p)
	}
	// Renewed every 500 ms, the window saw 4 renewals.
	if v, i := c.PerRenewal(500 * time.Millisecond); v != 1 || i != 0.25 {
		t.Fatalf("PerRenewal = %v voluntary, %v involuntary; want 1 and 0.25", v, i)
	}
}

func TestReadUsageErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		files [3]string
	}{
		{"short schedstat", [3]string{"1000\n", status(1, 1), ""}},
		{"negative run time", [3]string{"-5 0 1\n", status(1, 1), ""}},
		{"no switch counts", [3]string{"5 0 1\n", "Name:\tx\n", ""}},
		{"garbled switch count", [3]string{"5 0 1\n", "voluntary_ctxt_switches:\tmany\nnonvoluntary_ctxt_switches:\t1\n", ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if u, err := readUsage(fakeProc(t, map[int][3]string{100: tc.files}), 100); err == nil {
				t.Fatalf("readUsage = %+v, want an error", u)
			}
		})
	}
	if _, err := readUsage(t.TempDir(), 100); err == nil {
		t.Fatal("readUsage of a missing process succeeded")
	}
}

func TestParseState(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		text string
		want byte
	}{
		{"100 (leaseworker) T 1 100", 'T'},
		{"100 (a) b) (c) D 1 100", 'D'}, // a command name may hold parentheses
		{"100 (x) S", 'S'},
	} {
		if got, err := parseState(tc.text); err != nil || got != tc.want {
			t.Errorf("parseState(%q) = %c, %v; want %c", tc.text, got, err, tc.want)
		}
	}
	for _, bad := range []string{"100 leaseworker S", "100 (x)"} {
		if got, err := parseState(bad); err == nil {
			t.Errorf("parseState(%q) = %c, want an error", bad, got)
		}
	}
	if allStopped(nil) || allStopped([]byte("TTS")) || !allStopped([]byte("Tt")) {
		t.Error("allStopped is wrong")
	}
}

func TestReadUsageOfARealProcess(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(procRoot + "/self/task"); err != nil {
		t.Skip("no /proc")
	}
	before, err := ReadUsage(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Spin until the kernel's other count, getrusage, has seen 20 ms more.
	for start := rusageCPU(t); rusageCPU(t)-start < 20*time.Millisecond; {
	}
	time.Sleep(time.Millisecond)
	after, err := ReadUsage(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if c := Between(before, after); c.OnCPU < 10*time.Millisecond || c.Voluntary < 1 || c.Threads < 1 {
		t.Fatalf("20 ms of spinning and a sleep read as %+v", c)
	}
}

func rusageCPU(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestAwaitStopped(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(procRoot + "/self/task"); err != nil {
		t.Skip("no /proc")
	}
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	if err := AwaitStopped(cmd.Process.Pid, 100*time.Millisecond); err == nil {
		t.Fatal("a running process read as stopped")
	}
	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	if err := AwaitStopped(cmd.Process.Pid, 10*time.Second); err != nil {
		t.Fatal(err)
	}
}
