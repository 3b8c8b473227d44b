package lease

import (
	"io"
	"net"
	"syscall"
	"unsafe"
)

// readConn reads from a follower's connection to the holder. On Linux it
// reads with a raw system call, which the Go runtime does not track: a
// non-blocking read of a socket never blocks, and untracked, it does not
// wake the runtime's monitor thread, so a renewal costs a follower one
// wake-up of one thread.
func readConn(c net.Conn, buf []byte) (int, error) {
	uc, ok := c.(*net.UnixConn)
	if !ok || len(buf) == 0 {
		return c.Read(buf)
	}
	rc, err := uc.SyscallConn()
	if err != nil {
		return 0, err
	}
	var n uintptr
	var errno syscall.Errno
	err = rc.Read(func(fd uintptr) bool {
		n, _, errno = syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
		return errno != syscall.EAGAIN
	})
	switch {
	case err != nil:
		return 0, err
	case errno != 0:
		return 0, errno
	case n == 0:
		return 0, io.EOF
	}
	return int(n), nil
}

// writeConn writes b to a follower's connection without waiting: a
// follower that does not read (frozen, say) until its socket's buffer is
// full is dropped rather than let hold up a renewal. It writes with a raw
// system call, for the reason readConn reads with one.
func writeConn(c net.Conn, b []byte) error {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return writeConnDeadline(c, b)
	}
	rc, err := uc.SyscallConn()
	if err != nil {
		return err
	}
	var n uintptr
	var errno syscall.Errno
	err = rc.Write(func(fd uintptr) bool {
		n, _, errno = syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
		return true
	})
	switch {
	case err != nil:
		return err
	case errno != 0:
		return errno
	case int(n) < len(b):
		return io.ErrShortWrite
	}
	return nil
}
