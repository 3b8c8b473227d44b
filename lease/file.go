package lease

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/leasehold/leasehold/internal/clock"
)

// Clock is the time source of a File: the system clock unless Options says
// otherwise. Only differences of its readings are used.
type Clock = clock.Clock

// Timer is a timer of a Clock.
type Timer = clock.Timer

// Options configures Open.
type Options struct {
	// TTL is the lease duration this participant writes into its records
	// when it holds the lease, and the least time it waits before taking
	// over a lease that is not renewed. It must be positive.
	TTL time.Duration
	// Clock is the time source; nil means the system clock.
	Clock Clock
	// AllowNetworkFS lets Open use a lease on a network file system (NFS,
	// SMB, FUSE, 9P, a remote Windows drive, ...), which it otherwise
	// refuses with ErrNetworkFS. Set it only for a file system known to
	// give locks, exclusive creation and rename the guarantees of a local
	// disk.
	AllowNetworkFS bool
}

// File is a Store kept in files on a local file system. Each participant
// opens its own File; see the package comment for the rules it follows.
type File struct {
	path string // the record
	side string // the sidecar directory
	ttl  time.Duration
	clk  Clock
	host string

	mu      sync.Mutex
	closed  bool
	closing chan struct{} // closed by Close, to end a Wait
	// What this participant last saw: the record's bytes (nil when
	// missing) and the latest claim, and since when (on clk).
	seen        []byte
	seenExists  bool
	seenAt      time.Time
	seenTop     uint64   // the latest epoch taken then
	seenClaim   uint64   // the latest epoch claimed and not withdrawn then
	observer    bool     // an Observer's: it tells the holder so, and is ranked last
	seenBeats   []byte   // the claimants' beats then; see snapshot.beats
	seenBeatsOf []uint64 // and whose they were
	seenSeq     uint64   // the count in the beat of the latest of them that was published
	seenRecOf   uint64   // the epoch of the record seen; 0 if there was none, or it was unreadable
	seenOnce    bool
	expireTTL   time.Duration  // the TTL the next expiry is judged by
	watch       uint64         // the epoch whose socket to watch; 0 for none
	contested   uint64         // the epoch whose live lock another candidate held, unclaimed
	contestedAt time.Time      // when this participant first found an epoch so, since it last saw the lease change; zero if it has not
	w           *watcher       // connection to that socket, if any
	readers     sync.WaitGroup // the goroutines reading watchers' connections
	expiry      Timer          // a Wait's timer of the kernel, moved on by renewals heard
	suspect     time.Duration  // poll delay while the holder may be gone; 0 if not

	// hook, if set by a test, is called before every step that reads or
	// changes the lease's files, locks or sockets, so that a test can
	// freeze the participant exactly there.
	hook func(point string)
	// track, if set by a test, is given every lock and listener this
	// participant opens, so that a test can drop them all as the kernel
	// does when a process dies.
	track func(io.Closer)
	// revert, set only by tests, brings back a fault the protocol once
	// had, or makes one it must not have, to show that the tests find it:
	// lockNext skipping an epoch without its tombstone, with a patience
	// that restarted whenever it found another epoch held and outlived
	// changes of the lease, and a claim not checked against the epochs
	// claimed below it since the reading (which now also stops a frozen
	// candidate's late claim); a renewal giving up on any later claim; a
	// block of epochs reserved without its fsyncs (unsyncedBlock: neither
	// its content nor its entry made durable before claims in it); a
	// block reserved in an earlier boot taken for one of this boot
	// (sameBlock), so that claims lost in a crash are made again; a claim
	// not made durable where there is no boot id (unsyncedClaim).
	revert struct{ lockNext, contested, unsyncedBlock, sameBlock, unsyncedClaim bool }
	// oplog, if set by a test, is told of every change to the files.
	oplog func(fsOp)
	// sent, if set by a test, is given every message this participant
	// sends to followers while it holds the lease.
	sent func(message)

	boot      string // the running boot's id; "" to make every claim durable
	blockSize uint64 // epochs per reserved block
	usable    uint64 // a block known reserved in this boot and durable
}

