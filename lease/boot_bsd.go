//go:build freebsd || netbsd || openbsd || dragonfly

package lease

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// bootID identifies the running boot of the system by its boot time. A
// step of the clock may change it, which only makes the next acquisition
// reserve a new block of epochs durably.
func bootID() string {
	tv, err := unix.SysctlTimeval("kern.boottime")
	if err != nil {
		return ""
	}
	return fmt.Sprintf("boottime %d.%06d", tv.Sec, tv.Usec)
}
