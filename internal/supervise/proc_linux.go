package supervise

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// parentDeath has the kernel send the child SIGKILL when the supervisor
// dies (more exactly, the thread that started it: see startChild).
func parentDeath(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }

// exited waits for the child to exit without reaping it, then kills what
// is left of its process group: the group's id stays the child's until
// the child is reaped, so it cannot name another's group.
func (*platform) exited(pid int) {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err == nil {
			break
		}
		if err != unix.EINTR {
			return
		}
	}
	_ = unix.Kill(-pid, unix.SIGKILL)
}
