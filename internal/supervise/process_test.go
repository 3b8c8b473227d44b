//go:build linux

package supervise_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/leasehold/leasehold/internal/mono"
	"github.com/leasehold/leasehold/internal/supervise"
	"github.com/leasehold/leasehold/lease"
)

// Process tests: supervisors and children are real processes (this test
// binary), hurt with real signals. The bounds are generous: they say
// "it happened", not how fast.
const (
	procTTL   = 400 * time.Millisecond
	procRenew = 100 * time.Millisecond
	procGrace = 150 * time.Millisecond
	procLimit = 20 * time.Second
)

// lab is a lease, the events file of its children and the supervisors
// started on it.
type lab struct {
	t      *testing.T
	dir    string
	events string
	mu     sync.Mutex
	sups   map[int]*sup // by pid
}

// sup is a supervisor process.
type sup struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan struct{}
	code   int   // exit code, -1 if killed by a signal; after done
	exited int64 // mono.Now when it was reaped
}

func newLab(t *testing.T) *lab {
	dir := t.TempDir()
	l := &lab{t: t, dir: dir, events: filepath.Join(dir, "events"), sups: map[int]*sup{}}
	t.Cleanup(func() { // after the supervisors' cleanups have killed them
		for _, e := range l.read() {
			if e.kind != "start" {
				continue
			}
			for end := time.Now().Add(procLimit); isAlive(e.pid) && time.Now().Before(end); {
				time.Sleep(time.Millisecond)
			}
			if isAlive(e.pid) {
				t.Errorf("child %d outlived its supervisor by %v", e.pid, procLimit)
				_ = syscall.Kill(e.pid, syscall.SIGKILL)
			}
		}
	})
	return l
}

func (l *lab) leasePath() string { return filepath.Join(l.dir, "owner.lease") }

// start starts a supervisor whose child does what child says (envChild),
// with env added to its environment.
func (l *lab) start(child string, env ...string) *sup {
	l.t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		envRole+"=supervisor", envLease+"="+l.leasePath(), envEvents+"="+l.events, envChild+"="+child,
		envTTL+"="+procTTL.String(), envRenew+"="+procRenew.String(), envGrace+"="+procGrace.String())
	cmd.Env = append(cmd.Env, env...)
	s := &sup{cmd: cmd, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = s.stderr
	cmd.WaitDelay = procLimit // a child that outlived it may hold its stderr
	if err := cmd.Start(); err != nil {
		l.t.Fatal(err)
	}
	go func() {
		defer close(s.done)
		_ = cmd.Wait()
		s.exited = mono.Now()
		s.code = cmd.ProcessState.ExitCode()
	}()
	l.mu.Lock()
	l.sups[cmd.Process.Pid] = s
	l.mu.Unlock()
	l.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-s.done
		if l.t.Failed() {
			l.t.Logf("supervisor %d stderr:\n%s", cmd.Process.Pid, s.stderr.String())
		}
	})
	return s
}

// sup returns the supervisor of pid.
func (l *lab) sup(pid int) *sup {
	l.t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.sups[pid]
	if s == nil {
		l.t.Fatalf("no supervisor with pid %d", pid)
	}
	return s
}

func (l *lab) read() []event {
	f, err := os.Open(l.events)
	if err != nil {
		return nil
	}
	defer f.Close()
	var es []event
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		e, ok := parseEvent(sc.Text())
		if !ok {
			l.t.Errorf("bad event line %q", sc.Text())
			continue
		}
		es = append(es, e)
	}
	return es
}

// await waits for the first event from index from on that match accepts.
func (l *lab) await(from int, what string, match func(event) bool) (event, int) {
	l.t.Helper()
	var e event
	i := -1
	l.until(what, func() bool {
		es := l.read()
		for j := from; j < len(es); j++ {
			if match(es[j]) {
				e, i = es[j], j
				return true
			}
		}
		return false
	})
	return e, i
}

// until waits for cond, polling, at most procLimit.
func (l *lab) until(what string, cond func() bool) {
	l.t.Helper()
	for end := time.Now().Add(procLimit); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			l.t.Fatalf("%s did not happen within %v", what, procLimit)
		}
	}
}

// exit waits for s to exit and returns its code (-1: killed by a signal).
func (l *lab) exit(s *sup) int {
	l.t.Helper()
	select {
	case <-s.done:
		return s.code
	case <-time.After(procLimit):
		l.t.Fatalf("supervisor %d did not exit within %v", s.cmd.Process.Pid, procLimit)
		return 0
	}
}

func send(t *testing.T, s *sup, sig syscall.Signal) int64 {
	t.Helper()
	t0 := mono.Now()
	if err := s.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	return t0
}

