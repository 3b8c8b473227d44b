package worker

import (
	"os"
	"strconv"

	"github.com/leasehold/leasehold/internal/mono"
)

// appender appends a line, the epoch and the time, to a file after each
// successful Check (EnvAppend). The file is opened at the first line, so
// that a worker which never owns never touches it; after a failed write it
// stops writing.
type appender struct {
	path   string
	f      *os.File
	buf    []byte
	broken bool
}

// write appends one line for epoch; it does nothing on a nil appender.
func (a *appender) write(epoch uint64) error {
	if a == nil || a.broken {
		return nil
	}
	if a.f == nil {
		f, err := os.OpenFile(a.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			a.broken = true
			return err
		}
		a.f = f
	}
	a.buf = strconv.AppendUint(a.buf[:0], epoch, 10)
	a.buf = append(a.buf, ' ')
	a.buf = strconv.AppendInt(a.buf, mono.Now(), 10)
	a.buf = append(a.buf, '\n')
	if _, err := a.f.Write(a.buf); err != nil {
		a.broken = true
		return err
	}
	return nil
}

func (a *appender) close() {
	if a != nil && a.f != nil {
		a.f.Close()
	}
}