// at marks a step of the protocol; see hook.
func (f *File) at(point string) {
	if f.hook != nil {
		f.hook(point)
	}
}

// tryLock takes the live lock of epoch n without blocking: exclusive, to
// claim n or hold its tenure; shared, to find its holder gone. It reports
// false if another descriptor holds a conflicting lock.
func (f *File) tryLock(n uint64, exclusive bool) (*liveLock, bool, error) {
	if exclusive {
		f.at("lock:live")
	} else {
		f.at("rlock:live")
	}
	l, ok, err := lockFile(f.name(kindLive, n), exclusive)
	if err != nil || !ok {
		return nil, false, err
	}
	if f.track != nil {
		f.track(l)
	}
	return l, true, nil
}

// unlock drops a live lock taken by tryLock.
func (f *File) unlock(l *liveLock) error {
	f.at("unlock:live")
	return l.Unlock()
}

var _ Store = (*File)(nil)

// Open prepares the lease at path for one participant. It creates the
// parent directory (0700) and the sidecar directory path+".d" if missing.
//
// On Unix it refuses a path that is a symbolic link, and a lease file or
// directory that is owned by another user or writable by group or others,
// since another local user could then take over or redirect the lease.
// It refuses a path on a network file system unless opts.AllowNetworkFS.
// Every error names the path involved.
func Open(path string, opts Options) (*File, error) {
	if path == "" {
		return nil, errors.New("lease: empty path")
	}
	if opts.TTL <= 0 {
		return nil, fmt.Errorf("lease: TTL must be positive, got %v", opts.TTL)
	}
	if opts.Clock == nil {
		opts.Clock = clock.System
	}
	path = filepath.Clean(path)
	if err := checkLocal(path, opts.AllowNetworkFS); err != nil {
		return nil, err
	}
	if _, err := prepareDir(filepath.Dir(path), true); err != nil {
		return nil, err
	}
	if fi, err := os.Lstat(path); err == nil {
		if err := checkRecordFile(path, fi); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("lease: %w", err)
	}
	side := path + ".d"
	created, err := prepareDir(side, false)
	if err != nil {
		return nil, err
	}
	if created { // make its entry durable, since it will hold the epochs
		if err := syncDir(filepath.Dir(path)); err != nil {
			return nil, fmt.Errorf("lease: sync %s: %w", filepath.Dir(path), err)
		}
	}
	host, _ := os.Hostname()
	_, _ = time.Now().Zone() // load the local time zone now, not on a takeover's path
	return &File{
		path: path, side: side, ttl: opts.TTL, clk: opts.Clock, host: host, closing: make(chan struct{}),
		boot: bootID(), blockSize: defaultBlockSize,
	}, nil
}

// prepareDir creates dir (0700) if it is missing, reporting whether it did,
// and checks that it is a private directory.
func prepareDir(dir string, parents bool) (created bool, err error) {
	if parents {
		err = os.MkdirAll(dir, 0o700)
	} else if err = os.Mkdir(dir, 0o700); err == nil {
		created = true
	}
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return false, fmt.Errorf("lease: create directory: %w", err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return false, fmt.Errorf("lease: %w", err)
	}
	if !fi.IsDir() {
		return false, fmt.Errorf("lease: %s is not a directory", dir)
	}
	return created, checkPrivate(dir, fi)
}

func checkRecordFile(path string, fi fs.FileInfo) error {
	if err := checkRecordKind(path, fi); err != nil {
		return err
	}
	return checkPrivate(path, fi)
}

// checkRecordKind refuses a lease path that is not a regular file itself.
func checkRecordKind(path string, fi fs.FileInfo) error {
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("lease: %s is a symbolic link; a lease path must name the file itself", path)
	case fi.IsDir():
		return fmt.Errorf("lease: %s is a directory, not a lease file", path)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("lease: %s is not a regular file (mode %v)", path, fi.Mode())
	}
	return nil
}

// Path returns the path of the record.
func (f *File) Path() string { return f.path }

// TTL returns the TTL the File was opened with.
func (f *File) TTL() time.Duration { return f.ttl }

