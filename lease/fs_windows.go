//go:build windows

package lease

import (
	"errors"
	"io/fs"
	"os"
	"time"

	"golang.org/x/sys/windows"
)

// syncDir is a no-op: Windows has no way to flush a directory's entries.
func syncDir(string) error { return nil }

// rename replaces to with from. Windows refuses while another process has
// to open without FILE_SHARE_DELETE (a reader of the record), so it retries
// for a short while.
func rename(from, to string) error {
	var err error
	for i := 0; i < 50; i++ {
		err = os.Rename(from, to)
		if err == nil || !(errors.Is(err, windows.ERROR_ACCESS_DENIED) || errors.Is(err, windows.ERROR_SHARING_VIOLATION)) {
			return err
		}
		time.Sleep(time.Millisecond)
	}
	return err
}

// checkPrivate is a no-op on Windows, where files under the user's profile
// are private by their ACLs.
func checkPrivate(string, fs.FileInfo) error { return nil }
