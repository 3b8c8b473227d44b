//go:build unix

package fleet

import (
	"context"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/leasehold/leasehold/internal/worker"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A stand-in worker: prints two events and a bad line, then waits for a
// line on its standard input and echoes it as an event.
func fake() *exec.Cmd {
	return exec.Command("sh", "-c", `echo "joined 0 1 2 follower x"; echo "not an event"; echo "ok 3 4 5"; read l; echo "$l 0 6 7"; exec sleep 60`)
}

func TestFleet(t *testing.T) {
	f := New(fake)
	defer f.Close()
	w, err := f.Start()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e, at, err := f.Await(ctx, 0, func(e worker.Event) bool { return e.Kind == worker.OK })
	if err != nil || e.Epoch != 3 || e.T1 != 4 || e.T2 != 5 || e.Worker != w.ID || at != 1 {
		t.Fatalf("Await = %+v at %d, %v", e, at, err)
	}
	if bad := f.BadLines(); len(bad) != 1 || bad[0] != "worker 0: not an event" {
		t.Fatalf("bad lines %q", bad)
	}
	mark := f.Mark()
	if err := w.Send("released"); err != nil {
		t.Fatal(err)
	}
	if e, _, err := f.Await(ctx, mark, func(e worker.Event) bool { return e.Kind == worker.Released }); err != nil || e.T1 != 6 {
		t.Fatalf("echo: %+v %v", e, err)
	}
	if _, err := w.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-w.Done()
	if w.Err() == nil {
		t.Fatal("killed process reported success")
	}
	short, stop := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer stop()
	if _, _, err := f.Await(short, f.Mark(), func(worker.Event) bool { return true }); err == nil {
		t.Fatal("Await found an event that never came")
	}
}
