// Package naive is the lease a newcomer writes first, kept as a baseline
// for the chaos tool and the benchmark: read the record, judge expiry by
// the wall clock in it, write it back, read it back; no lock, no liveness,
// no deadline. Ownership is a role fixed at acquisition, and loss is
// noticed only when the renewal loop next runs. It exists to be measured
// against; do not use it.
package naive

import (
	"encoding/json"
	"errors"
	"os"
	"sync"
	"time"

	"github.com/google/uuid"
)

type record struct {
	ID      string `json:"id"`
	Epoch   uint64 `json:"epoch"`
	Expires int64  `json:"expires"` // wall clock, unix ns
}

// Lease is one member of a naive election.
type Lease struct {
	path         string
	id           string
	ttl, renew   time.Duration
	acquired     chan struct{}
	lost         chan struct{}
	stop, done   chan struct{}
	mu           sync.Mutex
	owner, ended bool
	epoch        uint64
	lostErr      error
}

// Join reads the record and takes it if it is missing or expired.
func Join(path string, ttl, renew time.Duration) (*Lease, error) {
	if renew == 0 {
		renew = ttl / 3
	}
	l := &Lease{path: path, id: uuid.NewString(), ttl: ttl, renew: renew,
		acquired: make(chan struct{}), lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	if err := l.try(); err != nil {
		return nil, err
	}
	go l.loop()
	return l, nil
}

func (l *Lease) read() (record, error) {
	var r record
	b, err := os.ReadFile(l.path)
	if errors.Is(err, os.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return r, err
	}
	_ = json.Unmarshal(b, &r) // garbage reads as free
	return r, nil
}

func (l *Lease) write(r record) error {
	b, _ := json.Marshal(r)
	tmp := l.path + "." + l.id
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, l.path)
}

// try takes the lease if it is free by the record's wall clock.
func (l *Lease) try() error {
	r, err := l.read()
	if err != nil {
		return err
	}
	if r.ID != "" && time.Now().UnixNano() < r.Expires {
		l.mu.Lock()
		l.epoch = r.Epoch
		l.mu.Unlock()
		return nil
	}
	mine := record{ID: l.id, Epoch: r.Epoch + 1, Expires: time.Now().Add(l.ttl).UnixNano()}
	if err := l.write(mine); err != nil {
		return err
	}
	if back, err := l.read(); err != nil || back.ID != l.id {
		return err
	}
	l.mu.Lock()
	l.owner, l.epoch = true, mine.Epoch
	l.mu.Unlock()
	close(l.acquired)
	return nil
}

func (l *Lease) loop() {
	defer close(l.done)
	t := time.NewTicker(l.renew)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		l.mu.Lock()
		owner, epoch := l.owner, l.epoch
		l.mu.Unlock()
		if !owner {
			_ = l.try()
			continue
		}
		r, err := l.read()
		if err == nil && r.ID != l.id {
			l.mu.Lock()
			l.owner, l.ended, l.lostErr = false, true, errors.New("naive: record taken over")
			l.mu.Unlock()
			close(l.lost)
			return
		}
		_ = l.write(record{ID: l.id, Epoch: epoch, Expires: time.Now().Add(l.ttl).UnixNano()})
	}
}

// ID returns this member's id.
func (l *Lease) ID() string { return l.id }

// Epoch returns the epoch last seen or taken.
func (l *Lease) Epoch() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.epoch
}

// Check reports the role: nil while this member believes it owns.
func (l *Lease) Check() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.owner {
		return nil
	}
	if l.ended {
		return l.lostErr
	}
	return errors.New("naive: not the owner")
}

// IsOwner reports whether Check returns nil.
func (l *Lease) IsOwner() bool { return l.Check() == nil }

// Acquired is closed on acquisition.
func (l *Lease) Acquired() <-chan struct{} { return l.acquired }

// Lost is closed when the renewal loop finds another id in the record.
func (l *Lease) Lost() <-chan struct{} { return l.lost }

// LostErr says why Lost fired.
func (l *Lease) LostErr() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lostErr
}

// Release stops the loop; a naive lease leaves its record to expire.
func (l *Lease) Release() error {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	<-l.done
	l.mu.Lock()
	l.owner = false
	l.mu.Unlock()
	return nil
}
