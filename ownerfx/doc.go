// Package ownerfx adds the lease election of package owner to an Uber fx
// application.
//
// [Module] provides the instance's *owner.Owner, joins the election when
// the application starts and releases the lease when it stops. Components
// registered with [AsOwned] run only while this instance owns the lease:
// they start when it becomes the owner, at start or later by takeover, and
// stop when it releases or loses the lease. When ownership is lost, the
// module logs why and shuts the application down with [ExitCodeLost].
//
// Module also provides a [HealthCheck] for a liveness or readiness probe,
// in the shape of client-go's leader-election healthz adaptor: healthy for
// a follower, unhealthy while this instance owns the lease and its
// renewals have not succeeded for two renewal intervals, or once it has
// lost the lease. [owner.Owner.Stats] gives the numbers behind it.
//
// A constructor that fails makes fx report the whole chain of the graph
// ("could not build arguments for function ... failed to build
// *owner.Owner: received non-nil error from function ..."). For a person,
// print dig.RootCause(err) (package go.uber.org/dig, which fx is built on):
// the error the constructor returned, which names the path or key at
// fault, such as "lease: /srv/app/run is writable by group or others
// (mode -rwxrwx---); another user could take over the lease (chmod go-w
// /srv/app/run)".
//
// The configuration comes from package config (a YAML or .env file named
// by a supplied config.Options, and the environment), unless the
// application supplies a non-zero owner.Config; the warnings of
// config.LoadWithWarnings (a variable in the environment that looks like a
// typo of a known one) are logged. A configuration that selects another
// store than the file (owner.store: etcd) needs the [StoreOpener] of that
// store's module in the graph; without one the application fails to
// build. Logs go to the application's
// *zap.Logger if the graph has one; the module provides none.
package ownerfx
