package lease

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/leasehold/leasehold/internal/clock"
)

// State is what an Observation finds of a lease's holder.
type State int

// The states of a lease, as an Observer finds them. Only StateLive is a
// holder that may still be the owner; in every other state a follower may
// take the lease over (at once, or by expiry for StateUnrenewed).
const (
	// StateFree: nothing holds the lease. No epoch was ever claimed (no
	// lease file at all, or one left without its sidecar directory), or
	// the first claimant has not yet published its tenure.
	StateFree State = iota + 1
	// StateLive: the holder still holds its tenure (its process is alive
	// and has neither released nor closed it) and has renewed within its
	// TTL.
	StateLive
	// StateUnrenewed: the holder still holds its tenure, but has not
	// renewed within its TTL: frozen, stalled, or cut off from the store.
	// Its Check fails; a follower takes the lease over by expiry.
	StateUnrenewed
	// StateReleased: the holder gave the lease up (Release). A follower
	// takes it over at once.
	StateReleased
	// StateGone: the holder's tenure ended without a release (its process
	// died, or it closed or lost the tenure). A follower takes it over at
	// once.
	StateGone
)

var stateNames = map[State]string{
	StateFree:      "free",
	StateLive:      "live",
	StateUnrenewed: "unrenewed",
	StateReleased:  "released",
	StateGone:      "gone",
}

