//go:build !linux

package lease

import "time"

// newKernelTimer returns nil: the runtime's timers are used instead.
func newKernelTimer(time.Duration) Timer { return nil }