// snapshot is one reading of the lease's files.
type snapshot struct {
	raw    []byte // the record's bytes; nil when missing
	exists bool
	rec    Record
	recErr error // why rec is not valid; nil when it is
	listing
	// from is the lowest epoch whose claimant may hold the lease: the
	// latest claim whose beat shows a publication, or 0 if none does. A
	// claimant publishes only once every earlier holder is gone or
	// expired, so none below it can hold the lease. The record is not
	// trusted for this: anyone may write it.
	from uint64
	// beats holds the beat files of the claims from epoch from up, each as
	// its epoch and its bytes, and beatsOf those epochs: they change with
	// every publication of those claimants, which deleting or damaging the
	// record cannot undo.
	beats   []byte
	beatsOf []uint64
	fromSeq uint64 // the count in the beat of epoch from
}

// holder returns the record if it is valid, else the zero Record.
func (s snapshot) holder() Record {
	if s.recErr != nil {
		return Record{}
	}
	return s.rec
}

// errNotRegular is the error of reading something other than a regular
// file or a directory in the place of one of the lease's files, and
// errTooLarge of reading one larger than maxFileSize.
var (
	errNotRegular = errors.New("not a regular file")
	errTooLarge   = errors.New("larger than any file of a lease")
)

// maxFileSize bounds what is read of a lease's file: a record is a few
// hundred bytes, and messages bound it at 64 KiB.
const maxFileSize = 1 << 20

// damage reports whether err, from reading the record, means that
// something else stands in the record's place which the next rename of a
// record replaces (see renameRecord): as a garbage record does, it makes
// no decision and stops no takeover.
func damage(err error) bool {
	return errors.Is(err, errNotRegular) || errors.Is(err, errTooLarge) || errors.Is(err, syscall.EISDIR) ||
		errors.Is(err, syscall.ENXIO) || errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.EACCES)
}

// emptyDir reports whether the directory at path holds nothing.
func emptyDir(path string) bool {
	d, err := os.Open(path)
	if err != nil {
		return false
	}
	defer d.Close()
	names, err := d.Readdirnames(1)
	return len(names) == 0 && errors.Is(err, io.EOF)
}

// renameRecord renames the staged record tmp into place. An empty
// directory in the record's place (damage, which a rename does not
// replace) is removed first; a directory that holds anything is not, and
// the error names it.
func (f *File) renameRecord(tmp string) error {
	err := rename(tmp, f.path)
	if err == nil {
		return nil
	}
	if fi, serr := os.Lstat(f.path); serr != nil || !fi.IsDir() {
		return err
	}
	if rerr := os.Remove(f.path); rerr != nil {
		return fmt.Errorf("lease: %s is a directory, not a lease file, and not empty: %w", f.path, rerr)
	}
	return rename(tmp, f.path)
}

// readRecord returns a snapshot of the record alone: absent, unreadable
// (recErr), or decoded.
func (f *File) readRecord() (snapshot, error) {
	var s snapshot
	raw, err := readFile(f.path)
	switch {
	case err == nil:
		s.raw, s.exists = raw, true
		s.rec, s.recErr = DecodeRecord(raw)
	case errors.Is(err, fs.ErrNotExist):
		s.recErr = err
	case errors.Is(err, syscall.EISDIR) && !emptyDir(f.path):
		// Not damage a rename can undo: refused before any claim.
		return s, fmt.Errorf("lease: %s is a directory, not a lease file, and not empty", f.path)
	case damage(err):
		// Something else in the record's place: damage, as a garbage
		// record is, which the next rename replaces.
		s.exists, s.recErr = true, err
	default:
		return s, fmt.Errorf("lease: read record: %w", err)
	}
	return s, nil
}

func (f *File) read() (snapshot, error) {
	f.at("read:record")
	s, err := f.readRecord()
	if err != nil {
		return s, err
	}
	if s.listing, err = f.list(); err != nil {
		return s, err
	}
	s.from, s.beatsOf, s.beats, s.fromSeq = f.readBeats(s.claims)
	return s, nil
}

