package ownerfx

import (
	"fmt"
	"net/http"
	"time"

	"github.com/leasehold/leasehold/owner"
)

// HealthCheck tells a liveness or readiness probe whether this instance's
// part in the election is sound, in the shape of client-go's
// leaderelection.HealthzAdaptor: Name and Check satisfy the HealthChecker
// interface of k8s.io/apiserver's healthz package, and ServeHTTP answers
// 200 or 503 for a plain HTTP probe.
//
// It is healthy for a follower, before the Owner starts and after Release.
// It is unhealthy while this instance owns the lease and its last
// successful renewal began longer ago than the renewal interval plus the
// timeout: renewals are stuck or failing, and the Owner will fence itself
// at its deadline if they go on so. It is also unhealthy once ownership
// is lost, as the instance must then stop (Module shuts the application
// down).
//
// Where client-go's adaptor waits for the lease duration plus a timeout,
// the bound here must be shorter than the TTL: an Owner stops owning at
// its deadline, a TTL after its last renewal began, so a bound of a TTL or
// more would never be crossed while it owns.
//
// Its methods are safe for concurrent use; each takes one [owner.Stats]
// snapshot, measured on the Owner's own clock.
type HealthCheck struct {
	o        snapshotter
	interval time.Duration
	timeout  time.Duration
}

// snapshotter is the part of *owner.Owner that HealthCheck reads.
type snapshotter interface {
	Stats() owner.Stats
	LostErr() error
}

// NewHealthCheck returns the health check of o: unhealthy while o owns
// and its last successful renewal began more than o's RenewInterval plus
// timeout ago, or once o has lost the lease. A negative timeout counts as
// zero. Module provides one with a timeout of one RenewInterval, so that
// two missed renewals in a row make it fail, a third of the TTL before
// the deadline with the default interval.
func NewHealthCheck(o *owner.Owner, timeout time.Duration) *HealthCheck {
	return newHealthCheck(o, o.Config().RenewInterval, timeout)
}

func newHealthCheck(o snapshotter, interval, timeout time.Duration) *HealthCheck {
	return &HealthCheck{o: o, interval: interval, timeout: max(timeout, 0)}
}

// provideHealthCheck is Module's HealthCheck.
func provideHealthCheck(o *owner.Owner) *HealthCheck {
	return NewHealthCheck(o, o.Config().RenewInterval)
}

// Name returns "owner", the check's name in a list of checks.
func (h *HealthCheck) Name() string { return "owner" }

// Check returns nil if the instance is healthy, or an error that says why
// not: the age of the last renewal and its error, or the cause of the
// loss. The request is not used.
func (h *HealthCheck) Check(*http.Request) error {
	s := h.o.Stats()
	if s.Lost() {
		return fmt.Errorf("ownerfx: %w", h.o.LostErr())
	}
	bound := h.interval + h.timeout
	if s.Role != owner.RoleOwner || s.SinceRenewal <= bound {
		return nil
	}
	err := fmt.Errorf("ownerfx: the owner's last successful renewal began %v ago, more than the renewal interval %v plus %v; the lease ends in %v unless one succeeds",
		s.SinceRenewal, h.interval, h.timeout, s.Deadline.Sub(s.At))
	if s.RenewError != "" {
		err = fmt.Errorf("%w; the last renewal failed: %s", err, s.RenewError)
	}
	return err
}

// ServeHTTP answers 200 "ok" when Check returns nil, and 503 with Check's
// error otherwise.
func (h *HealthCheck) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := h.Check(r); err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
}
