// Package clock is the time source of the lease and owner packages: the
// system clock in production, a fake one in tests, so that time rules are
// tested without sleeping.
package clock

import "time"

// Clock tells the time and starts timers. Every duration the packages
// measure is a difference of two Now values, so with the system clock it is
// taken on the monotonic clock and wall-clock jumps do not change it.
type Clock interface {
	Now() time.Time
	// NewTimer returns a timer that sends on its channel once d has passed.
	NewTimer(d time.Duration) Timer
	// AfterFunc calls f in its own goroutine once d has passed.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is the part of *time.Timer the packages use.
type Timer interface {
	// C is the timer's channel; nil for a timer made by AfterFunc.
	C() <-chan time.Time
	Stop() bool
	Reset(d time.Duration) bool
}

// System is the Clock of the operating system.
var System Clock = system{}

type system struct{}

func (system) Now() time.Time { return time.Now() }

func (system) NewTimer(d time.Duration) Timer { return sysTimer{time.NewTimer(d)} }

func (system) AfterFunc(d time.Duration, f func()) Timer { return sysTimer{time.AfterFunc(d, f)} }

type sysTimer struct{ t *time.Timer }

func (t sysTimer) C() <-chan time.Time        { return t.t.C }
func (t sysTimer) Stop() bool                 { return t.t.Stop() }
func (t sysTimer) Reset(d time.Duration) bool { return t.t.Reset(d) }
