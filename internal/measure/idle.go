//go:build unix

package measure

import (
	"fmt"
	"time"

	"github.com/leasehold/leasehold/internal/fleet"
	"github.com/leasehold/leasehold/internal/worker"
)

// Idle is the cost of an owner and its followers doing nothing but hold and
// watch the lease, read from /proc (ReadUsage) without waking them.
type Idle struct {
	Owner     Cost
	Followers []Cost
}

// A Probe measures something else over the same window: it is called as
// the window opens, and the function it returns as it closes.
type Probe func() (end func())

// IdleCost waits until all n workers of f have joined, lets them run for
// warmup, then reads what each uses over window, and runs probe (if not
// nil) over it too. It fails if the lease changed hands meanwhile.
func IdleCost(f *fleet.Fleet, n int, warmup, window time.Duration, probe Probe) (Idle, error) {
	for i, from := 0, 0; i < n; i++ {
		_, at, err := Await(f, from, func(e worker.Event) bool { return e.Kind == worker.Joined })
		if err != nil {
			return Idle{}, err
		}
		from = at + 1
	}
	owner, err := Owner(f)
	if err != nil {
		return Idle{}, err
	}
	time.Sleep(warmup)
	ws := f.Live()
	if len(ws) != n {
		return Idle{}, fmt.Errorf("measure: %d of %d workers running", len(ws), n)
	}
	before := make([]Usage, len(ws))
	for i, w := range ws {
		if before[i], err = ReadUsage(w.Pid()); err != nil {
			return Idle{}, err
		}
	}
	end := func() {}
	if probe != nil {
		end = probe()
	}
	time.Sleep(window)
	end()
	var idle Idle
	for i, w := range ws {
		after, err := ReadUsage(w.Pid())
		if err != nil {
			return Idle{}, err
		}
		c := Between(before[i], after)
		if w.ID == owner.Worker {
			idle.Owner = c
		} else {
			idle.Followers = append(idle.Followers, c)
		}
	}
	for _, e := range f.Log() {
		if (e.Kind == worker.Acquired && e.Epoch > owner.Epoch) || e.Kind == worker.Lost || e.Kind == worker.Error {
			return idle, fmt.Errorf("measure: the lease did not stay idle: worker %d: %s", e.Worker, e)
		}
	}
	return idle, nil
}
