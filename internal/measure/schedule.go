//go:build unix

package measure

import (
	"math/rand/v2"
	"time"
)

// Fault is a kind of fault of the loaded scenario.
type Fault string

// The faults of the loaded scenario.
const (
	FaultCrash        Fault = "crash"         // SIGKILL of the owner
	FaultGraceful     Fault = "graceful"      // SIGTERM of the owner, which calls Release
	FaultHang         Fault = "hang"          // SIGSTOP of the owner past the TTL, then SIGCONT
	FaultKillFollower Fault = "kill-follower" // SIGKILL of a follower
)

// Faults lists the faults in the order a Schedule considers them.
var Faults = []Fault{FaultCrash, FaultGraceful, FaultHang, FaultKillFollower}

// Schedule chooses faults at random, each kind until it has been done its
// quota of times, and the random pauses between them. It is not safe for
// concurrent use.
type Schedule struct {
	rng  *rand.Rand
	left map[Fault]int
}

// NewSchedule returns a Schedule of quota faults of each kind in Faults,
// reproducible from seed.
func NewSchedule(seed uint64, quota int) *Schedule {
	s := &Schedule{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), left: map[Fault]int{}}
	for _, f := range Faults {
		s.left[f] = quota
	}
	return s
}

// Next chooses the next fault, uniformly among the kinds with some quota
// left, or returns false when none has. The choice does not use the quota
// up: Done does, once the fault was done and measured, so that a fault
// that could not be measured is chosen again.
func (s *Schedule) Next() (Fault, bool) {
	var open []Fault
	for _, f := range Faults {
		if s.left[f] > 0 {
			open = append(open, f)
		}
	}
	if len(open) == 0 {
		return "", false
	}
	return open[s.rng.IntN(len(open))], true
}

// Done counts one fault of kind f as done.
func (s *Schedule) Done(f Fault) {
	if s.left[f] > 0 {
		s.left[f]--
	}
}

// Left returns how many faults of kind f are still to be done.
func (s *Schedule) Left(f Fault) int { return s.left[f] }

// Between returns a duration drawn uniformly from [lo, hi).
func (s *Schedule) Between(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(s.rng.Int64N(int64(hi-lo)))
}

// Index returns a random index into a list of n things, n > 0.
func (s *Schedule) Index(n int) int { return s.rng.IntN(n) }
