//go:build unix

package fleet

import (
	"sync"

	"github.com/leasehold/leasehold/internal/mono"
)

// Restart is one worker that exited and the one started in its place.
type Restart struct {
	Old, New int   // worker IDs
	Exit     error // the old worker's exit status; nil if it exited 0
	At       int64 // mono.Now when the new worker had started
}

// Supervisor starts a worker in place of every worker of a fleet that
// exits, killed or not, as a service manager restarts its units, so that
// the fleet keeps its size.
type Supervisor struct {
	f    *Fleet
	stop chan struct{}
	done chan struct{}
	once sync.Once

	mu       sync.Mutex
	restarts []Restart
	err      error
}

// Supervise starts a Supervisor of f: of the workers running now and of
// every worker started later, by anyone. It must be stopped before
// f.Close, which would otherwise race with its restarts.
func (f *Fleet) Supervise() *Supervisor {
	s := &Supervisor{f: f, stop: make(chan struct{}), done: make(chan struct{})}
	replaced := map[int]bool{}
	for _, w := range f.Workers() {
		select {
		case <-w.done:
			replaced[w.ID] = true // gone before supervision began
		default:
		}
	}
	go s.run(replaced)
	return s
}

func (s *Supervisor) run(replaced map[int]bool) {
	defer close(s.done)
	for {
		exited := s.f.exitSignal() // before the scan, so no exit is missed
		for _, w := range s.f.Workers() {
			if replaced[w.ID] {
				continue
			}
			select {
			case <-w.done:
			default:
				continue
			}
			replaced[w.ID] = true
			next, err := s.f.Start()
			s.mu.Lock()
			if err != nil {
				s.err = err
				s.mu.Unlock()
				return
			}
			s.restarts = append(s.restarts, Restart{Old: w.ID, New: next.ID, Exit: w.err, At: mono.Now()})
			s.mu.Unlock()
		}
		select {
		case <-exited:
		case <-s.stop:
			return
		}
	}
}

// Stop stops restarting workers and waits until no restart is under way.
// It is safe to call more than once and from several goroutines.
func (s *Supervisor) Stop() {
	s.once.Do(func() { close(s.stop) })
	<-s.done
}

// Restarts returns the restarts so far, in order. It is safe for
// concurrent use.
func (s *Supervisor) Restarts() []Restart {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Restart(nil), s.restarts...)
}

// Err returns the error that stopped the Supervisor, if a worker could not
// be started; nil otherwise. It is safe for concurrent use.
func (s *Supervisor) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}
