//go:build unix

package lease

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// syncDir makes the entries of dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// rename replaces to with from. (os.Rename would first stat to, on every
// renewal, to refuse a directory there.)
func rename(from, to string) error {
	if err := syscall.Rename(from, to); err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	return nil
}

// checkPrivate refuses a lease file or directory that another local user
// could use to take over or redirect the lease.
func checkPrivate(path string, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("lease: %s is owned by uid %d, not by this user (uid %d); another user could take over the lease", path, st.Uid, os.Geteuid())
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("lease: %s is writable by group or others (mode %v); another user could take over the lease (chmod go-w %s)", path, fi.Mode().Perm(), path)
	}
	return nil
}
