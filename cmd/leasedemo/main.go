//go:build unix

// Command leasedemo runs the failover demonstration behind make demo: it
// starts three copies of the example app on one lease, kills the owner
// (SIGKILL), stops the next one cleanly (SIGTERM), then freezes the last
// past its TTL (SIGSTOP) so that a fourth copy takes over and the frozen
// one, resumed, finds its ownership lost and exits. It prints a timeline
// and exits 0 only if every step went as the guarantees say.
//
// With -run it shows leasehold run instead (make demo-run): three
// supervisors of one shell loop, the active one killed, then stopped.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	app := flag.String("app", "", "the example app binary (built from ./examples/app)")
	ttl := flag.Duration("ttl", time.Second, "lease TTL for the demo")
	runDemo := flag.Bool("run", false, "show leasehold run failing over instead: three supervisors of a shell loop")
	leasehold := flag.String("leasehold", "", "the leasehold binary (built from ./cmd/leasehold), for -run")
	flag.Parse()
	if *runDemo {
		if *leasehold == "" {
			fmt.Fprintln(os.Stderr, "leasedemo: -run needs -leasehold")
			os.Exit(2)
		}
		os.Exit(runMain(*leasehold, *ttl))
	}
	if *app == "" {
		fmt.Fprintln(os.Stderr, "leasedemo: -app is required")
		os.Exit(2)
	}
	d, err := newDemo(*app, *ttl)
	if err == nil {
		err = d.run()
		d.stopAll()
	}
	if err != nil {
		fmt.Printf("\nDEMO FAILED: %v\n", err)
		os.Exit(1)
	}
	fmt.Println("\ndemo finished: every step behaved as guaranteed")
}

type demo struct {
	bin, dir, config string
	ttl              time.Duration
	start            time.Time

	mu    sync.Mutex
	insts []*inst
	grew  chan struct{}
}

type inst struct {
	name   string
	cmd    *exec.Cmd
	events []map[string]string
	done   chan struct{}
	code   int
}

func newDemo(bin string, ttl time.Duration) (*demo, error) {
	dir, err := os.MkdirTemp("", "leasedemo")
	if err != nil {
		return nil, err
	}
	d := &demo{bin: bin, dir: dir, ttl: ttl, start: time.Now(), grew: make(chan struct{})}
	d.config = filepath.Join(dir, "owner.yaml")
	body := fmt.Sprintf("owner:\n  lease_path: %s\n  ttl: %s\n", filepath.Join(dir, "owner.lease"), ttl)
	return d, os.WriteFile(d.config, []byte(body), 0o600)
}

func (d *demo) say(format string, args ...any) {
	fmt.Printf("%8.3fs ==> %s\n", time.Since(d.start).Seconds(), fmt.Sprintf(format, args...))
}

func (d *demo) launch(name string) (*inst, error) {
	cmd := exec.Command(d.bin, "-config", d.config, "-work", "50ms")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	in := &inst{name: name, cmd: cmd, done: make(chan struct{})}
	d.mu.Lock()
	d.insts = append(d.insts, in)
	d.mu.Unlock()
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			fmt.Printf("%8.3fs [%s] %s\n", time.Since(d.start).Seconds(), name, s.Text())
			d.mu.Lock()
			in.events = append(in.events, fields(s.Text()))
			close(d.grew)
			d.grew = make(chan struct{})
			d.mu.Unlock()
		}
		err := cmd.Wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			in.code = ee.ExitCode()
		}
		close(in.done)
		d.mu.Lock()
		close(d.grew)
		d.grew = make(chan struct{})
		d.mu.Unlock()
	}()
	d.say("started %s (pid %d)", name, cmd.Process.Pid)
	return in, nil
}

// pause lets the owner do some work, so that the state file shows it.
func (d *demo) pause() { time.Sleep(300 * time.Millisecond) }

func fields(line string) map[string]string {
	m := map[string]string{}
	for _, f := range strings.Fields(line) {
		if k, v, ok := strings.Cut(f, "="); ok {
			m[k] = v
		}
	}
	return m
}

// await waits until cond holds, re-checking on every new line.
func (d *demo) await(what string, cond func() bool) error {
	deadline := time.After(10*d.ttl + 10*time.Second)
	for {
		d.mu.Lock()
		ok := cond()
		grew := d.grew
		d.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-grew:
		case <-deadline:
			return fmt.Errorf("timed out waiting for %s", what)
		}
	}
}

// has reports whether in printed an event of kind ev (call with d.mu held).
func (in *inst) has(ev string) bool {
	for _, e := range in.events {
		if e["event"] == ev || (ev == "owner" && e["event"] == "joined" && e["role"] == "owner") {
			return true
		}
	}
	return false
}

func (d *demo) owner(among ...*inst) *inst {
	for _, in := range among {
		if in.has("owner") && !in.has("released") && !in.has("lost") && !exited(in) {
			return in
		}
	}
	return nil
}

