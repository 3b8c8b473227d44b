package owner

import (
	"fmt"
	"time"
)

// Stats is a snapshot of an Owner's part in the election, for operators to
// graph and alert on. It depends on no metrics system: a program reads the
// fields, or encodes the struct as JSON (durations in nanoseconds, times
// as RFC 3339 and left out when zero).
//
// An Owner owns at most once, so Acquisitions and each count of ends
// (the Lost* fields and Releases) are 0 or 1; a program that joins again
// after a loss, with a new Owner, adds up the Stats of both.
type Stats struct {
	// At is the instant of the snapshot, on the Owner's clock.
	At time.Time `json:"at"`
	// Role is the role at At, as Role returns it: RoleOwner only while
	// Check passes.
	Role Role `json:"role"`
	// Holder is the instance id of the holder as last seen ("" when none
	// is known), Epoch its fencing epoch and Endpoint what it advertises:
	// this instance's own while it owns.
	Holder   string `json:"holder"`
	Epoch    uint64 `json:"epoch"`
	Endpoint string `json:"endpoint"`

	// Acquisitions counts the times this instance became the owner.
	Acquisitions uint64 `json:"acquisitions"`
	// Renewals counts the renewals that extended the deadline.
	Renewals uint64 `json:"renewals"`
	// RenewFailures counts the renewals that returned an error: a fault of
	// the store, or lease.ErrLost. (A renewal that succeeds only after the
	// deadline counts in neither: the tenure ended at the deadline.)
	RenewFailures uint64 `json:"renew_failures"`
	// RenewError is the error of the last renewal while renewals fail; ""
	// once one succeeds.
	RenewError string `json:"renew_error,omitempty"`
	// LastRenewal is when the last successful renewal began, or the
	// acquisition if no renewal has succeeded since: the deadline counts
	// from it. Zero if this instance never owned.
	LastRenewal time.Time `json:"last_renewal,omitzero"`
	// SinceRenewal is At minus LastRenewal, on the monotonic clock; zero
	// if this instance never owned. While it owns, it stays below the TTL.
	SinceRenewal time.Duration `json:"since_renewal_ns"`
	// LastRenewalLatency is how long the last successful renewal took.
	LastRenewalLatency time.Duration `json:"last_renewal_latency_ns"`
	// Deadline is when the tenure ends unless renewed, LastRenewal plus
	// the TTL; zero unless Role is RoleOwner.
	Deadline time.Time `json:"deadline,omitzero"`

	// LostExpired counts the tenures that ended at their deadline with no
	// renewal failing: the renewal was stuck or slow, or the process was
	// paused.
	LostExpired uint64 `json:"lost_expired"`
	// LostStoreError counts the tenures that ended at their deadline while
	// renewals failed with an error of the store (see RenewError).
	LostStoreError uint64 `json:"lost_store_error"`
	// LostSuperseded counts the tenures that ended because the store found
	// the lease taken by a later claimant (lease.ErrLost).
	LostSuperseded uint64 `json:"lost_superseded"`
	// LostCancelled counts the tenures that ended because Join's context
	// ended.
	LostCancelled uint64 `json:"lost_cancelled"`
	// Releases counts the tenures that ended by Release; Lost does not fire
	// for them.
	Releases uint64 `json:"releases"`
}

// Lost reports whether ownership ended other than by Release: one of the
// Lost* counts is not zero.
func (s Stats) Lost() bool {
	return s.LostExpired+s.LostStoreError+s.LostSuperseded+s.LostCancelled > 0
}

// tally holds what Stats reports beyond the state; Owner.mu guards it.
type tally struct {
	acquisitions  uint64
	renewals      uint64
	renewFailures uint64
	lastRenewal   time.Time
	latency       time.Duration
	lost          [lossCauses]uint64
	releases      uint64
}

// lossCause is why a tenure ended other than by Release.
type lossCause int

const (
	lossExpired    lossCause = iota // the deadline passed, no renewal failing
	lossStoreError                  // the deadline passed while renewals failed
	lossSuperseded                  // the store found a later claimant
	lossCancelled                   // Join's context ended
	lossCauses
)

// Stats returns a snapshot of this instance's part in the election. It is
// safe for concurrent use and cheap: it takes the lock Check takes, and
// reads the clock once. Like Check, it ends ownership if the deadline has
// passed. Before Start it reports a follower that knows no holder; after
// Release or loss, a follower with the counts kept.
func (o *Owner) Stats() Stats {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.clk.Now()
	role, deadline := RoleFollower, time.Time{}
	if o.checkLocked(now) == nil {
		role, deadline = RoleOwner, o.deadline
	}
	s := Stats{
		At:                 now,
		Role:               role,
		Holder:             o.holder.InstanceID,
		Epoch:              o.holder.Epoch,
		Endpoint:           o.holder.Meta[EndpointMetaKey],
		Acquisitions:       o.tally.acquisitions,
		Renewals:           o.tally.renewals,
		RenewFailures:      o.tally.renewFailures,
		LastRenewal:        o.tally.lastRenewal,
		LastRenewalLatency: o.tally.latency,
		LostExpired:        o.tally.lost[lossExpired],
		LostStoreError:     o.tally.lost[lossStoreError],
		LostSuperseded:     o.tally.lost[lossSuperseded],
		LostCancelled:      o.tally.lost[lossCancelled],
		Releases:           o.tally.releases,
		Deadline:           deadline,
	}
	if !s.LastRenewal.IsZero() {
		s.SinceRenewal = now.Sub(s.LastRenewal)
	}
	if o.renewErr != nil {
		s.RenewError = o.renewErr.Error()
	}
	return s
}

// MarshalText returns the role's name, "owner" or "follower", so that it
// reads as a word in JSON.
func (r Role) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads a role's name, as MarshalText writes it.
func (r *Role) UnmarshalText(b []byte) error {
	switch string(b) {
	case "owner":
		*r = RoleOwner
	case "follower":
		*r = RoleFollower
	default:
		return fmt.Errorf("owner: unknown role %q, want owner or follower", b)
	}
	return nil
}