func started(above uint64) func(event) bool {
	return func(e event) bool { return e.kind == "start" && e.epoch > above }
}

// checkStart fails if e, a child's start, saw another child alive, or was
// not told its lease and instance id.
func (l *lab) checkStart(e event) {
	l.t.Helper()
	if e.extra["alive"] != "" {
		l.t.Errorf("child %d (epoch %d) started while %s still ran", e.pid, e.epoch, e.extra["alive"])
	}
	if e.extra["lease"] != l.leasePath() || e.extra["id"] == "" || e.epoch == 0 {
		l.t.Errorf("child %d: epoch %d, lease %q, id %q", e.pid, e.epoch, e.extra["lease"], e.extra["id"])
	}
}

// Supervisors on one lease, the active one killed (SIGKILL) or stopped
// (SIGTERM) in turn: one child at a time, with a higher epoch each time;
// a killed supervisor's child dies with it, a stopped one's gets the
// signal, and the supervisor exits with the child's status.
func TestOneChildAtATime(t *testing.T) {
	for _, n := range []int{2, 3} {
		t.Run(fmt.Sprintf("%d supervisors", n), func(t *testing.T) {
			l := newLab(t)
			for range n {
				l.start("term:5")
			}
			var epoch uint64
			from := 0
			for round := range n {
				e, i := l.await(from, "a child's start", started(epoch))
				from = i + 1
				l.checkStart(e)
				epoch = e.epoch
				s := l.sup(e.ppid)
				sig := syscall.SIGTERM
				if round%2 == 0 && round < n-1 {
					sig = syscall.SIGKILL
				}
				t0 := send(t, s, sig)
				code := l.exit(s)
				switch sig {
				case syscall.SIGKILL:
					l.until("the killed supervisor's child to die", func() bool { return !isAlive(e.pid) })
					if code != -1 {
						t.Errorf("killed supervisor exited %d", code)
					}
				case syscall.SIGTERM:
					l.await(0, "SIGTERM forwarded", func(x event) bool { return x.kind == "term" && x.pid == e.pid })
					if code != 5 {
						t.Errorf("supervisor stopped by SIGTERM exited %d, want 5, the child's", code)
					}
				}
				if round < n-1 {
					next, _ := l.await(from, "the next child's start", started(epoch))
					t.Logf("%v of the active supervisor to the next child's start: %v (epoch %d -> %d)",
						sig, time.Duration(next.t-t0), epoch, next.epoch)
				}
			}
			for _, e := range l.read() {
				if e.kind == "term" && !slices.ContainsFunc(l.read(), func(x event) bool { return x.kind == "exit" && x.pid == e.pid }) {
					t.Errorf("child %d got SIGTERM but did not exit on it", e.pid)
				}
			}
		})
	}
}

// The active supervisor killed again and again, a new one started each
// time: its child dies, the next starts with a higher epoch, in less than
// the TTL (the lease is free once the supervisor's lock is gone).
func TestSupervisorKilled(t *testing.T) {
	const rounds = 10
	l := newLab(t)
	for range 3 {
		l.start("term:5")
	}
	var epoch uint64
	var took []time.Duration
	e, from := l.await(0, "the first child's start", started(0))
	for range rounds {
		l.checkStart(e)
		epoch = e.epoch
		t0 := send(t, l.sup(e.ppid), syscall.SIGKILL)
		var i int
		next, i := l.await(from+1, "the next child's start", started(epoch))
		d := time.Duration(next.t - t0)
		took = append(took, d)
		if d >= procTTL {
			t.Errorf("next child started %v after the SIGKILL, not within the TTL %v", d, procTTL)
		}
		if isAlive(e.pid) {
			l.until("the killed supervisor's child to die", func() bool { return !isAlive(e.pid) })
		}
		l.start("term:5")
		e, from = next, i
	}
	l.checkStart(e)
	slices.Sort(took)
	t.Logf("SIGKILL of the active supervisor to the next child's start, %d rounds: min %v, median %v, max %v",
		rounds, took[0], took[len(took)/2], took[len(took)-1])
}

// A child that exits on its own: the supervisor exits with its code and
// releases the lease.
func TestChildExits(t *testing.T) {
	l := newLab(t)
	s := l.start("exit:7")
	e, _ := l.await(0, "the child's start", started(0))
	l.checkStart(e)
	if code := l.exit(s); code != 7 {
		t.Fatalf("supervisor exited %d, want 7, the child's", code)
	}
	b, err := os.ReadFile(l.leasePath())
	if err != nil {
		t.Fatal(err)
	}
	rec, err := lease.DecodeRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	if !rec.Released || rec.Epoch != e.epoch {
		t.Fatalf("lease after the supervisor exited: released %v, epoch %d; want released, epoch %d", rec.Released, rec.Epoch, e.epoch)
	}
}

