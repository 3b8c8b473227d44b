//go:build unix

package supervise

import (
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

// forwarded are the signals Run passes on to the child's process group.
var forwarded = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP}

// platform is what a child's process group needs beyond its leader's id:
// nothing on Unix.
type platform struct{}

// prepare puts the child in a process group of its own, whose id is its
// process id, and arranges for it to die with the supervisor where the
// system allows.
func prepare(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	parentDeath(cmd.SysProcAttr)
}

func (*platform) attach(*os.Process) error { return nil }

func (*platform) close() {}

// signal sends sig to the child's process group, unless the child has
// been reaped: then its id may be another's.
func (c *child) signal(sig os.Signal) {
	s, ok := sig.(syscall.Signal)
	if !ok {
		return
	}
	select {
	case <-c.done:
	default:
		_ = syscall.Kill(-c.pid(), s)
	}
}

func (c *child) terminate() { c.signal(syscall.SIGTERM) }

func (c *child) kill() { c.signal(syscall.SIGKILL) }

// exitCode returns a process's status as a shell reports it.
func exitCode(ps *os.ProcessState) int {
	if ps == nil {
		return ExitFailed
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// sigName returns a signal's name, such as SIGTERM.
func sigName(sig os.Signal) string {
	if s, ok := sig.(syscall.Signal); ok {
		if n := unix.SignalName(s); n != "" {
			return n
		}
	}
	return sig.String()
}

func signum(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return int(s)
	}
	return 0
}
