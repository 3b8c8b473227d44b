//go:build darwin || freebsd || dragonfly

package lease

import "golang.org/x/sys/unix"

func statFileSystem(dir string) (fileSystem, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return fileSystem{}, err
	}
	return namedFileSystem(unix.ByteSliceToString(st.Fstypename[:])), nil
}