// A signal before the supervisor owns ends it with 128+signal, and its
// command never runs.
func TestSignalWhileWaiting(t *testing.T) {
	l := newLab(t)
	a := l.start("term:5")
	l.await(0, "the first child's start", started(0))
	b := l.start("term:5")
	l.until("the second supervisor to wait", func() bool { return strings.Contains(b.stderr.String(), "waiting for the lease") })
	send(t, b, syscall.SIGINT)
	if code := l.exit(b); code != 130 {
		t.Errorf("waiting supervisor exited %d on SIGINT, want 130", code)
	}
	send(t, a, syscall.SIGTERM)
	l.exit(a)
	for _, e := range l.read() {
		if e.ppid == b.cmd.Process.Pid {
			t.Errorf("the interrupted supervisor ran a child: %+v", e)
		}
	}
}

// A supervisor frozen past its TTL cannot stop its child: a second
// supervisor takes over and its child runs beside the first (the epoch is
// the fence). Resumed, the first finds its ownership lost, sends its child
// SIGTERM, then SIGKILL Grace later as the child ignores it, and exits
// ExitLost.
func TestFrozenSupervisorLoses(t *testing.T) {
	l := newLab(t)
	a := l.start("ignore")
	first, _ := l.await(0, "the first child's start", started(0))
	send(t, a, syscall.SIGSTOP)
	b := l.start("term:5")
	second, _ := l.await(0, "the second child's start", started(first.epoch))
	if second.ppid != b.cmd.Process.Pid {
		t.Fatalf("the child of epoch %d has parent %d, not the second supervisor", second.epoch, second.ppid)
	}
	if second.extra["alive"] != fmt.Sprint(first.pid) {
		t.Errorf("the frozen supervisor's child should still run beside the next: alive=%q", second.extra["alive"])
	}
	send(t, a, syscall.SIGCONT)
	term, _ := l.await(0, "SIGTERM to the first child", func(e event) bool { return e.kind == "term" && e.pid == first.pid })
	if code := l.exit(a); code != supervise.ExitLost {
		t.Errorf("resumed supervisor exited %d, want ExitLost", code)
	}
	if isAlive(first.pid) {
		t.Errorf("the first child still runs after its supervisor exited")
	}
	if d := time.Duration(a.exited - term.t); d < procGrace/2 {
		t.Errorf("the supervisor exited %v after its child's SIGTERM, before the grace period %v", d, procGrace)
	}
	out := a.stderr.String()
	for _, want := range []string{"ownership lost", "killed by signal 9"} {
		if !strings.Contains(out, want) {
			t.Errorf("supervisor's stderr lacks %q:\n%s", want, out)
		}
	}
	send(t, b, syscall.SIGTERM)
	l.exit(b)
}

// When renewals fail, the supervisor does not wait for the loss: it sends
// SIGTERM when the deadline is Grace away and SIGKILL at the deadline, so
// the child is killed by the deadline, a TTL at most after the failures
// began. Waiting for the loss would kill it Grace after the deadline.
func TestRenewalsFailChildKilledByDeadline(t *testing.T) {
	const (
		ttl   = time.Second
		renew = 100 * time.Millisecond
		grace = 450 * time.Millisecond
	)
	l := newLab(t)
	a := l.start("ignore", envFaulty+"=1", envTTL+"="+ttl.String(), envRenew+"="+renew.String(), envGrace+"="+grace.String())
	first, _ := l.await(0, "the child's start", started(0))
	broken := send(t, a, syscall.SIGUSR1)
	term, _ := l.await(0, "SIGTERM to the child", func(e event) bool { return e.kind == "term" && e.pid == first.pid })
	if code := l.exit(a); code != supervise.ExitLost {
		t.Errorf("supervisor exited %d, want ExitLost", code)
	}
	// The last renewal that succeeded began before the failures, so the
	// deadline is at most a TTL after them; SIGTERM came Grace before it.
	if d := time.Duration(term.t - broken); d > ttl-grace+100*time.Millisecond {
		t.Errorf("SIGTERM came %v after renewals began to fail, not about Grace (%v) before the deadline", d, grace)
	}
	if d := time.Duration(a.exited - broken); d > ttl+250*time.Millisecond {
		t.Errorf("the supervisor exited %v after renewals began to fail: its child was not killed by the deadline (TTL %v)", d, ttl)
	}
	out := a.stderr.String()
	for _, want := range []string{"not renewed", "killed by signal 9"} {
		if !strings.Contains(out, want) {
			t.Errorf("supervisor's stderr lacks %q:\n%s", want, out)
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
