// Package lease stores a lease: a record naming one holder, a fencing epoch
// that grows with every acquisition, and the rules by which another
// participant may take the lease over.
//
// [Store] is the interface the election in package owner runs against;
// [File] implements it with files on a local file system, for processes on
// one machine. No daemon is involved: every decision is made by the file
// system or the kernel, atomically.
//
// # The guarantee
//
// An epoch is taken by creating its claim exclusively: as a file, by the
// candidate that will hold it; or as a directory, a tombstone, by a
// participant that skips the epoch (see below). Epochs are durable before
// they are used without the claim waiting for the disk: they are reserved
// a block at a time (1024 epochs), in a file that holds the identity of
// the running boot of the system and is made durable before any epoch of
// its block is claimed. Within one boot the kernel keeps every claim
// visible to every process; after a crash of the machine, claims that had
// not reached the disk may be gone, but the next boot claims only above
// every block reserved before it. Where the running boot cannot be
// identified (Windows), each claim is made durable itself, and claims go
// above every block. Either way no one can hold it afterwards, and no epoch is
// ever claimed twice: a claim withdrawn before its epoch was used, because
// the holder turned out to be alive, stays, voided by a marker beside it
// (a crash may lose the marker; the claim, durable, still keeps its epoch
// from use, and its claimant, gone, cannot publish).
// The next epoch is always the one after the latest taken, in a block of
// this boot (the first of a new block, when the next one's is an earlier
// boot's). A candidate that finds, once it has claimed, that another
// epoch above the latest it read was claimed meanwhile, below or above
// its own, withdraws: of two candidates that read the same lease, the one
// that lists the claims second always finds the other's. So no epoch
// serves two tenures and epochs never go backwards, even if the record is
// deleted or corrupted or the machine loses power.
//
// The record is what followers read to know the holder and its endpoint;
// no decision trusts it, since anyone may write it. What the decisions
// rest on is in the sidecar directory: the claims, the live locks, and
// each claimant's beat, a count of its publications that it rewrites
// right after each one, so that an empty beat means a claimant that has
// not published. The latest claimant whose beat shows a publication is
// the oldest that may still hold the lease: it published only once every
// holder before it was gone or expired. A participant takes the lease over
// only when no other holder can still be live:
//
//   - every claimant from that one up is gone: a claimant keeps a lock for
//     its whole tenure, which the kernel drops when the process dies or
//     the tenure ends (by release or loss), so a follower takes over
//     within a few milliseconds (within its poll interval, TTL/8 capped at
//     250ms, where the lease's path is too long for the holder's
//     notification socket);
//   - or nothing has changed for a full TTL (the largest of the follower's
//     and those claimants'), measured on the follower's own monotonic
//     clock from when it first saw it: not the record, not the latest
//     epoch taken, and not the beats of those claimants. A follower sees
//     them by reading the files, or by a message from the holder's
//     socket naming what the holder has just published (record and beat),
//     which it takes as a reading made when it arrives: that only ever
//     starts its clock later than the publication. A message of a
//     publication it has seen already, arriving late, changes nothing.
//     Beats show every
//     renewal even if the record was deleted, or overwritten with what the
//     follower saw before. Timestamps in the record are informational, so
//     wall-clock jumps neither expire a lease early nor keep it stuck.
//
// A renewal takes effect only if no later epoch has been claimed, neither
// before its record is renamed into place nor after its beat is written,
// and a successor by expiry makes the renewals of every earlier holder
// fail before it checks that the record and the beats are unchanged. So a
// renewal that succeeds always began before anyone else could take over,
// and showed in its beat before any successor could judge the lease
// expired: a holder whose validity ends a TTL after the start of its last
// successful renewal is never valid at the same instant as its successor.
// A renewal that finds a later claim whose claimant has not published yet
// fails but leaves the tenure to its deadline, since a takeover by expiry
// that finds the holder renewing withdraws its claim; a later claim whose
// claimant gave it up without publishing (its live lock free) does not
// stop a renewal. Once a later claimant's beat shows that it has
// published, which it does only when it has found this tenure gone or
// expired, Renew returns ErrLost, for good. A takeover frozen between its
// claim and its withdrawal does cost the holder its lease, at its
// deadline.
//
// A candidate that holds the lock of the next epoch without having
// claimed it is about to; a follower that finds one lets it finish, for
// one TTL (the follower's own) from its first attempt that found an epoch
// so held, as long as the lease does not change meanwhile. After that the
// candidate froze there: the follower makes the tombstone of every epoch
// so held and claims the next, and the frozen candidate's claim, if it
// ever resumes, fails.
//
// So a participant frozen at any point, even in the middle of its own I/O
// or holding a lock, holds the others off for a bounded time. A follower
// that keeps trying while the lease stays as it is takes it over at most
// one TTL after its first attempt that reads it so, if it finds the holder
// frozen, and one more TTL after its first attempt that finds the lease
// expired, if a candidate froze holding the next epoch: two TTLs in all,
// plus the time between its attempts.
//
// A record deleted, damaged or overwritten with any bytes is replaced by
// the holder's next renewal; epochs and the guarantees survive it. (A
// program that keeps rewriting it can keep followers waiting, since any
// change restarts their clocks, but never makes two owners.) Files in the
// sidecar directory must not be touched.
//
// On Windows, where a file open for reading cannot be renamed over, a
// participant frozen while reading the record blocks renewals and
// takeovers until it resumes; use the File there only where that is
// acceptable.
//
// Only local file systems are supported: network file systems do not give
// these guarantees for locks, exclusive creation and rename. [Open] refuses
// a lease on one it recognises ([ErrNetworkFS]) unless
// Options.AllowNetworkFS is set.
//
// # Files
//
// The file at the lease path always holds the current record, as indented
// JSON (see [Record]). A sidecar directory beside it, named after it with
// ".d" added, holds the claims, the locks, staged records, the beats, the
// reserved blocks of epochs and the holder's notification socket. Do not
// remove it while the lease is in use.
//
// # Followers
//
// A follower connected to the holder's socket is sent every publication:
// a renewal of the tenure it last read, claim, beat and record, restarts
// its expiry clock without waking anything but the connection's reader,
// so it reads no file between renewals. It reads the files when the
// holder's connection ends (its process died or its tenure ended), when
// another candidate publishes, when the holder publishes and the record
// the follower last read was not the holder's (a read takes the record
// before the beats, so it can miss a record published in between), and
// when the lease would expire. When the holder goes, the
// followers read the lease one after another, 2 ms apart in the order
// they connected, rather than all at once. Epochs above the holder's
// that no one can publish at (a withdrawn claim, a tombstone) do not
// stop a renewal from being heard.
//
// A known limit: a claim above the holder whose candidate died between
// its claim and its withdrawal (killed in the middle of a takeover by
// expiry of a holder that was only slow) stays, neither published nor
// withdrawn. The holder renews past it, but the followers watch that
// epoch's socket, which no one serves, and read the lease at their poll
// interval (TTL/8, 5 ms to 250 ms) for the rest of the holder's tenure:
// they cost what polling costs, and take over after the holder dies at
// their next reading rather than at once. Safety is not affected.
//
// Anything else in the record's place (a directory, a FIFO, a socket, a
// symbolic link, a file larger than 1 MiB) is damage, as a garbage record
// is: decisions do not rest on it, and the next publication replaces it
// (an empty directory is removed first; one that holds anything is an
// error that names it, and stops the lease until removed).
//
// # Observers
//
// [Observe] follows a lease without campaigning: a [FileObserver] reads
// the record and the sidecar directory, probes the claimants' live locks
// with a shared lock for a moment as a follower does, and never writes,
// claims or creates anything. It names the holder's [State] by the rules
// above (see FileObserver), and waits for changes on the holder's socket
// as a follower does; it tells the holder it is an observer, and is
// ranked after every follower, so it delays no takeover.
// [Observer] is the interface other stores implement too.
package lease
