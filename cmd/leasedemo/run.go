//go:build unix

package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// loop is the supervised command: a shell loop that prints its epoch.
const loop = `echo "child pid=$$ epoch=$LEASEHOLD_EPOCH started"; while :; do echo "child pid=$$ epoch=$LEASEHOLD_EPOCH working"; sleep 0.25; done`

// runDemo holds the supervisors of the run demonstration.
type runDemo struct {
	leasehold, lease string
	ttl              time.Duration
	start            time.Time

	mu     sync.Mutex
	sups   []*supervisor
	starts []childStart // in the order printed
	grew   chan struct{}
}

type supervisor struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	code int
}

type childStart struct {
	sup   *supervisor
	pid   int
	epoch uint64
	at    time.Time
}

func runMain(leasehold string, ttl time.Duration) int {
	dir, err := os.MkdirTemp("", "leasedemo-run")
	if err != nil {
		fmt.Println("DEMO FAILED:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	d := &runDemo{leasehold: leasehold, lease: filepath.Join(dir, "owner.lease"), ttl: ttl, start: time.Now(), grew: make(chan struct{})}
	err = d.run()
	d.stopAll()
	if err != nil {
		fmt.Printf("\nDEMO FAILED: %v\n", err)
		return 1
	}
	fmt.Println("\ndemo finished: one child at a time, each with a higher epoch")
	return 0
}

func (d *runDemo) say(format string, args ...any) {
	fmt.Printf("%8.3fs ==> %s\n", time.Since(d.start).Seconds(), fmt.Sprintf(format, args...))
}

func (d *runDemo) launch(name string) error {
	cmd := exec.Command(d.leasehold, "run", "--lease", d.lease, "--", "sh", "-c", loop)
	cmd.Env = append(os.Environ(), "OWNER_TTL="+d.ttl.String())
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	errOut, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	s := &supervisor{name: name, cmd: cmd, done: make(chan struct{})}
	d.mu.Lock()
	d.sups = append(d.sups, s)
	d.mu.Unlock()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); d.relay(s, out) }()
	go func() { defer wg.Done(); d.relay(s, errOut) }()
	go func() {
		wg.Wait()
		err := cmd.Wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			s.code = ee.ExitCode()
		}
		close(s.done)
		d.changed()
	}()
	d.say("started supervisor %s (pid %d)", name, cmd.Process.Pid)
	return nil
}

// relay prints what a supervisor and its child write, and notes each
// child's start.
func (d *runDemo) relay(s *supervisor, r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		fmt.Printf("%8.3fs [%s] %s\n", time.Since(d.start).Seconds(), s.name, line)
		f := fields(line)
		if strings.HasSuffix(line, " started") && f["pid"] != "" {
			pid, _ := strconv.Atoi(f["pid"])
			epoch, _ := strconv.ParseUint(f["epoch"], 10, 64)
			d.mu.Lock()
			d.starts = append(d.starts, childStart{sup: s, pid: pid, epoch: epoch, at: time.Now()})
			d.mu.Unlock()
			d.changed()
		}
	}
}

func (d *runDemo) changed() {
	d.mu.Lock()
	defer d.mu.Unlock()
	close(d.grew)
	d.grew = make(chan struct{})
}

// next waits for a child started after the n first, with an epoch above
// the last of those.
func (d *runDemo) next(n int) (childStart, error) {
	end := time.After(10*d.ttl + 10*time.Second)
	for {
		d.mu.Lock()
		starts, grew := d.starts, d.grew
		d.mu.Unlock()
		if len(starts) > n {
			c := starts[n]
			if n > 0 && c.epoch <= starts[n-1].epoch {
				return c, fmt.Errorf("child of epoch %d started after one of epoch %d", c.epoch, starts[n-1].epoch)
			}
			return c, nil
		}
		select {
		case <-grew:
		case <-end:
			return childStart{}, errors.New("timed out waiting for a child to start")
		}
	}
}

func (d *runDemo) run() error {
	for _, n := range []string{"A", "B", "C"} {
		if err := d.launch(n); err != nil {
			return err
		}
	}
	first, err := d.next(0)
	if err != nil {
		return err
	}
	d.say("%s owns the lease and runs the loop (pid %d, epoch %d); B and C wait", first.sup.name, first.pid, first.epoch)
	time.Sleep(600 * time.Millisecond)

	d.say("SIGKILL supervisor %s: the kernel kills its child (parent-death signal) and drops its lock", first.sup.name)
	t0 := time.Now()
	_ = first.sup.cmd.Process.Signal(syscall.SIGKILL)
	second, err := d.next(1)
	if err != nil {
		return err
	}
	d.say("%s's child started %v after the SIGKILL, epoch %d -> %d", second.sup.name, second.at.Sub(t0).Round(100*time.Microsecond), first.epoch, second.epoch)
	if err := gone(first.pid, time.Second); err != nil {
		return err
	}
	d.say("the killed supervisor's child (pid %d) is gone", first.pid)
	time.Sleep(600 * time.Millisecond)

	d.say("SIGTERM supervisor %s: it forwards SIGTERM, its child exits, it releases and exits with the child's status", second.sup.name)
	t0 = time.Now()
	_ = second.sup.cmd.Process.Signal(syscall.SIGTERM)
	third, err := d.next(2)
	if err != nil {
		return err
	}
	d.say("%s's child started %v after the SIGTERM, epoch %d -> %d", third.sup.name, third.at.Sub(t0).Round(100*time.Microsecond), second.epoch, third.epoch)
	<-second.sup.done
	d.say("supervisor %s exited %d (sh killed by SIGTERM: 128+15)", second.sup.name, second.sup.code)
	time.Sleep(600 * time.Millisecond)

	d.say("SIGTERM supervisor %s", third.sup.name)
	_ = third.sup.cmd.Process.Signal(syscall.SIGTERM)
	<-third.sup.done
	d.say("supervisor %s exited %d", third.sup.name, third.sup.code)
	if second.sup.code != 143 || third.sup.code != 143 {
		return fmt.Errorf("supervisors stopped by SIGTERM exited %d and %d, want 143, their child's", second.sup.code, third.sup.code)
	}
	return nil
}

// gone waits, at most limit, until pid has exited.
func gone(pid int, limit time.Duration) error {
	for end := time.Now().Add(limit); ; time.Sleep(5 * time.Millisecond) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil && syscall.Kill(pid, 0) != nil {
			return nil
		}
		if _, after, ok := strings.Cut(string(b), ") "); ok && after != "" && after[0] == 'Z' {
			return nil
		}
		if time.Now().After(end) {
			return fmt.Errorf("the killed supervisor's child (pid %d) still runs %v later", pid, limit)
		}
	}
}

func (d *runDemo) stopAll() {
	d.mu.Lock()
	sups := append([]*supervisor(nil), d.sups...)
	d.mu.Unlock()
	for _, s := range sups {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		<-s.done
	}
}
