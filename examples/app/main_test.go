//go:build unix

package main

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Process tests: each copy of the app is this test binary, re-run with
// envApp set so that TestMain runs main instead of the tests.

const envApp = "LEASEHOLD_EXAMPLE_APP_MAIN"

// patience bounds the wait for anything to happen at all.
const patience = 30 * time.Second

func TestMain(m *testing.M) {
	if os.Getenv(envApp) == "1" {
		main()
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

// app is a running copy of the example app.
type app struct {
	t      *testing.T
	name   string
	cmd    *exec.Cmd
	lines  chan line // its status lines, closed at the end of its output
	stderr bytes.Buffer
	seen   []line
}

// line is a status line, as its key=value fields.
type line map[string]string

func parse(s string) line {
	l := line{}
	for _, f := range strings.Fields(s) {
		if k, v, ok := strings.Cut(f, "="); ok {
			l[k] = v
		}
	}
	return l
}

// environ is the test's environment without OWNER_ variables, plus extra.
func environ(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OWNER_") {
			env = append(env, kv)
		}
	}
	return append(append(env, envApp+"=1"), extra...)
}

// start runs the app in dir with args and the extra variables; at cleanup
// it is killed if it still runs.
func start(t *testing.T, name, dir string, env []string, args ...string) *app {
	t.Helper()
	a := &app{t: t, name: name, cmd: exec.Command(os.Args[0], args...), lines: make(chan line, 100)}
	a.cmd.Dir = dir
	a.cmd.Env = environ(env...)
	a.cmd.Stderr = &a.stderr
	out, err := a.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(a.lines)
		for s := bufio.NewScanner(out); s.Scan(); {
			a.lines <- parse(s.Text())
		}
	}()
	t.Cleanup(func() {
		if a.cmd.ProcessState == nil {
			_ = a.cmd.Process.Kill()
			a.wait()
		}
	})
	return a
}

// await returns the first status line that match accepts.
func (a *app) await(what string, match func(line) bool) line {
	a.t.Helper()
	timeout := time.After(patience)
	for {
		select {
		case l, ok := <-a.lines:
			if !ok {
				code := a.wait()
				a.t.Fatalf("%s exited %d before %s; stderr: %s", a.name, code, what, a.stderr.String())
			}
			a.seen = append(a.seen, l)
			if match(l) {
				return l
			}
		case <-timeout:
			a.t.Fatalf("%s: no %s within %v", a.name, what, patience)
		}
	}
}

func event(e string) func(line) bool {
	return func(l line) bool { return l["event"] == e }
}

// wait drains the output and waits for the process to end; it returns its
// exit code.
func (a *app) wait() int {
	for l := range a.lines {
		a.seen = append(a.seen, l)
	}
	err := a.cmd.Wait()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		a.t.Fatalf("%s: %v", a.name, err)
	}
	return a.cmd.ProcessState.ExitCode()
}

// stop sends SIGTERM and expects a clean exit.
func (a *app) stop() {
	a.t.Helper()
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		a.t.Fatal(err)
	}
	if code := a.wait(); code != 0 {
		a.t.Fatalf("%s exited %d after SIGTERM; stderr: %s", a.name, code, a.stderr.String())
	}
}

