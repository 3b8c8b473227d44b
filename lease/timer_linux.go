package lease

import (
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// fdTimer is a timer of the kernel's (a timerfd on the monotonic clock),
// read through the runtime's poller. Moving it on is one system call that
// the runtime does not see: unlike a timer of the runtime, which wakes the
// process at every deadline it was ever set to, it wakes the process only
// when it fires. A follower's Wait uses it, so that a renewal heard moves
// its expiry on at no further cost.
type fdTimer struct {
	fd   int
	file *os.File
	c    chan time.Time
	done chan struct{}
}

// newKernelTimer returns a timer that fires once after d, or nil if the
// kernel gives none.
func newKernelTimer(d time.Duration) Timer {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil
	}
	t := &fdTimer{fd: fd, file: os.NewFile(uintptr(fd), "timerfd"), c: make(chan time.Time, 1), done: make(chan struct{})}
	t.Reset(d)
	go t.run()
	return t
}

func (t *fdTimer) run() {
	defer close(t.done)
	var buf [8]byte
	for {
		if _, err := t.file.Read(buf[:]); err != nil {
			return
		}
		select {
		case t.c <- time.Now():
		default:
		}
	}
}

func (t *fdTimer) C() <-chan time.Time { return t.c }

// Reset sets the timer to fire once after d.
func (t *fdTimer) Reset(d time.Duration) bool {
	d = max(d, time.Nanosecond) // zero would disarm it
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
	_, _, errno := syscall.RawSyscall6(unix.SYS_TIMERFD_SETTIME, uintptr(t.fd), 0, uintptr(unsafe.Pointer(&spec)), 0, 0, 0)
	return errno == 0
}

// Stop closes the timer and waits for its reader to end.
func (t *fdTimer) Stop() bool {
	_ = t.file.Close()
	<-t.done
	return true
}