// readBeats reads the beats of claims from the latest down to the first
// that shows a publication (or all of them, if none does), and returns
// that claim's epoch (0 if none) and the count its beat shows, the epochs
// read and their beats, as beatsOf does.
func (f *File) readBeats(claims []uint64) (from uint64, epochs []uint64, beats []byte, seq uint64) {
	for i := len(claims) - 1; i >= 0; i-- {
		n := claims[i]
		beat := f.readBeat(n)
		epochs = append(epochs, n)
		beats = appendBeat(beats, n, beat)
		if len(beat) > 0 {
			return n, epochs, beats, seqOf(beat)
		}
	}
	return 0, epochs, beats, 0
}

// beatsOf returns the beats of epochs, each as its epoch and its bytes.
func (f *File) beatsOf(epochs []uint64) []byte {
	var b []byte
	for _, n := range epochs {
		b = appendBeat(b, n, f.readBeat(n))
	}
	return b
}

// readBeat returns the beat of epoch n: empty until its claimant has
// published, or if there is none.
func (f *File) readBeat(n uint64) []byte {
	f.at("read:beat")
	b, _ := readFile(f.name(kindBeat, n))
	return b
}

func appendBeat(b []byte, n uint64, beat []byte) []byte {
	return fmt.Appendf(b, "%d:%q;", n, beat)
}

// observe notes the lease as seen at now: the expiry clock starts when
// this participant first sees the record's bytes and the latest epoch
// taken, so a new claim, even one never published, also restarts it, and
// so does the patience for candidates that hold an epoch unclaimed.
func (f *File) observe(s snapshot, now time.Time) {
	if !f.seenOnce || !f.unchanged(s) {
		f.seen, f.seenExists, f.seenTop, f.seenAt, f.seenOnce = s.raw, s.exists, s.top(), now, true
		f.seenClaim = s.topClaim()
		f.seenBeats, f.seenBeatsOf, f.seenSeq = s.beats, s.beatsOf, s.fromSeq
		f.seenRecOf = s.holder().Epoch
		f.suspect = 0
		if !f.revert.lockNext {
			f.contested, f.contestedAt = 0, time.Time{}
		}
	}
	f.watch = s.watchEpoch()
	if f.w != nil && f.w.epoch != f.watch {
		f.dropWatcher()
	}
}

// unchanged reports whether s shows what was observed last.
func (f *File) unchanged(s snapshot) bool {
	return s.exists == f.seenExists && bytes.Equal(s.raw, f.seen) && s.top() == f.seenTop && bytes.Equal(s.beats, f.seenBeats)
}

// watchEpoch is the epoch whose socket a follower watches: the latest
// claim, which is the holder's or a candidate's about to become holder;
// 0 when the lease is free.
func (s snapshot) watchEpoch() uint64 {
	top := s.topClaim()
	if s.recErr == nil && s.rec.Released && s.rec.Epoch >= top {
		return 0
	}
	return top
}

