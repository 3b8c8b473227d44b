package lease

import (
	"io"
	"io/fs"
	"os"
	"syscall"
)

// createFile opens path for writing, creating or truncating it; flag is
// added to the open flags (O_EXCL).
func createFile(path string, flag int) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|flag, 0o600)
}

// readFile returns the content of path, if it is a regular file of no
// more than maxFileSize bytes.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	switch {
	case err != nil:
		return nil, err
	case fi.IsDir():
		return nil, &fs.PathError{Op: "read", Path: path, Err: syscall.EISDIR}
	case !fi.Mode().IsRegular():
		return nil, &fs.PathError{Op: "read", Path: path, Err: errNotRegular}
	case fi.Size() > maxFileSize:
		return nil, &fs.PathError{Op: "read", Path: path, Err: errTooLarge}
	}
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: path, Err: err}
	}
	if len(b) > maxFileSize {
		return nil, &fs.PathError{Op: "read", Path: path, Err: errTooLarge}
	}
	return b, nil
}

// beatFile is a holder's beat, open for its whole tenure.
type beatFile = *os.File

// openBeat creates or truncates the beat at path, for reading and writing.
func openBeat(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
}
