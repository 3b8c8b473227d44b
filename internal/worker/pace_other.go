//go:build !linux

package worker

import "time"

// sleepUntil sleeps until t. (Only Linux's Go timers are known to wait
// in whole milliseconds.)
func sleepUntil(t time.Time) { time.Sleep(time.Until(t)) }
