// Package history judges what worker processes report: whether the lease
// ever had two owners, and how long it had none.
package history

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/leasehold/leasehold/internal/worker"
)

// Violations returns every breach of the safety rules in log, described:
//   - a Check of a lower epoch that began after a Check of a higher epoch
//     had completed (two owners, or an owner that came back from the dead);
//   - an epoch acquired by two workers, or twice;
//   - epochs whose first successful Checks are not in increasing order.
func Violations(log []worker.Event) []string {
	type span struct {
		minAfter, maxBefore int64
		worker              int
	}
	spans := map[uint64]*span{}
	for _, e := range log {
		if e.Kind != worker.OK {
			continue
		}
		s := spans[e.Epoch]
		if s == nil {
			s = &span{minAfter: e.T2, maxBefore: e.T1, worker: e.Worker}
			spans[e.Epoch] = s
		}
		s.minAfter = min(s.minAfter, e.T2)
		s.maxBefore = max(s.maxBefore, e.T1)
	}
	var out []string
	epochs := make([]uint64, 0, len(spans))
	for e := range spans {
		epochs = append(epochs, e)
	}
	slices.Sort(epochs)
	var (
		latest      int64 // the latest start of a successful Check of a lower epoch
		latestEpoch uint64
	)
	for i, e := range epochs {
		s := spans[e]
		if i > 0 && latest > s.minAfter {
			out = append(out, fmt.Sprintf("overlap: epoch %d (worker %d) passed Check %v after epoch %d (worker %d) had",
				latestEpoch, spans[latestEpoch].worker, ns(latest-s.minAfter), e, s.worker))
		}
		if s.maxBefore > latest {
			latest, latestEpoch = s.maxBefore, e
		}
	}

	owners := map[uint64]int{}
	for _, e := range log {
		if e.Kind != worker.Acquired {
			continue
		}
		if w, ok := owners[e.Epoch]; ok {
			out = append(out, fmt.Sprintf("epoch %d acquired twice (workers %d and %d)", e.Epoch, w, e.Worker))
		}
		owners[e.Epoch] = e.Worker
	}
	slices.SortFunc(epochs, func(a, b uint64) int { return cmp.Compare(spans[a].minAfter, spans[b].minAfter) })
	for i := 1; i < len(epochs); i++ {
		if epochs[i] < epochs[i-1] {
			out = append(out, fmt.Sprintf("epoch went backwards: %d first passed Check after %d", epochs[i], epochs[i-1]))
		}
	}
	return out
}

type ns int64

func (d ns) String() string { return fmt.Sprintf("%.3fms later", float64(d)/1e6) }

// Tenure is the span over which one epoch passed Check: from the end of
// its first successful Check to the start of its last.
type Tenure struct {
	Epoch       uint64
	Worker      int
	First, Last int64
}

// Tenures returns the tenures in log, in order of their first Check.
func Tenures(log []worker.Event) []Tenure {
	by := map[uint64]*Tenure{}
	for _, e := range log {
		if e.Kind != worker.OK {
			continue
		}
		t := by[e.Epoch]
		if t == nil {
			by[e.Epoch] = &Tenure{Epoch: e.Epoch, Worker: e.Worker, First: e.T2, Last: e.T1}
			continue
		}
		t.First = min(t.First, e.T2)
		t.Last = max(t.Last, e.T1)
	}
	out := make([]Tenure, 0, len(by))
	for _, t := range by {
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, b Tenure) int { return cmp.Compare(a.First, b.First) })
	return out
}

// Fault is something done to the workers, at T (mono.Now).
type Fault struct {
	Kind string
	T    int64
}

// Gap is a time with no owner: from the last Check of one tenure to the
// first of the next, with the fault that began it.
type Gap struct {
	From, To      int64
	Before, After uint64 // the epochs around it
	Cause         string // the first fault injected after the last Check, or "none"
}

// causeSlack is how long before the last successful Check a fault may
// have been injected and still be what ended the tenure: a check in
// flight when the owner was killed or frozen ends after the signal.
const causeSlack = 5_000_000 // 5 ms

// Gaps returns the times between consecutive tenures that do not overlap
// (an overlap is a violation, see Violations); faults must be in time
// order.
func Gaps(tenures []Tenure, faults []Fault) []Gap {
	var out []Gap
	for i := 1; i < len(tenures); i++ {
		a, b := tenures[i-1], tenures[i]
		if b.First < a.Last {
			continue
		}
		g := Gap{From: a.Last, To: b.First, Before: a.Epoch, After: b.Epoch, Cause: "none"}
		j, _ := slices.BinarySearchFunc(faults, a.Last-causeSlack, func(f Fault, t int64) int { return cmp.Compare(f.T, t) })
		if j < len(faults) && faults[j].T <= b.First {
			g.Cause = faults[j].Kind
		}
		out = append(out, g)
	}
	return out
}