func exited(in *inst) bool {
	select {
	case <-in.done:
		return true
	default:
		return false
	}
}

func (d *demo) run() error {
	var all []*inst
	for _, n := range []string{"A", "B", "C"} {
		in, err := d.launch(n)
		if err != nil {
			return err
		}
		all = append(all, in)
	}
	var first *inst
	if err := d.await("three joined copies and an owner", func() bool {
		for _, in := range all {
			if !in.has("joined") {
				return false
			}
		}
		first = d.owner(all...)
		return first != nil
	}); err != nil {
		return err
	}
	d.say("%s owns the lease; the others follow", first.name)
	d.pause()

	// 1. Crash.
	d.say("SIGKILL %s: the kernel drops its lock, a follower takes over at once", first.name)
	t0 := time.Now()
	_ = first.cmd.Process.Signal(syscall.SIGKILL)
	var second *inst
	if err := d.await("a takeover after SIGKILL", func() bool {
		second = d.owner(without(all, first)...)
		return second != nil
	}); err != nil {
		return err
	}
	d.say("%s took over %v after the SIGKILL", second.name, time.Since(t0).Round(time.Millisecond))
	d.pause()

	// 2. Clean handover.
	d.say("SIGTERM %s: it releases the lease and exits 0", second.name)
	t0 = time.Now()
	_ = second.cmd.Process.Signal(syscall.SIGTERM)
	rest := without(all, first, second)
	third := rest[0]
	if err := d.await("a handover after SIGTERM", func() bool { return d.owner(third) != nil }); err != nil {
		return err
	}
	d.say("%s took over %v after the SIGTERM", third.name, time.Since(t0).Round(time.Millisecond))
	d.pause()
	<-second.done
	if second.code != 0 {
		return fmt.Errorf("%s exited with %d after SIGTERM, want 0", second.name, second.code)
	}

	// 3. A frozen owner fences itself.
	fourth, err := d.launch("D")
	if err != nil {
		return err
	}
	if err := d.await("D joined", func() bool { return fourth.has("joined") }); err != nil {
		return err
	}
	d.say("SIGSTOP %s for %v (twice its TTL): D takes over one TTL after its last renewal", third.name, 2*d.ttl)
	t0 = time.Now()
	_ = third.cmd.Process.Signal(syscall.SIGSTOP)
	if err := d.await("D's takeover of the frozen owner", func() bool { return d.owner(fourth) != nil }); err != nil {
		return err
	}
	d.say("D took over %v after the SIGSTOP", time.Since(t0).Round(time.Millisecond))
	time.Sleep(time.Until(t0.Add(2 * d.ttl)))
	d.say("SIGCONT %s: its first Check fails; it stops its work and exits 3", third.name)
	_ = third.cmd.Process.Signal(syscall.SIGCONT)
	<-third.done
	if third.code != 3 {
		return fmt.Errorf("%s exited with %d after being resumed, want 3 (lost)", third.name, third.code)
	}
	d.mu.Lock()
	lost := third.has("lost")
	d.mu.Unlock()
	if !lost {
		return fmt.Errorf("%s did not report the loss", third.name)
	}

	// 4. Done.
	d.say("SIGTERM D")
	_ = fourth.cmd.Process.Signal(syscall.SIGTERM)
	<-fourth.done
	if fourth.code != 0 {
		return fmt.Errorf("%s exited with %d after SIGTERM, want 0", fourth.name, fourth.code)
	}
	return d.checkState()
}

// checkState reads the state file the owners wrote: epochs never go down.
func (d *demo) checkState() error {
	b, err := os.ReadFile(filepath.Join(d.dir, "example-state.log"))
	if err != nil {
		return err
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var last uint64
	epochs := map[uint64]int{}
	for _, l := range lines {
		var e uint64
		if _, err := fmt.Sscanf(l, "epoch=%d", &e); err != nil {
			return fmt.Errorf("state file line %q: %v", l, err)
		}
		if e < last {
			return fmt.Errorf("state file: epoch %d written after %d", e, last)
		}
		last = e
		epochs[e]++
	}
	d.say("the state file has %d lines from %d epochs, in order; the last epoch is %d", len(lines), len(epochs), last)
	return nil
}

func without(all []*inst, drop ...*inst) []*inst {
	var out []*inst
	for _, in := range all {
		keep := true
		for _, x := range drop {
			keep = keep && in != x
		}
		if keep {
			out = append(out, in)
		}
	}
	return out
}

func (d *demo) stopAll() {
	d.mu.Lock()
	insts := append([]*inst(nil), d.insts...)
	d.mu.Unlock()
	for _, in := range insts {
		_ = in.cmd.Process.Signal(syscall.SIGCONT)
		_ = in.cmd.Process.Kill()
		<-in.done
	}
	os.RemoveAll(d.dir)
}
