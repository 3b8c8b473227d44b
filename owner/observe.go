package owner

import (
	"errors"

	"github.com/leasehold/leasehold/lease"
)

// Observe returns an Observer of the file lease at cfg.LeasePath, for a
// program that needs to know the owner and where to reach it without ever
// campaigning (a command-line frontend of the application, say): it never
// joins, writes or creates anything, and waits for changes as an idle
// follower does (see lease.FileObserver). Only cfg.LeasePath is used.
// The owner's endpoint is Observation.Record.Meta[EndpointMetaKey], and
// its backend Meta[BackendMetaKey]; the owner is reachable while the
// Observation's State is lease.StateLive.
//
// For another store, use its module's observer (etcdlease.Observe).
func Observe(cfg Config) (*lease.FileObserver, error) {
	if cfg.LeasePath == "" {
		return nil, errors.New("owner: Config.LeasePath is empty")
	}
	return lease.Observe(cfg.LeasePath, lease.ObserveOptions{})
}
