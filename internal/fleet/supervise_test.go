//go:build unix

package fleet

import (
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// A stand-in worker that exits 0 on a line on its standard input.
func obedient() *exec.Cmd {
	return exec.Command("sh", "-c", `echo "joined 0 1 2 follower x"; read l; exit 0`)
}

// awaitRestarts waits until s has made n restarts, and returns them.
func awaitRestarts(t *testing.T, s *Supervisor, n int) []Restart {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if r := s.Restarts(); len(r) >= n {
			return r
		}
	}
	t.Fatalf("%d restarts after 10s, want %d: %+v", len(s.Restarts()), n, s.Restarts())
	return nil
}

func TestSupervisorRestartsEveryExit(t *testing.T) {
	t.Parallel()
	f := New(obedient)
	defer f.Close()
	var ws []*Worker
	for range 3 {
		w, err := f.Start()
		if err != nil {
			t.Fatal(err)
		}
		ws = append(ws, w)
	}
	// A worker gone before supervision is not the supervisor's to replace.
	ws[2].Signal(syscall.SIGKILL)
	<-ws[2].Done()

	s := f.Supervise()
	defer s.Stop()
	ws[0].Signal(syscall.SIGKILL)
	r := awaitRestarts(t, s, 1)
	if r[0].Old != 0 || r[0].New != 3 || r[0].Exit == nil || r[0].At == 0 {
		t.Fatalf("after a SIGKILL: %+v", r[0])
	}
	if err := ws[1].Send("exit"); err != nil {
		t.Fatal(err)
	}
	r = awaitRestarts(t, s, 2)
	if r[1].Old != 1 || r[1].New != 4 || r[1].Exit != nil {
		t.Fatalf("after a clean exit: %+v", r[1])
	}
	// The replacements are supervised too.
	f.Workers()[3].Signal(syscall.SIGKILL)
	r = awaitRestarts(t, s, 3)
	if r[2].Old != 3 || r[2].New != 5 {
		t.Fatalf("after the replacement's SIGKILL: %+v", r[2])
	}
	if live := f.Live(); len(live) != 2 {
		t.Fatalf("%d live workers, want 2", len(live))
	}

	s.Stop()
	s.Stop() // idempotent
	f.Workers()[4].Signal(syscall.SIGKILL)
	<-f.Workers()[4].Done()
	time.Sleep(50 * time.Millisecond)
	if n := len(s.Restarts()); n != 3 || len(f.Workers()) != 6 || s.Err() != nil {
		t.Fatalf("after Stop: %d restarts, %d workers, %v", n, len(f.Workers()), s.Err())
	}
}

func TestWorkerPid(t *testing.T) {
	t.Parallel()
	f := New(fake)
	defer f.Close()
	w, err := f.Start()
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(w.Pid(), 0); err != nil {
		t.Fatalf("Pid %d: %v", w.Pid(), err)
	}
}
