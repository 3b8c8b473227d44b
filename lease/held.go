package lease

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// fileLease is a tenure of a File lease.
type fileLease struct {
	f    *File
	live *liveLock // held exclusively for the whole tenure
	beat beatFile  // beat.N, open for the whole tenure

	mu     sync.Mutex
	lost   error  // the ErrLost a renewal returned; final
	rec    Record // as last published
	seq    uint64 // publications attempted; makes every record's bytes unique
	pub    []byte // the bytes of the record last renamed into place
	closed bool
	n      *notifier
	tidy   chan struct{} // closed when the tidying after acquiring is done; nil until it starts
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
	if l.lost != nil {
		return l.lost
	}
	rec := l.rec
	rec.RenewedAt = time.Now()
	if err := l.publish(rec); err != nil {
		if errors.Is(err, ErrLost) {
			l.lost = err
		}
		return err
	}
	l.rec.RenewedAt, l.rec.Seq = rec.RenewedAt, l.seq
	l.n.notify(l.rec.Epoch, l.seq, l.pub)
	if l.tidy == nil {
		l.startTidy()
	}
	return nil
}

// startTidy removes the files of old epochs and reserves the next block of
// epochs, in the background, once the tenure has renewed: work a takeover
// need not wait for.
func (l *fileLease) startTidy() {
	done := make(chan struct{})
	l.tidy = done
	epoch := l.rec.Epoch
	tidy := func() {
		defer close(done)
		l.f.collect(epoch)
		l.f.reserveAhead(epoch)
	}
	if l.f.hook != nil { // a test stepping through the protocol sees every step in turn
		tidy()
	} else {
		go tidy()
	}
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
	if perr := l.publish(rec); perr != nil && !errors.Is(perr, ErrLost) && !errors.Is(perr, errContested) {
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
	err := l.f.unlock(l.live)
	l.closeNotifier()
	_ = l.beat.Close()
	l.f.at("remove:tmp")
	if os.Remove(l.f.name(kindTmp, l.rec.Epoch)) == nil {
		l.f.op(opRemove, l.f.name(kindTmp, l.rec.Epoch), "", nil)
	}
	if l.tidy != nil {
		<-l.tidy
	} else {
		// A tenure that never renewed removes old files as it goes, after
		// the handover, so that short tenures do not pile them up.
		l.f.collect(l.rec.Epoch)
	}
	if err != nil {
		return fmt.Errorf("lease: unlock %s: %w", l.live.Path(), err)
	}
	return nil
}

// errContested is returned (wrapped) by publish while a later epoch is
// claimed but its claimant has not published: it may yet withdraw, so the
// tenure is not lost, but it cannot be renewed meanwhile.
var errContested = errors.New("lease: a later epoch is being claimed")

// publish replaces the record with rec, if this tenure still holds the
// lease: it stages the record, checks that no later epoch was claimed and
// renames the staged file into place. A successor takes the staged file
// away after claiming, so the rename fails with ErrNotExist if it comes
// after the successor's check; a record of a superseded tenure therefore
// never replaces its successor's.
//
// A later claim ends the tenure (ErrLost) once its claimant has published;
// until then the claimant may still withdraw, after a takeover by expiry
// that found this holder renewing, so publish fails with errContested and
// leaves the tenure to its deadline. The same holds when the claimant has
// taken the staged record away.
func (l *fileLease) publish(rec Record) error {
	f := l.f
	l.seq++
	rec.Seq = l.seq
	b, err := EncodeRecord(rec)
	if err != nil {
		return err
	}
	tmp := f.name(kindTmp, rec.Epoch)
	if err := f.writeFile(kindTmp, tmp, b, 0, false); err != nil {
		return err
	}
	if err := l.checkLatest(rec.Epoch); err != nil {
		return err
	}
	f.at("rename:record")
	if err := f.renameRecord(tmp); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			// A later claimant took the staged record away; it may yet
			// withdraw, as above.
			ls, err := f.list()
			if err != nil {
				return err
			}
			if f.revert.contested || f.successorPublished(ls, rec.Epoch) {
				return fmt.Errorf("%w: staged record taken away by a successor", ErrLost)
			}
			return fmt.Errorf("%w: staged record taken away by a later claimant", errContested)
		}
		return fmt.Errorf("lease: publish %s: %w", f.path, err)
	}
	f.op(opRename, tmp, f.path, nil)
	l.pub = b
	// Count the publication where deleting or damaging the record cannot
	// undo it, then check again: a successor that claimed before the beat
	// may not have seen it, so the publication then does not count.
	// (Release publishes after the tenure has ended: nothing to count.)
	if l.closed {
		return nil
	}
	f.at("write:beat")
	beat := beatOf(l.seq)
	if _, err := l.beat.WriteAt(beat, 0); err != nil {
		return fmt.Errorf("lease: write %s: %w", l.beat.Name(), err)
	}
	f.op(opWrite, l.beat.Name(), "", beat)
	return l.checkLatest(rec.Epoch)
}

// checkLatest returns nil if epoch is still the latest claimed (a later
// claim given up without publishing does not count), ErrLost if its claim
// is gone or a later claimant has published, errContested if a later
// claim stands whose claimant has not published.
func (l *fileLease) checkLatest(epoch uint64) error {
	f := l.f
	ls, err := f.list()
	if err != nil {
		return err
	}
	if !containsEpoch(ls.claims, epoch) {
		return fmt.Errorf("%w: claim of epoch %d was removed", ErrLost, epoch)
	}
	if top := ls.topClaim(); top > epoch {
		if f.revert.contested || f.successorPublished(ls, epoch) {
			return fmt.Errorf("%w: epoch %d claimed by another instance", ErrLost, top)
		}
		for _, n := range ls.claims {
			if n > epoch && !f.abandoned(n) {
				return fmt.Errorf("%w: epoch %d, above %d", errContested, n, epoch)
			}
		}
	}
	return nil
}

// abandoned reports whether the claimant of epoch n, which has not
// published, gave its claim up: it holds its live lock from before its
// claim to the end of its tenure, so with the lock free it can never
// publish now. (A candidate that has not seen the claim may hold the lock
// for a moment, before its own claim of n fails: the renewal then only
// waits.)
func (f *File) abandoned(n uint64) bool {
	l, gone := f.probe(n)
	if l != nil {
		_ = f.unlock(l)
	}
	return gone
}

// successorPublished reports whether a claimant of a later epoch than
// epoch has published, as its beat shows, so a tenure of epoch is over.
// (The record does not tell: anyone may write it.)
func (f *File) successorPublished(ls listing, epoch uint64) bool {
	for _, n := range ls.claims {
		if n > epoch && len(f.readBeat(n)) > 0 {
			return true
		}
	}
	return false
}

// beatOf is the content of a beat after publication seq.
func beatOf(seq uint64) []byte { return fmt.Appendf(nil, "%020d\n", seq) }

// seqOf returns the count a beat shows; 0 if it shows none.
func seqOf(beat []byte) uint64 {
	seq, _ := strconv.ParseUint(strings.TrimSpace(string(beat)), 10, 64)
	return seq
}

func containsEpoch(claims []uint64, n uint64) bool {
	for _, c := range claims {
		if c == n {
			return true
		}
	}
	return false
}
