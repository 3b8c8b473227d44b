// Package etcdlease keeps a lease in etcd, for an election among processes
// on several machines: [Store] implements lease.Store, so the election of
// package owner runs on it unchanged (owner.NewStore, owner.JoinStore).
// It is a module of its own, so that the rest of leasehold does not
// depend on etcd.
//
// # The lease
//
// The lease is one key, bound to an etcd lease of the Store's TTL. Its
// value is the holder's record (lease.Record as JSON); its epoch field is
// 0 there, since the epoch is the key's create revision.
//
//   - [Store.TryAcquire] grants an etcd lease, then creates the key bound
//     to it in a transaction that succeeds only if the key does not
//     exist, and otherwise reads it: one round of two requests decides
//     between racing candidates. The loser revokes the lease it granted.
//   - The epoch is the key's create revision: the revision of the
//     transaction that made it. Revisions grow with every change to the
//     cluster, so epochs strictly increase across all the cluster's keys,
//     compaction notwithstanding.
//   - The holder renews with one keep-alive request per renewal, on a
//     stream of its own, then reads the key (a serializable read, from
//     the member it reaches) to check that it still has the tenure's
//     create revision and etcd lease ([lease.ErrLost] otherwise, for
//     good).
//   - A follower waits by watching the key (Store.Wait); renewals do not
//     change it, so followers cost etcd nothing while the holder stays
//     but a notice of progress asked of a stream silent for a TTL. Each
//     watch has a gRPC stream of its own: one shared by the client's
//     watches keeps the auth token it was opened with, and once that is
//     stale etcd cancels every watch made on it; a stream whose member
//     stops answering is left for a new one, and the key read once
//     through any member that answers.
//   - Release and Close revoke the etcd lease, which deletes the key: a
//     waiting follower takes over at once.
//   - An [Observer] follows the key without campaigning: a Get and a
//     TimeToLive of its etcd lease per reading, and the follower's watch
//     to wait for changes.
//
// # The guarantee
//
// Only the creator of the key holds the lease, and the key exists only
// while the holder's etcd lease lives. The holder's tenure is valid for a
// TTL from when its last successful TryAcquire or Renew began, on its own
// monotonic clock: that is the owner's deadline, after which
// owner.Owner.Check fails. etcd's leader expires a lease no sooner than a
// TTL after it received the last keep-alive, which was sent after that
// Renew began; a new leader extends every lease (by the TTL plus the
// election timeout), it never shortens one. So the holder's deadline
// passes before any other candidate can create the key, as long as the
// clocks of the holder and of etcd's leader run at the same rate.
// clientv3's KeepAlive is not used: it dates its deadline from when a
// response arrives, later than the request was sent.
//
// A fresh data directory starts the cluster's revisions again at 1, and
// with them the epochs. A resource that remembers the highest epoch it
// has seen must forget it when the cluster is made anew, or store the
// epoch with something that tells the clusters apart. A cluster restored
// from a snapshot must be restored with its revisions moved past any
// issued before (etcdutl snapshot restore --bump-revision with
// --mark-compacted).
//
// # Failover
//
// After Release, or Close (as after loss), a follower takes over within a
// few milliseconds: the revoke deletes the key and its watch wakes. After
// a crash or a hang of the holder, etcd deletes the key when its lease
// expires: a TTL after the holder's last renewal, plus up to 500ms (the
// leader looks for expired leases twice a second) and a write through
// raft. After a change of etcd leader, up to the TTL plus the election
// timeout from the new leader's election.
//
// # Rules
//
//   - Options.TTL is a whole number of seconds and at least [MinTTL]:
//     etcd counts leases in seconds, and raises a TTL below
//     ceil(1.5 x election timeout), 2s by default; TryAcquire refuses a
//     lease etcd granted longer than asked for, naming the TTL.
//     owner.Config.TTL must be the same; owner.NewStore checks it.
//   - Nothing but the Stores of the lease may write or delete the key.
//     Compaction is harmless: a watch that finds its revision compacted
//     ends, and the next attempt reads the key afresh.
//   - Every request is bounded by Options.RequestTimeout and asks for a
//     member with a leader (clientv3.WithRequireLeader). It is made in
//     tries of half that time, again while etcd could not serve it or a
//     try ran out of time: a member cut off from the others holds a
//     request until it finds itself without a leader, then fails it at
//     once, and each try goes to the next member. Give the client the
//     endpoints of every member. A watch on a member without a leader
//     ends too, and Wait watches again from the same revision.
//   - Each attempt is a fresh transaction with a lease of its own, and a
//     waiting follower holds no etcd lease at all. So none of the faults
//     users of concurrency.Election meet can happen here: a campaign that
//     does not notice its own session expired while it waited (etcd issue
//     19597), two standbys both elected after a leader failure (11007), a
//     campaign that fails with "invalid auth token" when its turn comes
//     after a long wait (17623): the client fetches a new token on the
//     next request.
//   - The client reconnects to a member after an outage at gRPC's pace,
//     which backs off up to two minutes by default: for prompt takeovers
//     after an outage, pass grpc.WithConnectParams in
//     clientv3.Config.DialOptions with a shorter MaxDelay.
//   - A member that stops answering without closing its connections (a
//     paused process) holds no Wait for longer than the request timeout:
//     a watch it does not create, or a stream that does not answer a
//     request for progress, is left for a new stream, and the key read
//     through any member that answers. Each new stream that lands on that
//     member again costs one request timeout; gRPC's keepalive
//     (clientv3.Config.DialKeepAliveTime and DialKeepAliveTimeout) makes
//     the client notice it sooner.
package etcdlease
