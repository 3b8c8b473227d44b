package supervise

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// forwarded: the console delivers Ctrl-C to the child itself; Run only
// catches it, so that it is not killed before the child.
var forwarded = []os.Signal{os.Interrupt}

// platform holds the child's job object: the system kills every process
// in it when its last handle closes, which the supervisor holds, so the
// child and its descendants die with the supervisor.
type platform struct{ job windows.Handle }

func prepare(*exec.Cmd) {}

// attach puts the started child in a new job object. The child runs for
// a moment before it is attached: a process it starts in that moment is
// not in the job.
func (p *platform) attach(proc *os.Process) error {
	job, err := windows.CreateJobObject(nil, nil)
	if err != nil {
		return fmt.Errorf("job object: %w", err)
	}
	info := windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION{
		BasicLimitInformation: windows.JOBOBJECT_BASIC_LIMIT_INFORMATION{
			LimitFlags: windows.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
		},
	}
	if _, err := windows.SetInformationJobObject(job, windows.JobObjectExtendedLimitInformation,
		uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info))); err != nil {
		windows.CloseHandle(job)
		return fmt.Errorf("job object: %w", err)
	}
	h, err := windows.OpenProcess(windows.PROCESS_SET_QUOTA|windows.PROCESS_TERMINATE, false, uint32(proc.Pid))
	if err != nil {
		windows.CloseHandle(job)
		return fmt.Errorf("job object: %w", err)
	}
	defer windows.CloseHandle(h)
	if err := windows.AssignProcessToJobObject(job, h); err != nil {
		windows.CloseHandle(job)
		return fmt.Errorf("job object: %w", err)
	}
	p.job = job
	return nil
}

func (*platform) exited(int) {}

// close closes the job, which kills what the child left in it.
func (p *platform) close() {
	if p.job != 0 {
		windows.CloseHandle(p.job)
	}
}

func (*child) signal(os.Signal) {}

// terminate ends the job at once: Windows has no SIGTERM to send.
func (c *child) terminate() { c.kill() }

func (c *child) kill() {
	select {
	case <-c.done:
	default:
		_ = windows.TerminateJobObject(c.sys.job, 1)
	}
}

func exitCode(ps *os.ProcessState) int {
	if ps == nil {
		return ExitFailed
	}
	return ps.ExitCode()
}

func signum(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return int(s)
	}
	return 0
}

func sigName(sig os.Signal) string { return sig.String() }
