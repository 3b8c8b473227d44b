package worker

import (
	"runtime"
	"time"
)

// A ticker delivers the owner's check times.
type ticker interface {
	C() <-chan time.Time
	Stop()
}

// newTicker returns a ticker of period. Below a millisecond it is a pacer:
// Go's timers, waited for by the network poller in whole milliseconds on
// Linux, fire at most about once a millisecond, so a time.Ticker of 0.5 ms
// ticks half as often as asked.
func newTicker(period time.Duration) ticker {
	if period < time.Millisecond {
		return newPacer(period)
	}
	return stdTicker{time.NewTicker(period)}
}

type stdTicker struct{ t *time.Ticker }

func (s stdTicker) C() <-chan time.Time { return s.t.C }
func (s stdTicker) Stop()               { s.t.Stop() }

// pacer ticks every period from a thread of its own that sleeps in the
// kernel until each tick is due. Like a time.Ticker it drops the ticks a
// slow receiver misses, and skips those it wakes too late for.
type pacer struct {
	c    chan time.Time
	stop chan struct{}
	done chan struct{}
}

func newPacer(period time.Duration) *pacer {
	p := &pacer{c: make(chan time.Time, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go p.run(period)
	return p
}

func (p *pacer) run(period time.Duration) {
	defer close(p.done)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	next := time.Now().Add(period)
	for {
		sleepUntil(next)
		select {
		case <-p.stop:
			return
		default:
		}
		now := time.Now()
		select {
		case p.c <- now:
		default:
		}
		if next = next.Add(period); now.After(next) {
			next = now.Add(period)
		}
	}
}

func (p *pacer) C() <-chan time.Time { return p.c }

// Stop stops the pacer and waits for its goroutine to end.
func (p *pacer) Stop() {
	close(p.stop)
	<-p.done
}
