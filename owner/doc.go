// Package owner elects one owner among the instances of an application
// that share resident state on one machine (a loaded model, a cache, a
// single writer), with no daemon, on Linux, macOS and Windows.
//
// On [Join], one instance becomes the owner: it holds the lease and renews
// it in the background. The others become followers that know who the owner
// is, its epoch and where to reach it ([Owner.Holder], [Owner.Endpoint]),
// learn of every change ([Owner.Changed]), and take over when the owner
// releases, dies or hangs ([Owner.Acquired]).
//
// # The guarantee
//
// The owner self-fences: its validity ends a TTL after the start of its
// last successful renewal, on its monotonic clock. [Owner.Check] fails from
// that instant on, even if the process was paused or the renewal is stuck
// on a slow disk, and [Owner.Lost] fires; the caller must then stop
// touching owned state. A follower takes over only when the old owner can
// no longer pass Check, so Check never succeeds in two instances at the
// same instant, and once it has succeeded with an epoch it never succeeds
// again with a lower one.
//
// Between Check and the write it guards, a process can still be paused.
// Where that matters, pass [Owner.Epoch] to the resource with every write
// and have it refuse an epoch lower than the highest it has seen: epochs
// strictly increase with every acquisition and are never reused.
//
// # Operating it
//
// [Owner.Stats] returns a snapshot for operators to graph and alert on:
// the role, the holder and its epoch, acquisitions, renewals and failed
// renewals, the latency and age of the last renewal, the deadline, and
// the ends of tenures by cause (the deadline passed with the renewal hung
// or with the store failing, a later claimant, a cancelled context,
// Release). It is a plain struct that encodes as JSON, with no metrics
// system behind it; the counters are kept under the lock the renewal
// takes anyway, at no allocation.
//
// Failover after a crash or Release takes milliseconds (the kernel drops
// the owner's lock); after a hang, a TTL from the owner's last renewal. A
// candidate that freezes in the middle of taking over delays the others by
// one TTL more. See package lease for the rules and the files.
package owner
