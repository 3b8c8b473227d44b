//go:build linux

package worker

import (
	"time"

	"golang.org/x/sys/unix"
)

// sleepUntil sleeps in the kernel, not on a Go timer, until t.
func sleepUntil(t time.Time) {
	for d := time.Until(t); d > 0; d = time.Until(t) {
		ts := unix.NsecToTimespec(d.Nanoseconds())
		_ = unix.Nanosleep(&ts, nil) // EINTR: sleep what is left
	}
}