// TryAcquire implements Store. The lease is free when
//   - no epoch was ever claimed;
//   - every claimant from the latest that has published (by its beat) up
//     is gone: its process died or its tenure ended (by release or loss),
//     so the kernel no longer holds its live lock;
//   - or neither the record, nor the latest epoch taken, nor those
//     claimants' beats have changed for a full TTL (the largest of this
//     participant's and those claimants'), as measured on this
//     participant's clock from when it first saw them.
//
// In the last case the holder may be alive but frozen; the claim is then
// kept only if the record and the beats are still unchanged after every
// earlier holder's staging file has been taken away, which proves that no
// renewal of theirs can succeed any more and that the last one began more
// than a TTL ago; otherwise the claim is withdrawn.
//
// The next epoch is taken by locking its live file first. A candidate that
// holds that lock but has not claimed the epoch yet is let finish. If one
// still has not, a TTL after this participant first found an epoch so
// (without the lease changing since), it froze there: the epoch is skipped
// by making its tombstone, which no one can claim after, and the next one
// is tried.
func (f *File) TryAcquire(ctx context.Context, c Candidate) (Lease, Record, error) {
	if c.InstanceID == "" {
		return nil, Record{}, errors.New("lease: candidate has an empty instance id")
	}
	if err := ctx.Err(); err != nil {
		return nil, Record{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, Record{}, ErrClosed
	}
	s, err := f.read()
	if err != nil {
		return nil, Record{}, err
	}
	f.observe(s, f.clk.Now())
	held := func() (Lease, Record, error) {
		return nil, s.holder(), fmt.Errorf("%w (epoch %d)", ErrHeld, max(s.top(), s.holder().Epoch))
	}
	free, expired, probes := f.decide(s)
	defer f.unlockAll(probes)
	if !free {
		return held()
	}
	next := s.top() + 1
	if next > MaxEpoch {
		return nil, s.holder(), fmt.Errorf("lease: %s: no epoch is left above %d; a claim was written by hand", f.side, next-1)
	}
	epoch, live, err := f.lockNext(s.listing, next)
	switch {
	case errors.Is(err, ErrHeld):
		return held()
	case errors.Is(err, errContested):
		f.suspect = suspectFirst
		return held()
	case err != nil:
		return nil, s.holder(), err
	case live == nil:
		// Another candidate is claiming: read again soon, and watch its
		// socket once it listens.
		f.watch, f.suspect = f.contested, suspectFirst
		return held()
	}
	l, err := f.claim(epoch, s.top(), live, c, expired, probes)
	if err != nil {
		_ = f.unlock(live)
		if errors.Is(err, ErrHeld) || errors.Is(err, ErrLost) || errors.Is(err, errContested) {
			return held() // a later epoch was claimed meanwhile
		}
		return nil, s.holder(), err
	}
	return l, l.Record(), nil
}

// decide tells whether the lease is free by the rules of TryAcquire, and
// whether by expiry. probes are the live locks it took to find the
// claimants gone; they are held until the caller has claimed.
func (f *File) decide(s snapshot) (free, expired bool, probes []*liveLock) {
	if s.topClaim() == 0 {
		return true, false, nil
	}
	if probes, ok := f.probeGone(s.claims, s.from); ok {
		return true, false, probes
	}
	f.expireTTL = f.holderTTL(s.claims, s.from)
	if f.clk.Now().Sub(f.seenAt) >= f.expireTTL {
		return true, true, nil
	}
	return false, false, nil
}

// probeGone takes a shared lock on the live file of every claim >= from.
// It reports true, with the locks, if it got all of them and there was at
// least one claim: none of those claimants still holds its tenure. A live
// file that is missing was removed with the files of old epochs, so its
// claim, made again by a candidate that resumed too late, is no tenure.
func (f *File) probeGone(claims []uint64, from uint64) ([]*liveLock, bool) {
	var locks []*liveLock
	probed := 0
	for _, n := range claims {
		if n < from {
			continue
		}
		probed++
		l, gone := f.probe(n)
		if !gone {
			f.unlockAll(locks)
			return nil, false
		}
		if l != nil {
			locks = append(locks, l)
		}
	}
	return locks, probed > 0
}

// probe takes a shared lock on the live file of epoch n. It reports
// whether no claimant holds that epoch's tenure: the lock was free (it is
// returned, held), or the live file is missing (no lock).
func (f *File) probe(n uint64) (*liveLock, bool) {
	l, ok, err := f.tryLock(n, false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, true
	}
	return l, err == nil && ok
}

// unlockAll drops those of locks that are still held.
func (f *File) unlockAll(locks []*liveLock) {
	for _, l := range locks {
		if l.Locked() {
			_ = f.unlock(l)
		}
	}
}

// holderTTL is the TTL by which expiry is judged: the largest of this
// participant's and those of the claims from epoch from up. (A claim holds
// the record its claimant publishes, TTL included.)
func (f *File) holderTTL(claims []uint64, from uint64) time.Duration {
	ttl := f.ttl
	for _, n := range claims {
		if n < from {
			continue
		}
		f.at("read:claim")
		if b, err := readFile(f.name(kindClaim, n)); err == nil {
			if r, err := DecodeRecord(b); err == nil {
				ttl = max(ttl, r.TTL)
			}
		}
	}
	return ttl
}

// maxSkips bounds the epochs one call of lockNext skips; a later call goes
// on from the last tombstone.
const maxSkips = keepEpochs

// lockNext takes the live lock of the first free epoch from first on, in
// a block reserved for this boot (see reserve), which may be further on.
// A candidate that holds the lock of an epoch it has not claimed yet is
// about to claim it, so lockNext returns no lock and the caller reads
// again soon. If an epoch is still held so a TTL after this participant
// first found one held (the lease unchanged meanwhile), its holder froze
// before claiming: lockNext makes the epoch's tombstone, so that the
// frozen candidate can never claim it, and tries the next. It returns an
// error wrapping ErrHeld if the epoch was claimed before its tombstone was
// made.
func (f *File) lockNext(ls listing, first uint64) (uint64, *liveLock, error) {
	now := f.clk.Now()
	n, err := f.reserve(ls, first)
	if err != nil {
		return 0, nil, err
	}
	for range maxSkips {
		if n > MaxEpoch {
			break
		}
		l, ok, err := f.tryLock(n, true)
		if err != nil {
			return 0, nil, fmt.Errorf("lease: lock %s: %w", f.name(kindLive, n), err)
		}
		if ok {
			f.contested, f.contestedAt = 0, time.Time{}
			return n, l, nil
		}
		if f.contestedAt.IsZero() || (f.revert.lockNext && f.contested != n) {
			f.contestedAt = now
		}
		if now.Sub(f.contestedAt) < f.ttl {
			f.contested = n
			return 0, nil, nil
		}
		if !f.revert.lockNext {
			if err := f.tombstone(n); err != nil {
				return 0, nil, err
			}
		}
		n++
		if f.boot != "" && f.blockOf(n) != f.blockOf(n-1) {
			if n, err = f.reserve(ls, n); err != nil {
				return 0, nil, err
			}
		}
	}
	return 0, nil, nil
}

// tombstone makes epoch n unclaimable: its claim becomes a directory,
// made exclusively, so a candidate's later exclusive create fails. It
// returns an error wrapping ErrHeld if n was claimed first.
func (f *File) tombstone(n uint64) error {
	f.at("mkdir:tomb")
	err := os.Mkdir(f.name(kindClaim, n), 0o700)
	switch {
	case err == nil:
		f.op(opMkdir, f.name(kindClaim, n), "", nil)
		return nil
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("%w: epoch %d claimed meanwhile", ErrHeld, n)
	}
	return fmt.Errorf("lease: %w", err)
}

// claim makes epoch durable as this candidate's, checks that nothing
// newer was claimed, takes the earlier holders' staging files away and
// publishes the record.
//
// read is the latest epoch taken in the reading that found the lease free.
// An epoch claimed since, below this candidate's own (which reserve may
// have raised above the next), may belong to a holder that reading could
// not see: the claim is then withdrawn, as it is when a later epoch was
// claimed meanwhile, so that of two candidates that read the same lease,
// the one that lists its claims second always finds the other's.
func (f *File) claim(epoch, read uint64, live *liveLock, c Candidate, expired bool, probes []*liveLock) (_ *fileLease, err error) {
	fl := &fileLease{f: f, live: live}
	// Listen before the claim is visible, so that followers who see it can
	// connect, and learn at once if this candidate dies or gives up.
	fl.listen(epoch)
	defer func() {
		if err != nil {
			fl.closeNotifier()
			if fl.beat != nil {
				_ = fl.beat.Close()
			}
		}
	}()
	now := time.Now()
	rec := Record{
		Version:    FormatVersion,
		InstanceID: c.InstanceID,
		Epoch:      epoch,
		PID:        os.Getpid(),
		Host:       f.host,
		AcquiredAt: now,
		RenewedAt:  now,
		TTL:        f.ttl,
		Meta:       maps.Clone(c.Meta),
	}
	if err := f.writeClaim(rec); err != nil {
		return nil, err
	}
	// The beat is this claimant's alone from here: no one else can claim
	// the epoch, nor claim it again.
	f.at("create:beat")
	if fl.beat, err = openBeat(f.name(kindBeat, epoch)); err != nil {
		return nil, fmt.Errorf("lease: %w", err)
	}
	f.op(opCreate, fl.beat.Name(), "", nil)
	if f.track != nil {
		f.track(fl.beat)
	}
	f.unlockAll(probes)
	l, err := f.list()
	if err != nil {
		return nil, err
	}
	if l.top() > epoch {
		return nil, fmt.Errorf("%w: epoch %d taken meanwhile", ErrHeld, l.top())
	}
	for _, n := range l.claims {
		if read < n && n < epoch && !f.revert.lockNext {
			if err := f.withdraw(epoch); err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("%w: epoch %d claimed since the lease was read, below %d", ErrHeld, n, epoch)
		}
	}
	for _, n := range l.temps {
		if n < epoch {
			f.at("remove:tmp")
			if err := os.Remove(f.name(kindTmp, n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("lease: %w", err)
			}
			f.op(opRemove, f.name(kindTmp, n), "", nil)
		}
	}
	if expired {
		f.at("read:record")
		rs, err := f.readRecord()
		if err != nil {
			return nil, err
		}
		raw, exists := rs.raw, rs.exists
		if exists != f.seenExists || !bytes.Equal(raw, f.seen) || !bytes.Equal(f.beatsOf(f.seenBeatsOf), f.seenBeats) {
			// The holder renewed after all. Withdraw the claim, so that
			// its next renewal does not take the claim for a successor.
			// The claim stays, voided, so that no one claims its epoch
			// again below what others may have listed.
			if err := f.withdraw(epoch); err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("%w: the record changed while it was being taken over", ErrHeld)
		}
	}
	fl.rec = rec
	// The epoch is durable, by its block or its claim; the record need not
	// be: after a crash a torn or lost record is replaced by the next
	// holder.
	if err := fl.publish(rec); err != nil {
		return nil, err
	}
	fl.n.notify(epoch, fl.seq, fl.pub)
	return fl, nil
}

// withdraw voids this candidate's claim of epoch: it never publishes, and
// the epoch is never used.
func (f *File) withdraw(epoch uint64) error {
	return f.writeFile(kindVoid, f.name(kindVoid, epoch), nil, 0, false)
}

// writeClaim creates claim.N exclusively, with rec's contents, and makes
// it durable unless its block is (see reserve). The file may be seen empty
// for a moment; readers of claims tolerate that.
func (f *File) writeClaim(rec Record) error {
	b, err := EncodeRecord(rec)
	if err != nil {
		return err
	}
	path := f.name(kindClaim, rec.Epoch)
	durable := f.boot == "" && !f.revert.unsyncedClaim
	if err := f.writeFile(kindClaim, path, b, os.O_EXCL, durable); err != nil {
		if _, serr := os.Lstat(path); errors.Is(err, fs.ErrExist) || serr == nil {
			// Claimed, or skipped, by another participant first. (Windows
			// may refuse an exclusive create over a directory otherwise.)
			return fmt.Errorf("%w: epoch %d taken meanwhile", ErrHeld, rec.Epoch)
		}
		return err
	}
	if !durable {
		return nil
	}
	return f.syncSide()
}

// writeFile writes b to a new or truncated file at path, a file of the
// kind given, fsyncing it if sync is set. flag is added to the open flags.
func (f *File) writeFile(kind, path string, b []byte, flag int, sync bool) error {
	f.at("create:" + kind)
	fh, err := createFile(path, flag)
	if err != nil {
		return fmt.Errorf("lease: %w", err)
	}
	f.op(opCreate, path, "", nil)
	f.at("write:" + kind)
	_, err = fh.Write(b)
	if err == nil {
		f.op(opWrite, path, "", b)
	}
	if err == nil && sync {
		f.at("sync:" + kind)
		if err = fh.Sync(); err == nil {
			f.op(opSync, path, "", nil)
		}
	}
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("lease: write %s: %w", path, err)
	}
	return nil
}

// Close implements Store. It does not end a tenure granted by TryAcquire.
func (f *File) Close() error {
	f.mu.Lock()
	if !f.closed {
		f.closed = true
		close(f.closing)
	}
	f.dropWatcher()
	f.mu.Unlock()
	f.readers.Wait() // after unlocking: a reader may be waiting for mu
	return nil
}
