package supervise

import (
	"errors"
	"os/exec"
	"runtime"
)

// child is a started command and its process group.
type child struct {
	cmd  *exec.Cmd
	sys  platform      // what the platform keeps for the group
	done chan struct{} // closed once the child is reaped
	err  error         // from Wait, other than its exit status
}

// startChild starts cmd in a process group of its own and returns once it
// runs. A goroutine waits for it; the child is reaped when done closes.
//
// On Linux the child is killed when the thread that started it exits
// (Pdeathsig is tied to the thread, not the process), and the Go runtime
// ends a thread when a goroutine locked to it exits without unlocking.
// The child is therefore started and waited for by one goroutine locked to
// its thread for the child's whole life, so that no other goroutine runs
// on that thread, and the thread ends only with the process.
func startChild(cmd *exec.Cmd) (*child, error) {
	c := &child{cmd: cmd, done: make(chan struct{})}
	prepare(cmd)
	started := make(chan error, 1)
	go c.run(started)
	if err := <-started; err != nil {
		<-c.done
		return nil, err
	}
	return c, nil
}

func (c *child) run(started chan<- error) {
	defer close(c.done)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := c.cmd.Start(); err != nil {
		started <- err
		return
	}
	if err := c.sys.attach(c.cmd.Process); err != nil {
		_ = c.cmd.Process.Kill()
		_ = c.cmd.Wait()
		c.sys.close()
		started <- err
		return
	}
	started <- nil
	// Kill what the child left in its group before reaping it, while its
	// process id cannot be reused, so that nothing of this tenure runs on
	// after the lease is released.
	c.sys.exited(c.cmd.Process.Pid)
	err := c.cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		c.err = err
	}
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// status returns the child's status as a shell reports it (its exit code,
// or 128 plus the signal that killed it) and any error of Wait other than
// the status, once done is closed. It lets go of the group: on Windows,
// closing the job kills what the child left in it.
func (c *child) status() (int, error) {
	c.sys.close()
	return exitCode(c.cmd.ProcessState), c.err
}
