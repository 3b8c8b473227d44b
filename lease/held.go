package lease

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/gofrs/flock"
)

// fileLease is a tenure of a File lease.
type fileLease struct {
	f    *File
	live *flock.Flock // held exclusively for the whole tenure

	mu     sync.Mutex
	rec    Record // as last published
	seq    uint64 // publications attempted; makes every record's bytes unique
	closed bool
	n      *notifier
}

func (l *fileLease) Record() Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rec.Clone()
}

func (l *fileLease) Renew(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	rec := l.rec
	rec.RenewedAt = time.Now()
	if err := l.publish(rec); err != nil {
		return err
	}
	l.rec.RenewedAt, l.rec.Seq = rec.RenewedAt, l.seq
	l.n.notify()
	return nil
}

func (l *fileLease) Release(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	// Hand over first: a follower may take over from here on. The record
	// is then marked released for whoever reads it, unless a successor
	// has claimed since, whose record publish leaves alone.
	err := l.closeLocked()
	rec := l.rec
	rec.Released = true
	rec.RenewedAt = time.Now()
	if perr := l.publish(rec); perr != nil && !errors.Is(perr, ErrLost) {
		err = errors.Join(err, perr)
	}
	return err
}

func (l *fileLease) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closeLocked()
}

func (l *fileLease) closeLocked() error {
	if l.closed {
		return nil
	}
	l.closed = true
	// Unlock before closing the connections, so that a follower woken by
	// their end finds the lease free.
	err := l.live.Unlock()
	l.n.close()
	_ = os.Remove(l.f.name(kindTmp, l.rec.Epoch))
	if err != nil {
		return fmt.Errorf("lease: unlock %s: %w", l.live.Path(), err)
	}
	return nil
}

// publish replaces the record with rec, if this tenure still holds the
// lease: it stages the record, checks that no later epoch was claimed and
// renames the staged file into place. A successor takes the staged file
// away after claiming, so the rename fails with ErrNotExist if it comes
// after the successor's check; a record of a superseded tenure therefore
// never replaces its successor's.
func (l *fileLease) publish(rec Record) error {
	f := l.f
	l.seq++
	rec.Seq = l.seq
	b, err := EncodeRecord(rec)
	if err != nil {
		return err
	}
	tmp := f.name(kindTmp, rec.Epoch)
	if err := writeFile(tmp, b, 0, false); err != nil {
		return err
	}
	ls, err := f.list()
	if err != nil {
		return err
	}
	if !containsEpoch(ls.claims, rec.Epoch) {
		return fmt.Errorf("%w: claim of epoch %d was removed", ErrLost, rec.Epoch)
	}
	if top := ls.top(); top > rec.Epoch {
		return fmt.Errorf("%w: epoch %d claimed by another instance", ErrLost, top)
	}
	f.at("publish:rename")
	if err := rename(tmp, f.path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: staged record taken away by a successor", ErrLost)
		}
		return fmt.Errorf("lease: publish %s: %w", f.path, err)
	}
	return nil
}

func containsEpoch(claims []uint64, n uint64) bool {
	for _, c := range claims {
		if c == n {
			return true
		}
	}
	return false
}
