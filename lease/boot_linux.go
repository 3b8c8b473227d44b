package lease

import (
	"bytes"
	"os"
)

// bootID identifies the running boot of the system: the kernel's random
// boot id, shared by every process and container on it.
func bootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return string(bytes.TrimSpace(b))
}
