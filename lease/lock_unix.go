//go:build unix

package lease

import (
	"errors"
	"io/fs"
	"syscall"
)

// liveLock is a lock on a live file, taken with flock(2) on a descriptor of
// its own (not an os.File, which would register it with the runtime's
// poller first), so that the kernel drops it when the process dies.
type liveLock struct {
	fd   int
	path string
	held bool
}

// lockFile takes a lock on path without blocking: exclusive (creating the
// file if needed) or shared (the file must exist). It reports false if
// another descriptor holds a conflicting lock.
func lockFile(path string, exclusive bool) (*liveLock, bool, error) {
	flag, how := syscall.O_RDONLY, syscall.LOCK_SH
	if exclusive {
		flag, how = syscall.O_RDWR|syscall.O_CREAT, syscall.LOCK_EX
	}
	fd, err := ignoringEINTR(func() (int, error) { return syscall.Open(path, flag|syscall.O_CLOEXEC, 0o600) })
	if err != nil {
		return nil, false, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	if _, err := ignoringEINTR(func() (int, error) { return 0, syscall.Flock(fd, how|syscall.LOCK_NB) }); err != nil {
		syscall.Close(fd)
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, false, nil
		}
		return nil, false, &fs.PathError{Op: "flock", Path: path, Err: err}
	}
	return &liveLock{fd: fd, path: path, held: true}, true, nil
}

// Unlock drops the lock and closes the descriptor.
func (l *liveLock) Unlock() error {
	if !l.held {
		return nil
	}
	l.held = false
	_ = syscall.Flock(l.fd, syscall.LOCK_UN)
	if err := syscall.Close(l.fd); err != nil {
		return &fs.PathError{Op: "close", Path: l.path, Err: err}
	}
	return nil
}

// Close is Unlock: what the kernel does to the locks of a process that dies.
func (l *liveLock) Close() error { return l.Unlock() }

// Locked reports whether the lock is held.
func (l *liveLock) Locked() bool { return l.held }

// Path is the live file's path.
func (l *liveLock) Path() string { return l.path }
