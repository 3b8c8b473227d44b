//go:build unix

package supervise_test

import (
	"bufio"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/leasehold/leasehold/internal/mono"
	"github.com/leasehold/leasehold/internal/supervise"
)

// childMain is a child: it appends its events to the file named by
// envEvents, one a line: kind, epoch, pid, parent pid, the monotonic
// clock in ns, then what the kind adds. Its start line lists the other
// children still alive as it starts (alive=pid,pid), its lease and its
// instance id, from the supervisor's variables.
func childMain() int {
	term := make(chan os.Signal, 4)
	signal.Notify(term, syscall.SIGTERM)
	f, err := os.OpenFile(os.Getenv(envEvents), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 99
	}
	record := func(kind, extra string) {
		fmt.Fprintf(f, "%s %s %d %d %d %s\n", kind, os.Getenv(supervise.EnvEpoch), os.Getpid(), os.Getppid(), mono.Now(), extra)
	}
	alive := strings.Join(othersAlive(os.Getenv(envEvents)), ",")
	record("start", fmt.Sprintf("alive=%s lease=%s id=%s", alive, os.Getenv(supervise.EnvLease), os.Getenv(supervise.EnvInstanceID)))
	mode, arg, _ := strings.Cut(os.Getenv(envChild), ":")
	code, err := strconv.Atoi(arg)
	if err != nil {
		code = 5
	}
	if mode == "exit" {
		record("exit", arg)
		return code
	}
	for range term {
		record("term", "")
		if mode != "ignore" {
			record("exit", strconv.Itoa(code))
			return code
		}
	}
	return 0
}

// othersAlive returns the pids of the children in the events file, other
// than this process, that are still alive.
func othersAlive(events string) []string {
	f, err := os.Open(events)
	if err != nil {
		return nil
	}
	defer f.Close()
	var alive []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		e, ok := parseEvent(sc.Text())
		if ok && e.kind == "start" && e.pid != os.Getpid() && isAlive(e.pid) {
			alive = append(alive, strconv.Itoa(e.pid))
		}
	}
	return alive
}

// isAlive reports whether pid is a process that has not exited (a zombie
// has).
func isAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return syscall.Kill(pid, 0) == nil // no /proc: a zombie counts as alive
	}
	_, after, ok := strings.Cut(string(b), ") ")
	return ok && after != "" && after[0] != 'Z' && after[0] != 'X'
}

// event is a line of the events file.
type event struct {
	kind      string
	epoch     uint64
	pid, ppid int
	t         int64 // mono.Now
	extra     map[string]string
}

func parseEvent(line string) (event, bool) {
	f := strings.Fields(line)
	if len(f) < 5 {
		return event{}, false
	}
	var e event
	var err [4]error
	e.kind = f[0]
	e.epoch, err[0] = strconv.ParseUint(f[1], 10, 64)
	e.pid, err[1] = strconv.Atoi(f[2])
	e.ppid, err[2] = strconv.Atoi(f[3])
	e.t, err[3] = strconv.ParseInt(f[4], 10, 64)
	for _, x := range err {
		if x != nil {
			return event{}, false
		}
	}
	e.extra = map[string]string{}
	for _, kv := range f[5:] {
		k, v, _ := strings.Cut(kv, "=")
		e.extra[k] = v
	}
	return e, true
}