// String returns the state's name: "free", "live", "unrenewed",
// "released" or "gone".
func (s State) String() string {
	if n, ok := stateNames[s]; ok {
		return n
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// MarshalText implements encoding.TextMarshaler: the state's name.
func (s State) MarshalText() ([]byte, error) {
	if _, ok := stateNames[s]; !ok {
		return nil, fmt.Errorf("lease: no such state %d", int(s))
	}
	return []byte(s.String()), nil
}

// Observation is one reading of a lease by an Observer.
type Observation struct {
	// State is what the reading found of the holder.
	State State
	// Record is the holder's record: the last holder's for StateReleased
	// and StateGone, the zero Record for StateFree when there is none.
	Record Record
	// Renewed is when the holder last renewed, as well as the store can
	// tell (see the Observer's doc); the zero time without a holder, or
	// when the file store's record is missing (the holder's claim does not
	// tell its renewals).
	Renewed time.Time
	// Remaining is how long the holder's tenure has left before a
	// follower may take it over by expiry, as of the reading; 0 unless
	// State is StateLive.
	Remaining time.Duration
}

// Changed reports whether o differs from prev other than by a renewal of
// the same tenure: another state, epoch or holder, or another record of
// it (its metadata, its release). Renewals change only Renewed,
// Remaining and the record's RenewedAt and Seq.
func (o Observation) Changed(prev Observation) bool {
	a, b := o.Record, prev.Record
	return o.State != prev.State || a.Epoch != b.Epoch || a.InstanceID != b.InstanceID ||
		a.PID != b.PID || a.Host != b.Host || a.TTL != b.TTL || a.Released != b.Released ||
		!a.AcquiredAt.Equal(b.AcquiredAt) || !maps.Equal(a.Meta, b.Meta)
}

// Observer follows a lease without ever campaigning for it: it never
// claims, renews, releases or writes anything, and it never creates a
// file or a directory. An Observer is used by one goroutine at a time;
// Close may be called from any.
type Observer interface {
	// Read reads the lease once. A lease that does not exist is
	// StateFree; a lease whose record cannot be read or is not a valid
	// record is an error naming it (wrapping ErrCorrupt for bytes that are
	// not a record). It returns ErrClosed after Close.
	Read(ctx context.Context) (Observation, error)
	// Wait blocks until a Read may give an Observation that Changed from
	// the one the last Read gave. It may return early; it returns at once
	// before the first Read, ctx's error when ctx is done, and ErrClosed
	// after Close, or when Close ends it.
	Wait(ctx context.Context) error
	// Close ends a Wait in progress and releases what the Observer holds.
	// It is idempotent.
	Close() error
}

// DefaultObserveInterval is how often a FileObserver's Wait reads a lease
// that no holder holds, when ObserveOptions.Interval is 0.
const DefaultObserveInterval = time.Second

// ObserveOptions configures Observe.
type ObserveOptions struct {
	// Interval is how often Wait reads a lease that no holder holds;
	// 0 means DefaultObserveInterval.
	Interval time.Duration
	// Clock is the time source; nil means the system clock.
	Clock Clock
}

// FileObserver is an Observer of a File lease, made by Observe.
//
// It reads the lease's files and decides the State by the rules a
// follower's TryAcquire takes over by (see the package comment):
//
//   - StateFree: no epoch was ever claimed, or none was ever published
//     and there is no record: the first candidate is acquiring, and no one
//     can pass Check yet.
//   - StateReleased: the record is released, and no epoch was claimed
//     after its own, or the one claimed after it has not yet published.
//   - StateGone, also: a later claim has not yet published and the live
//     lock of the latest claimant that did is free.
//   - StateGone: the live lock of every claimant from the latest that
//     published up is free.
//   - StateUnrenewed: a claimant holds its live lock, and either nothing
//     (the record, the latest epoch taken, the claimants' beats) has
//     changed for a full TTL since this Observer first read it so, on its
//     own monotonic clock, as a follower judges; or the record's
//     renewed_at is more than its TTL ago by the wall clock, which is the
//     holder's own, on the same machine (so that a first reading finds a
//     frozen holder too), though a jump of that clock can mislead it
//     until the next renewal.
//   - StateLive: otherwise.
//
// Observation.Renewed is the record's renewed_at, and Remaining what is
// left of the TTL after it; both are informational (wall clock). A lease
// whose record was deleted while claimed shows the record of the latest
// claim that published.
//
// To find a holder gone it takes, for a moment, a shared lock on the live
// files of those claimants, as a follower does: that never delays a
// holder or a candidate, which lock only an epoch no one has claimed.
//
// While a holder holds its tenure, Wait waits as a follower does: it
// connects to the holder's notification socket, which sends it every
// renewal (a renewal restarts its expiry clock without waking Wait) and
// ends when the holder's process dies or its tenure ends; without a
// socket, it reads the lease at the follower's poll interval. So an idle
// Observer costs what an idle follower costs. Its connection's first byte
// tells the holder it is an observer: it is ranked after every follower,
// so that no follower reads the lease later for it when the holder goes
// (see the package comment), and the holder writes to it at every renewal
// as to a follower. When no
// holder holds the lease (free, released, gone), Wait reads the lease
// every ObserveOptions.Interval instead.
type FileObserver struct {
	f        *File // reading only: never opened by Open, never acquires
	interval time.Duration

	mu     sync.Mutex
	last   Observation
	read   bool // Read has given last
	closed bool
}

var _ Observer = (*FileObserver)(nil)

// Observe returns an Observer of the File lease at path. It reads nothing
// until Read: a path that does not exist, or whose directory does not,
// is a free lease then, and none is created.
func Observe(path string, opts ObserveOptions) (*FileObserver, error) {
	if path == "" {
		return nil, errors.New("lease: empty path")
	}
	if opts.Interval < 0 {
		return nil, fmt.Errorf("lease: ObserveOptions.Interval must not be negative, got %v", opts.Interval)
	}
	if opts.Interval == 0 {
		opts.Interval = DefaultObserveInterval
	}
	if opts.Clock == nil {
		opts.Clock = clock.System
	}
	path = filepath.Clean(path)
	return &FileObserver{
		f:        &File{path: path, side: path + ".d", clk: opts.Clock, closing: make(chan struct{}), observer: true},
		interval: opts.Interval,
	}, nil
}

// Path returns the path of the record observed.
func (o *FileObserver) Path() string { return o.f.path }

// Read implements Observer.
func (o *FileObserver) Read(ctx context.Context) (Observation, error) {
	if err := ctx.Err(); err != nil {
		return Observation{}, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return Observation{}, ErrClosed
	}
	obs, err := o.observe()
	if err != nil {
		return Observation{}, err
	}
	o.last, o.read = obs, true
	return obs, nil
}

// Wait implements Observer. While a holder holds its tenure (StateLive,
// StateUnrenewed), it waits as a follower's File.Wait does, on the
// holder's notification socket; otherwise it reads the lease every
// ObserveOptions.Interval.
func (o *FileObserver) Wait(ctx context.Context) error {
	o.mu.Lock()
	closed, read, last := o.closed, o.read, o.last
	o.mu.Unlock()
	switch {
	case closed:
		return ErrClosed
	case ctx.Err() != nil:
		return ctx.Err()
	case !read:
		return nil
	}
	var t Timer
	defer func() {
		if t != nil {
			t.Stop()
		}
	}()
	for {
		if last.State == StateLive || last.State == StateUnrenewed {
			if err := o.f.Wait(ctx); err != nil {
				return err
			}
		} else {
			if t == nil {
				t = o.f.clk.NewTimer(o.interval)
			} else {
				t.Reset(o.interval)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-o.f.closing:
				return ErrClosed
			case <-t.C():
			}
		}
		o.mu.Lock()
		if o.closed {
			o.mu.Unlock()
			return ErrClosed
		}
		obs, err := o.observe()
		o.mu.Unlock()
		if err != nil || obs.Changed(last) {
			return nil // the next Read reports it
		}
	}
}

// Close implements Observer.
func (o *FileObserver) Close() error {
	o.mu.Lock()
	o.closed = true
	o.mu.Unlock()
	return o.f.Close()
}

// observe reads the lease and decides its state, under o.mu.
func (o *FileObserver) observe() (Observation, error) {
	f := o.f
	f.mu.Lock() // against the reader of the holder's socket
	defer f.mu.Unlock()
	s, err := o.snapshot()
	if err != nil {
		return Observation{}, err
	}
	if s.exists && s.recErr != nil {
		why := strings.TrimPrefix(s.recErr.Error(), ErrCorrupt.Error()+": ")
		return Observation{}, fmt.Errorf("%w in %s: %s", ErrCorrupt, f.path, why)
	}
	f.observe(s, f.clk.Now())
	rec := s.rec
	// Without the record, the holder's claim names it; but the claim's
	// renewed_at is its acquisition's, which says nothing of its renewals:
	// only this observer's own clock judges it then.
	fromClaim := !s.exists && s.from > 0
	if fromClaim {
		rec = o.claimRecord(s.from)
	}
	obs := Observation{Record: rec}
	// Expiry is judged by the largest TTL of the claimants, and of the
	// record, which stands for this participant's own.
	f.ttl = rec.TTL
	free, expired, probes := f.decide(s)
	f.unlockAll(probes)
	if expired && f.expireTTL <= 0 {
		free, expired = false, false // no TTL to judge by
	}
	succeeding := s.from > 0 && s.topClaim() > s.from
	switch {
	case s.exists && rec.Released && s.watchEpoch() == 0:
		obs.State = StateReleased
	case s.topClaim() == 0, s.from == 0 && rec.Epoch == 0:
		obs.State = StateFree
	case free && expired:
		obs.State = StateUnrenewed
	case free:
		obs.State = StateGone
	// A candidate has claimed above the latest holder and not yet
	// published: the holder's tenure is over if it released or is gone.
	case succeeding && rec.Released && rec.Epoch == s.from:
		obs.State = StateReleased
	case succeeding && o.gone(s.from):
		obs.State = StateGone
	case !fromClaim && !rec.RenewedAt.IsZero() && time.Since(rec.RenewedAt) > rec.TTL:
		obs.State = StateUnrenewed
	default:
		obs.State = StateLive
	}
	if rec.Epoch != 0 && !fromClaim {
		obs.Renewed = rec.RenewedAt
	}
	switch {
	case obs.State != StateLive:
	case fromClaim:
		obs.Remaining = max(0, f.untilExpiry())
	default:
		obs.Remaining = max(0, time.Until(rec.RenewedAt.Add(rec.TTL)))
	}
	return obs, nil
}

// snapshot is File.read for an Observer: it refuses a path that is not a
// regular file, and takes a missing sidecar directory for one that holds
// nothing rather than an error.
func (o *FileObserver) snapshot() (snapshot, error) {
	f := o.f
	fi, err := os.Lstat(f.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return snapshot{}, fmt.Errorf("lease: %w", err)
	default:
		if err := checkRecordKind(f.path, fi); err != nil {
			return snapshot{}, err
		}
	}
	side, err := os.Lstat(f.side)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return f.readRecord()
	case err != nil:
		return snapshot{}, fmt.Errorf("lease: %w", err)
	case !side.IsDir():
		return snapshot{}, fmt.Errorf("lease: %s is not a directory", f.side)
	}
	return f.read()
}

// gone reports whether no claimant holds epoch n's tenure any more: its
// live lock is free, or its live file was removed.
func (o *FileObserver) gone(n uint64) bool {
	l, gone := o.f.probe(n)
	if l != nil {
		o.f.unlockAll([]*liveLock{l})
	}
	return gone
}

// claimRecord returns the record in the claim of epoch n, or the zero
// Record if it cannot be read.
func (o *FileObserver) claimRecord(n uint64) Record {
	b, err := readFile(o.f.name(kindClaim, n))
	if err != nil {
		return Record{}
	}
	r, err := DecodeRecord(b)
	if err != nil {
		return Record{}
	}
	return r
}
