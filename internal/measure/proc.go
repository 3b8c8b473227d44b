//go:build unix

package measure

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// procRoot is where the kernel's process files are: Linux's /proc. Other
// systems lack it, and what needs it fails there.
const procRoot = "/proc"

// Usage is what the kernel has counted for a process, thread by thread,
// read from outside it so that reading does not wake it.
type Usage struct {
	At      time.Time           // when the reading began
	Threads map[int]ThreadUsage // by thread id
}

// ThreadUsage is what the kernel has counted for one thread.
type ThreadUsage struct {
	OnCPU       time.Duration // schedstat's first field: time run on a CPU
	Voluntary   int64         // voluntary_ctxt_switches: times it slept and was woken
	Involuntary int64         // nonvoluntary_ctxt_switches: times it was preempted
}

// ReadUsage reads the usage of every thread of process pid from
// /proc/PID/task/*/schedstat and status.
func ReadUsage(pid int) (Usage, error) { return readUsage(procRoot, pid) }

func readUsage(root string, pid int) (Usage, error) {
	at := time.Now()
	dir := filepath.Join(root, strconv.Itoa(pid), "task")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return Usage{}, fmt.Errorf("measure: threads of %d: %w", pid, err)
	}
	u := Usage{At: at, Threads: map[int]ThreadUsage{}}
	for _, ent := range ents {
		tid, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		t, err := readThread(filepath.Join(dir, ent.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			continue // the thread exited after the listing
		}
		if err != nil {
			return Usage{}, fmt.Errorf("measure: thread %d of %d: %w", tid, pid, err)
		}
		u.Threads[tid] = t
	}
	if len(u.Threads) == 0 {
		return Usage{}, fmt.Errorf("measure: process %d has no threads left: %w", pid, fs.ErrNotExist)
	}
	return u, nil
}

func readThread(dir string) (ThreadUsage, error) {
	sched, err := os.ReadFile(filepath.Join(dir, "schedstat"))
	if err != nil {
		return ThreadUsage{}, err
	}
	status, err := os.ReadFile(filepath.Join(dir, "status"))
	if err != nil {
		return ThreadUsage{}, err
	}
	var t ThreadUsage
	if t.OnCPU, err = parseSchedstat(string(sched)); err != nil {
		return t, err
	}
	t.Voluntary, t.Involuntary, err = parseCtxSwitches(string(status))
	return t, err
}

// parseSchedstat reads the first field of a schedstat file: nanoseconds
// run on a CPU.
func parseSchedstat(text string) (time.Duration, error) {
	f := strings.Fields(text)
	if len(f) < 3 {
		return 0, fmt.Errorf("schedstat %q: want three fields", text)
	}
	ns, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil || ns < 0 {
		return 0, fmt.Errorf("schedstat %q: bad run time", text)
	}
	return time.Duration(ns), nil
}

// parseCtxSwitches reads the context switch counts of a status file.
func parseCtxSwitches(text string) (voluntary, involuntary int64, err error) {
	found := 0
	for line := range strings.Lines(text) {
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		var dst *int64
		switch key {
		case "voluntary_ctxt_switches":
			dst = &voluntary
		case "nonvoluntary_ctxt_switches":
			dst = &involuntary
		default:
			continue
		}
		n, perr := strconv.ParseInt(strings.TrimSpace(val), 10, 64)
		if perr != nil {
			return 0, 0, fmt.Errorf("status: %s: %q", key, val)
		}
		*dst = n
		found++
	}
	if found != 2 {
		return 0, 0, errors.New("status: no context switch counts")
	}
	return voluntary, involuntary, nil
}

// Cost is what a process used over a window, from two Usages.
type Cost struct {
	Window      time.Duration // between the two readings
	OnCPU       time.Duration // summed over its threads
	Voluntary   int64
	Involuntary int64
	Threads     int // at the end of the window
	// ThreadsGone counts threads that were there at the start and not at
	// the end: what they used within the window is missing from OnCPU and
	// the switch counts.
	ThreadsGone int
}

// Between returns what was used from before to after: a thread new in
// after counts whole, having started within the window.
func Between(before, after Usage) Cost {
	c := Cost{Window: after.At.Sub(before.At)}
	for tid, a := range after.Threads {
		b := before.Threads[tid] // zero for a new thread
		c.OnCPU += a.OnCPU - b.OnCPU
		c.Voluntary += a.Voluntary - b.Voluntary
		c.Involuntary += a.Involuntary - b.Involuntary
	}
	for tid := range before.Threads {
		if _, ok := after.Threads[tid]; !ok {
			c.ThreadsGone++
		}
	}
	c.Threads = len(after.Threads)
	return c
}

// Percent returns c's CPU time as a percentage of one core over its
// window.
func (c Cost) Percent() float64 {
	return 100 * float64(c.OnCPU) / float64(c.Window)
}

// PerRenewal returns c's context switches per renewal of a lease renewed
// every renew over c's window.
func (c Cost) PerRenewal(renew time.Duration) (voluntary, involuntary float64) {
	renewals := float64(c.Window) / float64(renew)
	return float64(c.Voluntary) / renewals, float64(c.Involuntary) / renewals
}

// threadStates returns the state letter of every thread of process pid
// (R, S, D, T...), from /proc/PID/task/*/stat.
func threadStates(root string, pid int) ([]byte, error) {
	dir := filepath.Join(root, strconv.Itoa(pid), "task")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var states []byte
	for _, ent := range ents {
		b, err := os.ReadFile(filepath.Join(dir, ent.Name(), "stat"))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		s, err := parseState(string(b))
		if err != nil {
			return nil, err
		}
		states = append(states, s)
	}
	return states, nil
}

// parseState returns the state field of a stat file, which follows the
// command name in parentheses (which may itself hold parentheses).
func parseState(text string) (byte, error) {
	i := strings.LastIndexByte(text, ')')
	if i < 0 || i+2 >= len(text) {
		return 0, fmt.Errorf("stat %q: no state", text)
	}
	return text[i+2], nil
}

// AwaitStopped waits until every thread of process pid has stopped, after
// a SIGSTOP: a thread inside a system call, a rename waiting on the disk
// say, finishes the call first. Without /proc it returns at once.
func AwaitStopped(pid int, limit time.Duration) error {
	if _, err := os.Stat(procRoot + "/self"); err != nil {
		return nil
	}
	end := time.Now().Add(limit)
	for {
		states, err := threadStates(procRoot, pid)
		if err != nil {
			return fmt.Errorf("measure: state of %d: %w", pid, err)
		}
		if allStopped(states) {
			return nil
		}
		if time.Now().After(end) {
			return fmt.Errorf("measure: process %d not stopped after %v: thread states %q", pid, limit, states)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

func allStopped(states []byte) bool {
	for _, s := range states {
		if s != 'T' && s != 't' {
			return false
		}
	}
	return len(states) > 0
}
