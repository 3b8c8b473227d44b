//go:build linux

package cli_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/leasehold/leasehold/internal/cli"
)

// startRun starts leasehold run on the lease at path, its CMD a shell that
// appends "EPOCH PID LEASE" to log and then sleeps; it returns the
// supervisor.
func startRun(t *testing.T, path, log string) *exec.Cmd {
	t.Helper()
	script := `echo "$LEASEHOLD_EPOCH $$ $LEASEHOLD_LEASE" >> "$0"; exec sleep 300`
	cmd := exec.Command(os.Args[0], "run", "--lease", path, "--", "sh", "-c", script, log)
	cmd.Env = append(cleanEnv(), envRole+"=cli", "OWNER_TTL=1s")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd
}

// started waits for the nth line of log and returns its epoch and pid.
func started(t *testing.T, log string, n int) (epoch uint64, pid int) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		b, _ := os.ReadFile(log)
		if lines := strings.Split(strings.TrimSpace(string(b)), "\n"); len(b) > 0 && len(lines) >= n {
			f := strings.Fields(lines[n-1])
			if len(f) != 3 {
				t.Fatalf("line %d of the children's log: %q", n, lines[n-1])
			}
			epoch, err := strconv.ParseUint(f[0], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			pid, err := strconv.Atoi(f[1])
			if err != nil {
				t.Fatal(err)
			}
			if len(lines) > n {
				t.Fatalf("%d children started, want %d:\n%s", len(lines), n, b)
			}
			return epoch, pid
		}
		if time.Now().After(deadline) {
			t.Fatalf("child %d never started; log:\n%s", n, b)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// dead reports whether process pid has exited (a zombie has).
func dead(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] == 'Z'
}

// Two leasehold run on one lease: one CMD at a time, given the epoch and
// the lease; SIGKILL of the active supervisor takes its CMD with it and
// starts the other's with a higher epoch; SIGTERM is forwarded to that
// CMD, whose status the supervisor exits with, releasing the lease.
func TestRunFailsOver(t *testing.T) {
	dir := t.TempDir()
	path, log := filepath.Join(dir, "owner.lease"), filepath.Join(dir, "children.log")
	sups := map[int]*exec.Cmd{}
	for range 2 {
		c := startRun(t, path, log)
		sups[c.Process.Pid] = c
	}
	e1, child1 := started(t, log, 1)
	owner := awaitStatus(t, path, func(r report, code int) bool { return code == cli.ExitLive })
	if owner.Holder.Epoch != e1 || sups[owner.Holder.PID] == nil {
		t.Fatalf("holder %+v; want one of the supervisors, at the child's epoch %d", owner.Holder, e1)
	}
	if b, _ := os.ReadFile(log); !strings.HasSuffix(strings.TrimSpace(string(b)), " "+path) {
		t.Fatalf("LEASEHOLD_LEASE: %q, want %s", b, path)
	}

	first := sups[owner.Holder.PID]
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	e2, child2 := started(t, log, 2)
	if e2 <= e1 {
		t.Fatalf("the second child's epoch %d, after %d", e2, e1)
	}
	deadline := time.Now().Add(limit)
	for !dead(child1) {
		if time.Now().After(deadline) {
			t.Fatalf("the killed supervisor's child %d still runs", child1)
		}
		time.Sleep(5 * time.Millisecond)
	}

	delete(sups, first.Process.Pid)
	var second *exec.Cmd
	for _, c := range sups {
		second = c
	}
	if err := second.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := second.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 128+int(syscall.SIGTERM) {
		t.Fatalf("supervisor after SIGTERM: %v, want exit %d, its child's status", err, 128+int(syscall.SIGTERM))
	}
	if !dead(child2) {
		t.Fatalf("the child %d runs on after its supervisor exited", child2)
	}
	r := awaitStatus(t, path, func(r report, code int) bool { return true })
	if r.State != "released" || r.Holder == nil || r.Holder.Epoch != e2 {
		t.Fatalf("after the last supervisor exited: %+v, want epoch %d released", r, e2)
	}
}

// A CMD that exits on its own: leasehold run exits with its code; and the
// command line errors of run.
func TestRunExitCodes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "owner.lease")
	for _, tc := range []struct {
		args []string
		code int
		say  string
	}{
		{[]string{"run", "--lease", path, "--", "sh", "-c", "exit 7"}, 7, ""},
		{[]string{"run", "--lease", path, "--", "sh", "-c", `test -n "$LEASEHOLD_EPOCH" && test -n "$LEASEHOLD_INSTANCE_ID"`}, 0, ""},
		{[]string{"run", "--lease", path}, 125, "no CMD"},
		{[]string{"run", "--lease", path, "--grace", "-1s", "--", "true"}, 125, "grace"},
		{[]string{"run", "--", "true"}, 125, "name the lease"},
		{[]string{"run", "--lease", path, "--", "/nonexistent/cmd"}, 127, "/nonexistent/cmd"},
	} {
		_, errs, code := run(t, nil, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.say) {
			t.Errorf("%q: exit %d, stderr %q; want %d, saying %q", tc.args, code, errs, tc.code, tc.say)
		}
	}
}
