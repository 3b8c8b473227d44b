//go:build unix

// Package fleet starts worker processes (package worker), collects their
// events, and hurts them with real signals.
package fleet

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/leasehold/leasehold/internal/mono"
	"github.com/leasehold/leasehold/internal/worker"
)

// Fleet is a set of worker processes on one lease.
type Fleet struct {
	// Path is the lease path, for the caller's reference.
	Path string

	newCmd func() *exec.Cmd

	mu      sync.Mutex
	log     []worker.Event
	bad     []string // lines that did not parse
	workers []*Worker
	grew    chan struct{} // closed and replaced when log grows
	exited  chan struct{} // closed and replaced when a worker exits
}

// Worker is one worker process.
type Worker struct {
	ID    int
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan struct{}
	err   error // the exit status, after done
}

// New returns an empty Fleet; newCmd makes the command of each worker,
// with the worker environment set.
func New(newCmd func() *exec.Cmd) *Fleet {
	return &Fleet{newCmd: newCmd, grew: make(chan struct{}), exited: make(chan struct{})}
}

// Env returns the environment of a worker on path.
func Env(path string, ttl, renew time.Duration, extra ...string) []string {
	env := append(os.Environ(),
		"GORACE=atexit_sleep_ms=0", // a race-enabled worker would linger a second at exit
		worker.EnvPath+"="+path,
		worker.EnvTTL+"="+ttl.String(),
		worker.EnvRenew+"="+renew.String())
	return append(env, extra...)
}

// Launch starts n workers of exe on a new lease, owner.lease in dir; extra
// is added to their environment and args passed to exe (a test binary
// needs "-test.run=^$").
func Launch(exe string, args []string, dir string, n int, ttl, renew time.Duration, extra ...string) (*Fleet, error) {
	path := filepath.Join(dir, "owner.lease")
	env := Env(path, ttl, renew, extra...)
	f := New(func() *exec.Cmd {
		cmd := exec.Command(exe, args...)
		cmd.Env = env
		return cmd
	})
	f.Path = path
	for range n {
		if _, err := f.Start(); err != nil {
			f.Close()
			return nil, err
		}
	}
	return f, nil
}

// Start starts one more worker.
func (f *Fleet) Start() (*Worker, error) {
	cmd := f.newCmd()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	w := &Worker{ID: len(f.workers), cmd: cmd, stdin: stdin, done: make(chan struct{})}
	f.workers = append(f.workers, w)
	f.mu.Unlock()
	go func() {
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			f.add(w.ID, s.Text())
		}
		w.err = cmd.Wait()
		close(w.done)
		f.mu.Lock()
		close(f.exited)
		f.exited = make(chan struct{})
		f.mu.Unlock()
	}()
	return w, nil
}

func (f *Fleet) add(id int, line string) {
	e, err := worker.Parse(line)
	f.mu.Lock()
	defer f.mu.Unlock()
	if err != nil {
		f.bad = append(f.bad, fmt.Sprintf("worker %d: %s", id, line))
		return
	}
	e.Worker = id
	f.log = append(f.log, e)
	close(f.grew)
	f.grew = make(chan struct{})
}

// Workers returns the workers started so far.
func (f *Fleet) Workers() []*Worker {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*Worker(nil), f.workers...)
}

// Log returns the events received so far, in the order received.
func (f *Fleet) Log() []worker.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]worker.Event(nil), f.log...)
}

// BadLines returns the output lines that were not events.
func (f *Fleet) BadLines() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.bad...)
}

// Mark returns the position of the next event, for Await.
func (f *Fleet) Mark() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.log)
}

// Await returns the first event at or after position from that match
// reports true for, and its position, waiting for it until ctx is done.
func (f *Fleet) Await(ctx context.Context, from int, match func(worker.Event) bool) (worker.Event, int, error) {
	for i := from; ; {
		f.mu.Lock()
		for ; i < len(f.log); i++ {
			if match(f.log[i]) {
				e := f.log[i]
				f.mu.Unlock()
				return e, i, nil
			}
		}
		grew := f.grew
		f.mu.Unlock()
		select {
		case <-grew:
		case <-ctx.Done():
			return worker.Event{}, i, fmt.Errorf("fleet: no such event: %w", context.Cause(ctx))
		}
	}
}

// Live returns the workers that have not exited.
func (f *Fleet) Live() []*Worker {
	var live []*Worker
	for _, w := range f.Workers() {
		select {
		case <-w.done:
		default:
			live = append(live, w)
		}
	}
	return live
}

// exitSignal returns a channel closed at the next exit of a worker.
func (f *Fleet) exitSignal() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.exited
}

// Close kills every worker still running and waits for them. A
// Supervisor of f must be stopped first.
func (f *Fleet) Close() {
	for _, w := range f.Workers() {
		_ = w.cmd.Process.Signal(syscall.SIGCONT)
		_ = w.cmd.Process.Kill()
		<-w.done
	}
}

// Signal sends sig to the worker and returns mono.Now from just before.
func (w *Worker) Signal(sig syscall.Signal) (int64, error) {
	t := mono.Now()
	return t, w.cmd.Process.Signal(sig)
}

// Send writes a command line to the worker's standard input.
func (w *Worker) Send(cmd string) error {
	_, err := io.WriteString(w.stdin, cmd+"\n")
	return err
}

// Pid returns the worker's process id.
func (w *Worker) Pid() int { return w.cmd.Process.Pid }

// Done is closed when the process has exited.
func (w *Worker) Done() <-chan struct{} { return w.done }

// Err returns the exit status, once Done is closed.
func (w *Worker) Err() error { return w.err }
