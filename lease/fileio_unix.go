//go:build unix

package lease

import (
	"io/fs"
	"syscall"
)

// The lease's small files are read and written with plain system calls:
// os.File registers every file it opens with the runtime's poller, which
// costs a regular file five more system calls for nothing, on every
// renewal and takeover.

// rawFile is a file open for writing.
type rawFile struct {
	fd   int
	path string
}

// createFile opens path for writing, creating or truncating it; flag is
// added to the open flags (O_EXCL).
func createFile(path string, flag int) (*rawFile, error) {
	fd, err := ignoringEINTR(func() (int, error) {
		return syscall.Open(path, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_TRUNC|syscall.O_CLOEXEC|flag, 0o600)
	})
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return &rawFile{fd: fd, path: path}, nil
}

func (f *rawFile) Write(b []byte) (int, error) {
	written := 0
	for written < len(b) {
		n, err := ignoringEINTR(func() (int, error) { return syscall.Write(f.fd, b[written:]) })
		if err != nil {
			return written, &fs.PathError{Op: "write", Path: f.path, Err: err}
		}
		written += n
	}
	return written, nil
}

func (f *rawFile) Sync() error {
	if _, err := ignoringEINTR(func() (int, error) { return 0, syscall.Fsync(f.fd) }); err != nil {
		return &fs.PathError{Op: "sync", Path: f.path, Err: err}
	}
	return nil
}

// Close closes the file; again, it does nothing, so that a descriptor
// number the process has reused since is not closed twice.
func (f *rawFile) Close() error {
	if f.fd < 0 {
		return nil
	}
	fd := f.fd
	f.fd = -1
	if err := syscall.Close(fd); err != nil {
		return &fs.PathError{Op: "close", Path: f.path, Err: err}
	}
	return nil
}

// readFile returns the content of path.
func readFile(path string) ([]byte, error) {
	// Non-blocking, so that a FIFO put in a file's place (by anyone who
	// may write in the directory) cannot hold the reader; the file is
	// read only if it is a regular one.
	// Nor does it follow a symbolic link, and it reads no more than a
	// lease's file can hold.
	fd, err := ignoringEINTR(func() (int, error) {
		return syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NONBLOCK|syscall.O_NOFOLLOW, 0)
	})
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	switch {
	case st.Mode&syscall.S_IFMT == syscall.S_IFDIR:
		return nil, &fs.PathError{Op: "read", Path: path, Err: syscall.EISDIR}
	case st.Mode&syscall.S_IFMT != syscall.S_IFREG:
		return nil, &fs.PathError{Op: "read", Path: path, Err: errNotRegular}
	case st.Size > maxFileSize:
		return nil, &fs.PathError{Op: "read", Path: path, Err: errTooLarge}
	}
	b := make([]byte, 0, 1024)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := ignoringEINTR(func() (int, error) { return syscall.Read(fd, b[len(b):cap(b)]) })
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			return b, nil
		}
		b = b[:len(b)+n]
		if len(b) > maxFileSize {
			return nil, &fs.PathError{Op: "read", Path: path, Err: errTooLarge}
		}
	}
}

func ignoringEINTR(fn func() (int, error)) (int, error) {
	for {
		n, err := fn()
		if err != syscall.EINTR {
			return n, err
		}
	}
}

// beatFile is a holder's beat, open for its whole tenure.
type beatFile = *rawFile

// openBeat creates or truncates the beat at path, for reading and writing.
func openBeat(path string) (*rawFile, error) {
	fd, err := ignoringEINTR(func() (int, error) {
		return syscall.Open(path, syscall.O_RDWR|syscall.O_CREAT|syscall.O_TRUNC|syscall.O_CLOEXEC, 0o600)
	})
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return &rawFile{fd: fd, path: path}, nil
}

func (f *rawFile) WriteAt(b []byte, off int64) (int, error) {
	n, err := ignoringEINTR(func() (int, error) { return syscall.Pwrite(f.fd, b, off) })
	if err != nil {
		return n, &fs.PathError{Op: "write", Path: f.path, Err: err}
	}
	return n, nil
}

// Name is the file's path.
func (f *rawFile) Name() string { return f.path }
