package supervise

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/leasehold/leasehold/owner"
)

// supervisor watches one running child for one tenure.
type supervisor struct {
	opt   *Options
	o     *owner.Owner
	c     *child
	grace time.Duration
	sigs  <-chan os.Signal

	stopping bool
	lost     bool  // stopped for ownership: the result is ExitLost
	cause    error // why the supervisor stopped the child
	kill     *time.Timer
}

// watch forwards signals to the child and stops it when ownership ends
// or is in doubt, until it exits; it returns Run's result.
func (s *supervisor) watch(ctx context.Context) (int, error) {
	doubt := time.NewTimer(stopAt(s.o.Deadline(), s.grace))
	defer doubt.Stop()
	s.kill = time.NewTimer(time.Hour)
	s.kill.Stop()
	defer s.kill.Stop()
	lost, done := s.o.Lost(), ctx.Done()
	for {
		select {
		case <-s.c.done:
			return s.result()
		case sig := <-s.sigs:
			s.opt.logf("forwarding %s to pid %d", sigName(sig), s.c.pid())
			s.c.signal(sig)
		case <-lost:
			lost = nil
			s.stop(s.o.LostErr(), true)
		case <-doubt.C:
			if err := s.o.Check(); err != nil { // lost: the deadline passed while this process was frozen
				s.stop(err, true)
				continue
			}
			if left := time.Until(s.o.Deadline()); left > s.grace {
				doubt.Reset(left - s.grace) // renewed since the timer was set
				continue
			}
			s.stop(fmt.Errorf("supervise: the lease was not renewed and its deadline is within the grace period %v", s.grace), true)
		case <-done:
			done = nil
			s.stop(context.Cause(ctx), false)
		case <-s.kill.C:
			s.opt.logf("pid %d still running after SIGTERM: SIGKILL", s.c.pid())
			s.c.kill()
		}
	}
}

// stopAt returns how long from now the supervisor waits before stopping
// the child unless a renewal moves deadline on: until Grace before it.
func stopAt(deadline time.Time, grace time.Duration) time.Duration {
	return time.Until(deadline.Add(-grace))
}

// killMargin is how long before the deadline SIGKILL is due, at most a
// quarter of Grace: enough for a timer that fires late on a busy machine
// to still kill the child before a successor can own.
const killMargin = 10 * time.Millisecond

// killAt returns when a child sent SIGTERM at term gets SIGKILL: Grace
// later, but before the deadline (by killMargin) if that is still ahead at
// term. A supervisor that learns of a loss only after the deadline (it was
// frozen) cannot meet it any more, and gives the child its Grace.
func killAt(term time.Time, grace time.Duration, deadline time.Time) time.Time {
	at := term.Add(grace)
	if !term.Before(deadline) {
		return at
	}
	if early := deadline.Add(-min(killMargin, grace/4)); early.Before(at) {
		return early
	}
	return at
}

// stop sends the child SIGTERM and arms SIGKILL; only the first call acts.
func (s *supervisor) stop(cause error, lost bool) {
	if s.stopping {
		return
	}
	s.stopping, s.cause, s.lost = true, cause, lost
	now := time.Now()
	at := killAt(now, s.grace, s.o.Deadline())
	s.opt.logf("stopping pid %d (%v): SIGTERM now, SIGKILL in %v", s.c.pid(), cause, at.Sub(now).Round(time.Millisecond))
	s.c.terminate()
	s.kill.Reset(time.Until(at))
}

// result returns Run's result once the child has exited.
func (s *supervisor) result() (int, error) {
	code, err := s.c.status()
	s.opt.logf("pid %d %s", s.c.pid(), describe(code))
	switch {
	case s.lost:
		return ExitLost, fmt.Errorf("supervise: %s stopped (%s): %w", s.opt.Command, describe(code), s.cause)
	case s.cause != nil:
		return code, s.cause
	}
	return code, err
}

// describe says how a child with the status code ended.
func describe(code int) string {
	if code > 128 {
		return fmt.Sprintf("killed by signal %d (status %d)", code-128, code)
	}
	return fmt.Sprintf("exited with status %d", code)
}
