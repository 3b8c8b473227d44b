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
// An epoch is claimed by creating a file exclusively, and made durable
// before it is used, so no epoch serves two tenures and epochs never go
// backwards, even if the record is deleted or corrupted or the machine
// crashes. (A claim withdrawn before its epoch was ever used, because the
// holder turned out to be alive, may be made again.) A participant takes the lease over only when no other holder can
// still be live:
//
//   - the holder released it, or its process is gone: the holder keeps a
//     lock for its whole tenure, which the kernel drops when the process
//     dies, so a follower takes over within a few milliseconds;
//   - or the record has not changed for a full TTL, measured on the
//     follower's own monotonic clock from when it first saw it. Timestamps
//     in the record are informational, so wall-clock jumps neither expire a
//     lease early nor keep it stuck.
//
// A renewal takes effect only if no later epoch has been claimed, and a
// successor makes the renewals of every earlier holder fail before it
// relies on the record being unchanged. So a renewal that succeeds always
// began before anyone else could take over: a holder whose validity ends a
// TTL after the start of its last successful renewal is never valid at the
// same instant as its successor. And a participant frozen at any point,
// even in the middle of its own I/O or holding a lock, holds the others
// off for one TTL at most: a holder by rule two, a candidate frozen while
// taking the next epoch by leaving it to the others after a TTL.
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
// ".d" added, holds the claims, the locks, staged records and the holder's
// notification socket. Do not remove it while the lease is in use.
package lease
