//go:build windows

package mono

import "time"

// Now returns the wall clock in nanoseconds: Windows has no monotonic clock
// shared across processes that Go exposes.
func Now() int64 { return time.Now().UnixNano() }
