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
// An epoch is taken by creating its claim exclusively: as a file, made
// durable before the epoch is used, by the candidate that will hold it;
// or as a directory, a tombstone, by a participant that skips the epoch
// (see below). Either way no one can hold it afterwards, so no epoch
// serves two tenures and epochs never go backwards, even if the record is
// deleted or corrupted or the machine crashes. (A claim withdrawn before
// its epoch was ever used, because the holder turned out to be alive, may
// be made again.) A participant takes the lease over only when no other
// holder can still be live:
//
//   - the holder released it, or its process is gone: the holder keeps a
//     lock for its whole tenure, which the kernel drops when the process
//     dies, so a follower takes over within a few milliseconds (within
//     its poll interval, TTL/8 capped at 250ms, where the lease's path is
//     too long for the holder's notification socket);
//   - or neither the record, nor the latest epoch taken, nor the beat of
//     any claimant from the record's epoch up (every claimant's, if the
//     record is missing, not valid, or names an epoch above the latest
//     claim) has changed for a full TTL
//     (the largest of the follower's, the record's and the claims'),
//     measured on the follower's own monotonic clock from when it first saw
//     them. A holder rewrites its beat file after every publication, so a
//     renewal shows there even if the record was deleted or overwritten
//     again with what the follower saw before. Timestamps in the record are
//     informational, so wall-clock jumps neither expire a lease early nor
//     keep it stuck.
//
// A renewal takes effect only if no later epoch has been claimed, neither
// before its record is renamed into place nor after its beat is written,
// and a successor makes the renewals of every earlier holder fail before
// it relies on the record and the beats being unchanged. So a renewal that
// succeeds always began before anyone else could take over, and showed in
// the beat before any successor could judge the lease expired: a holder whose validity ends a
// TTL after the start of its last successful renewal is never valid at the
// same instant as its successor. A renewal that finds a later claim whose
// claimant has not published yet fails but leaves the tenure to its
// deadline, since a takeover by expiry that finds the holder renewing
// withdraws its claim; once the successor has published (the record names
// its epoch and instance, as its claim does), Renew returns ErrLost.
//
// The next epoch is taken by locking its live file before claiming it. A
// candidate that holds that lock without having claimed is about to; a
// follower that finds one lets it finish, for one TTL (the follower's
// own) from its first attempt that found an epoch so held, as long as the
// lease does not change meanwhile. After that the candidate froze there:
// the follower makes the tombstone of every epoch so held and claims the
// next, and the frozen candidate's claim, if it ever resumes, fails.
//
// So a participant frozen at any point, even in the middle of its own I/O
// or holding a lock, holds the others off for a bounded time. A follower
// that keeps trying while the lease stays as it is takes it over at most
// one TTL after its first attempt that reads it so, if it finds the holder
// frozen, and one more TTL after its first attempt that finds the lease
// expired, if a candidate froze holding the next epoch: two TTLs in all,
// plus the time between its attempts.
//
// A record deleted or damaged is replaced by the holder's next renewal;
// epochs and the guarantees survive it.
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
// ".d" added, holds the claims, the locks, staged records, the beats and
// the holder's notification socket. Do not remove it while the lease is in use.
package lease