// tempRoot returns a new directory with its symbolic links resolved, as
// the app resolves the directory of its configuration file.
func tempRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func writeConfig(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Two copies started from different directories with one configuration
// file whose lease path is relative share one lease, elect one owner, and
// say so: both print the same absolute lease path.
func TestTwoDirectoriesOneConfigOneOwner(t *testing.T) {
	root := tempRoot(t)
	for _, d := range []string{"a", "b"} {
		if err := os.Mkdir(filepath.Join(root, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	writeConfig(t, filepath.Join(root, "owner.yaml"), "owner:\n  lease_path: run/owner.lease\n  ttl: 2s\n")
	args := []string{"-config", filepath.Join("..", "owner.yaml")}
	a := start(t, "app in a", filepath.Join(root, "a"), nil, args...)
	b := start(t, "app in b", filepath.Join(root, "b"), nil, args...)
	ja, jb := a.await("join", event("joined")), b.await("join", event("joined"))

	want := filepath.Join(root, "run", "owner.lease")
	for _, j := range []line{ja, jb} {
		if j["lease"] != want {
			t.Fatalf("pid %s joined lease %s, want %s", j["pid"], j["lease"], want)
		}
	}
	for _, d := range []string{"a", "b"} {
		if _, err := os.Stat(filepath.Join(root, d, "run")); err == nil {
			t.Errorf("a lease directory was made in %s, the working directory", d)
		}
	}
	owner, follower, ownerID, followerJoin := a, b, ja["id"], jb
	switch {
	case ja["role"] == "owner" && jb["role"] == "follower":
	case ja["role"] == "follower" && jb["role"] == "owner":
		owner, follower, ownerID, followerJoin = b, a, jb["id"], ja
	default:
		t.Fatalf("roles %s and %s, want one owner and one follower", ja["role"], jb["role"])
	}
	// The follower knows the owner as the holder: at join, or once the
	// owner has written its record.
	if followerJoin["holder"] != ownerID {
		follower.await("the owner as holder", func(l line) bool { return l["event"] == "holder" && l["holder"] == ownerID })
	}

	// A clean stop of the owner hands over to the follower.
	owner.stop()
	follower.await("takeover", event("owner"))
	for _, l := range owner.seen {
		if l["event"] == "owner" {
			t.Errorf("the first owner printed a takeover: %v", l)
		}
	}
	follower.stop()
}

// The environment belongs to the machine: an unrelated OWNER_ variable does
// not stop the app, and a likely typo is reported with the known name.
func TestUnknownVariablesDoNotStopTheApp(t *testing.T) {
	root := tempRoot(t)
	writeConfig(t, filepath.Join(root, "owner.yaml"), "owner:\n  lease_path: owner.lease\n  ttl: 2s\n")
	a := start(t, "app", root, []string{"OWNER_EMAIL=me@example.com", "OWNER_TLL=10s"}, "-config", "owner.yaml")
	j := a.await("join", event("joined"))
	if j["role"] != "owner" || j["ttl"] != "2s" {
		t.Fatalf("joined %v, want the owner with the file's TTL", j)
	}
	a.stop()
	stderr := a.stderr.String()
	if !strings.Contains(stderr, "unknown variable OWNER_TLL ignored; did you mean OWNER_TTL?") {
		t.Errorf("stderr does not warn about OWNER_TLL: %q", stderr)
	}
	if strings.Contains(stderr, "OWNER_EMAIL") {
		t.Errorf("stderr mentions OWNER_EMAIL: %q", stderr)
	}
}

// A bad value of a known variable still stops the app with exit code 2
// and a line naming it.
func TestBadConfigurationExits2(t *testing.T) {
	root := tempRoot(t)
	writeConfig(t, filepath.Join(root, "owner.yaml"), "owner:\n  lease_path: owner.lease\n")
	for _, tc := range []struct {
		name string
		env  []string
		want string
	}{
		{"bare number", []string{"OWNER_TTL=10"}, `config: environment: OWNER_TTL = "10" is not a duration`},
		{"relative path in the environment", []string{"OWNER_LEASE_PATH=run/owner.lease"}, `config: environment: OWNER_LEASE_PATH = "run/owner.lease" is relative`},
		{"the etcd store, which this build cannot open", []string{"OWNER_STORE=etcd", "OWNER_ETCD_ENDPOINTS=127.0.0.1:2379", "OWNER_ETCD_KEY=/x", "OWNER_TTL=2s"},
			"the configuration selects the etcd store; this build opens the file store only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := start(t, "app", root, tc.env, "-config", "owner.yaml")
			if code := a.wait(); code != 2 {
				t.Fatalf("exit code %d, want 2; stderr: %s", code, a.stderr.String())
			}
			if !strings.Contains(a.stderr.String(), tc.want) {
				t.Fatalf("stderr %q does not say %q", a.stderr.String(), tc.want)
			}
			if len(a.seen) != 0 {
				t.Fatalf("the app printed status lines: %v", a.seen)
			}
		})
	}
}
