//go:build windows

package worker

// cpuTime is not measured on Windows.
func cpuTime() int64 { return -1 }
