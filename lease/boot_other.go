//go:build !linux && !darwin && !freebsd && !netbsd && !openbsd && !dragonfly

package lease

// bootID returns "" where no identity of the running boot is known (Windows
// among others): every claim is then made durable before it is used.
func bootID() string { return "" }
