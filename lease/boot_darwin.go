package lease

import "golang.org/x/sys/unix"

// bootID identifies the running boot of the system: the boot session UUID.
func bootID() string {
	id, err := unix.Sysctl("kern.bootsessionuuid")
	if err != nil {
		return ""
	}
	return id
}
