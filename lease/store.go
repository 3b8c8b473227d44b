package lease

import (
	"context"
	"errors"
)

var (
	// ErrHeld is returned by Store.TryAcquire when another holder may still
	// be live, so the lease may not be taken yet.
	ErrHeld = errors.New("lease: held by another instance")
	// ErrLost is returned by Lease.Renew once another instance has taken the
	// lease over, or the lease's own files were taken away from it. It is final.
	ErrLost = errors.New("lease: lost to another instance")
	// ErrClosed is returned by the methods of a closed Store or Lease.
	ErrClosed = errors.New("lease: closed")
)

// Store is one participant's handle on one lease. The owner package runs its
// election against this interface alone, so any engine that can decide
// "one holder, strictly increasing epochs" atomically can back it. File is
// the store for processes on one machine.
//
// A Store is used by one goroutine at a time; Close may be called from any.
type Store interface {
	// TryAcquire makes one attempt to become the holder. It succeeds, with
	// a Lease whose epoch is greater than any issued before, only when no
	// other holder can still be live. The tenure is valid for a TTL from
	// when the call began, as after Renew: an attempt that was paused for
	// longer may return a Lease that is already over. Otherwise it returns ErrHeld (wrapped)
	// together with the current holder's record, or the zero Record when
	// there is no readable one. Other errors are faults of the store.
	TryAcquire(ctx context.Context, c Candidate) (Lease, Record, error)
	// Wait blocks until a new call to TryAcquire may give another answer:
	// the record changed, the holder may be gone, or it may have expired.
	// It may return early; it returns ctx's error when ctx is done.
	Wait(ctx context.Context) error
	// Close releases what the Store holds, other than a Lease it granted.
	Close() error
}

// Candidate is what an instance publishes about itself when it acquires.
type Candidate struct {
	// InstanceID must be unique to this instance; it must not be empty.
	InstanceID string
	// Meta is advertised to followers in the record.
	Meta map[string]string
}

// Lease is one tenure: granted by Store.TryAcquire, held until Release,
// Close or loss. Its methods are safe for concurrent use.
type Lease interface {
	// Record returns the record as last published.
	Record() Record
	// Renew publishes a renewal. It returns nil only if, at some instant
	// after the call began, no other instance could have held the lease.
	// ErrLost means the lease is gone for good; any other error is a fault
	// worth retrying.
	Renew(ctx context.Context) error
	// Release marks the record released if this tenure still holds it and
	// lets a successor take over at once. It implies Close.
	Release(ctx context.Context) error
	// Close ends the tenure without touching the record, as after loss.
	// A successor may then take over at once. Close is idempotent.
	Close() error
}
