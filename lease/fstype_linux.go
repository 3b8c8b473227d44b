package lease

import "golang.org/x/sys/unix"

func statFileSystem(dir string) (fileSystem, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return fileSystem{}, err
	}
	// f_type is 32 bits wide on some architectures and signed on others;
	// the magic numbers are 32-bit patterns.
	return linuxFileSystem(uint32(st.Type)), nil
}
