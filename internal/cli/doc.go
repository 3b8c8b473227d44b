// Package cli is the command leasehold: it reports the holder of a lease
// and follows it, without ever campaigning for it, and runs a command
// while it owns the lease, on every store of the build that runs it.
// cmd/leasehold runs it with the file store; etcdlease/cmd/leasehold adds
// the etcd store.
//
//	leasehold status [--json] [--config FILE] [LEASE]
//	leasehold watch  [--json] [--config FILE] [LEASE]
//	leasehold run [--grace D] [--config FILE] [--lease LEASE] [--] CMD [ARGS...]
//	leasehold help
//
// The lease is the one the configuration names, as for the library
// (package config): a file given with --config, then the OWNER_*
// environment. LEASE, if given, replaces its lease path (the file store)
// or its key (etcd).
//
// status prints the holder and exits with 0 when a live owner holds the
// lease, 1 when none does (the lease is free, released, gone, or its
// holder has not renewed within its TTL; a lease path that does not exist
// is free), and 2 on an error (a bad flag or configuration, a record that
// cannot be read, a directory in place of the lease). watch prints a line
// at once and then one per change (not per renewal) until it is
// interrupted, and exits 0 then, or 2 when its first reading fails (a
// later one is said on stderr, and the lease read again every second).
// Neither changes the lease, nor creates a file or a directory.
//
// With --json, status prints one object and watch one per line (JSON
// lines), of this schema:
//
//	{
//	  "time":   "2026-12-01T04:50:00.123456789Z", // watch only: when the change was seen
//	  "lease":  "/home/me/.local/state/leasehold/app/owner.lease", // the path, or the etcd key
//	  "store":  "file",       // or "etcd"
//	  "state":  "live",       // free, live, unrenewed, released or gone (see lease.State)
//	  "live":   true,         // state is live: the exit code 0 of status
//	  "holder": {             // null when there is no record
//	    "instance_id": "6f0c...",
//	    "pid": 4242,
//	    "host": "box",
//	    "epoch": 7,
//	    "endpoint": "http://127.0.0.1:8080", // "" when none is advertised
//	    "backend": "",
//	    "meta": {"endpoint": "http://127.0.0.1:8080"},
//	    "acquired_at": "2026-12-01T04:49:48.1Z",
//	    "renewed_at": "2026-12-01T04:49:59.7Z",  // see lease.Observation.Renewed
//	    "acquired_age_seconds": 12.02,
//	    "renewed_age_seconds": 0.42,
//	    "ttl_seconds": 5,
//	    "remaining_seconds": 4.58,           // 0 unless live
//	    "released": false
//	  }
//	}
//
// Times are RFC 3339 with nanoseconds; ages are seconds before the
// reading. Fields may be added; none is removed or changes meaning.
//
// run is package supervise on the lease named as above (--lease instead of
// LEASE, which would be taken for CMD): it joins the election, runs CMD
// once it owns the lease, with LEASEHOLD_EPOCH, LEASEHOLD_LEASE (the path,
// or etcd:KEY) and LEASEHOLD_INSTANCE_ID in its environment, and exits
// with CMD's status, 3 if ownership was lost, or 125 to 127, 129, 130 or
// 143 as package supervise says.
package cli
