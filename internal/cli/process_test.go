//go:build unix

package cli_test

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/leasehold/leasehold/internal/cli"
)

// limit bounds anything the process tests wait for; it is generous.
const limit = 30 * time.Second

// startApp starts a copy of the example application on the lease at path.
func startApp(t *testing.T, path string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(cleanEnv(), envRole+"=app", "OWNER_LEASE_PATH="+path, "OWNER_TTL=1s")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd
}

// awaitStatus runs status --json until cond accepts its report and exit
// code, and returns that report.
func awaitStatus(t *testing.T, path string, cond func(report, int) bool) report {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		out, errs, code := run(t, nil, "status", "--json", path)
		if code == cli.ExitError {
			t.Fatalf("status: %s", errs)
		}
		r := decodeReport(t, []byte(out), false)
		if cond(r, code) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("status never as awaited; last %+v, exit %d", r, code)
		}
	}
}

// status and watch follow a lease held by copies of the example
// application: the owner and its endpoint, a takeover after the owner is
// killed, and the release when the last one stops.
func TestStatusAndWatchFollowTheExampleApp(t *testing.T) {
	path := filepath.Join(t.TempDir(), "owner.lease")
	apps := map[int]*exec.Cmd{}
	for range 2 {
		c := startApp(t, path)
		apps[c.Process.Pid] = c
	}
	first := awaitStatus(t, path, func(r report, code int) bool { return code == cli.ExitLive })
	h := first.Holder
	if first.State != "live" || !first.Live || h == nil || apps[h.PID] == nil || first.Store != "file" || first.Lease != path {
		t.Fatalf("status of a held lease: %+v", first)
	}
	if !strings.HasPrefix(h.Endpoint, "http://127.0.0.1:") || h.TTL != 1 || h.Remaining <= 0 || h.Remaining > 1 {
		t.Fatalf("holder %+v: want the app's loopback endpoint, TTL 1s, some of it left", *h)
	}
	out, _, code := run(t, nil, "status", path)
	if code != cli.ExitLive || !strings.Contains(out, h.Endpoint) || !strings.Contains(out, "live") {
		t.Fatalf("status: exit %d\n%s", code, out)
	}

	w := startWatch(t, path)
	next := w.next
	if r := next(); r.State != "live" || r.Holder.PID != h.PID || r.Holder.Epoch != h.Epoch {
		t.Fatalf("watch's first line %+v, want the holder of status", r)
	}

	if err := apps[h.PID].Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// The killed owner's tenure ends with it (gone, or already taken
	// over), and the other copy takes the lease over.
	var seen []string
	for {
		r := next()
		seen = append(seen, r.State)
		if r.State == "live" && r.Holder.Epoch > h.Epoch {
			if r.Holder.PID == h.PID || apps[r.Holder.PID] == nil {
				t.Fatalf("taken over by pid %d, want the other copy", r.Holder.PID)
			}
			break
		}
		if r.State != "gone" || r.Holder.PID != h.PID {
			t.Fatalf("after the SIGKILL: %+v", r)
		}
	}
	t.Logf("watch after the SIGKILL: %v", seen)

	if _, err := w.interrupt(); err != nil {
		t.Fatalf("watch interrupted: %v, want exit 0", err)
	}

	// The survivor stops cleanly and releases the lease: no live owner.
	for pid, c := range apps {
		if pid != h.PID {
			if err := c.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
		}
	}
	r := awaitStatus(t, path, func(r report, code int) bool { return code == cli.ExitNone })
	if r.State != "released" || r.Live || r.Holder == nil || !r.Holder.Released {
		t.Fatalf("after the last copy stopped: %+v", r)
	}
}

// watcher is a leasehold watch --json process.
type watcher struct {
	t      *testing.T
	cmd    *exec.Cmd
	lines  chan string
	stderr *bytes.Buffer // read only after the process has exited
}

// startWatch starts leasehold watch --json on the lease at path.
func startWatch(t *testing.T, path string) *watcher {
	t.Helper()
	cmd := exec.Command(os.Args[0], "watch", "--json", path)
	cmd.Env = append(cleanEnv(), envRole+"=cli")
	w := &watcher{t: t, cmd: cmd, lines: make(chan string), stderr: &bytes.Buffer{}}
	cmd.Stderr = w.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	go func() {
		defer close(w.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			w.lines <- sc.Text()
		}
	}()
	return w
}

// next returns the next line watch prints.
func (w *watcher) next() report {
	w.t.Helper()
	select {
	case l, ok := <-w.lines:
		if !ok {
			w.t.Fatal("watch ended")
		}
		return decodeReport(w.t, []byte(l), true)
	case <-time.After(limit):
		w.t.Fatal("no line from watch")
	}
	panic("unreachable")
}

// interrupt sends watch SIGINT and returns what it wrote on stderr and
// how it exited.
func (w *watcher) interrupt() (string, error) {
	w.t.Helper()
	if err := w.cmd.Process.Signal(syscall.SIGINT); err != nil {
		w.t.Fatal(err)
	}
	for range w.lines {
	}
	err := w.cmd.Wait()
	return w.stderr.String(), err
}

// A watch that could read the lease goes on when a later reading fails: a
// holder frozen and killed with its record garbled leaves a lease it
// cannot read, which it says on stderr, and reads again until a new holder
// has replaced the record.
func TestWatchOutlastsAnUnreadableRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "owner.lease")
	a := startApp(t, path)
	first := awaitStatus(t, path, func(r report, code int) bool { return code == cli.ExitLive })
	w := startWatch(t, path)
	if r := w.next(); r.State != "live" || r.Holder.PID != a.Process.Pid {
		t.Fatalf("watch's first line %+v, want the app's tenure", r)
	}
	// Frozen, a cannot renew: the garbage stays until someone replaces it.
	if err := a.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := a.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = a.Wait()
	b := startApp(t, path)
	r := w.next()
	if r.State != "live" || r.Holder.PID != b.Process.Pid || r.Holder.Epoch <= first.Holder.Epoch {
		t.Fatalf("watch after the garbled record: %+v, want the new app's tenure above epoch %d", r, first.Holder.Epoch)
	}
	stderr, err := w.interrupt()
	if err != nil {
		t.Fatalf("watch interrupted: %v, want exit 0; stderr %q", err, stderr)
	}
	if !strings.Contains(stderr, "corrupt record") || !strings.Contains(stderr, "reading it again") {
		t.Fatalf("watch's stderr %q: want the unreadable record said", stderr)
	}
}
