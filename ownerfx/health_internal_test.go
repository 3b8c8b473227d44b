package ownerfx

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/leasehold/leasehold/owner"
)

// snapshot is an Owner's snapshot taken at a chosen instant, as the
// Owner's injected clock would give it.
type snapshot struct {
	s   owner.Stats
	err error
}

func (f snapshot) Stats() owner.Stats { return f.s }
func (f snapshot) LostErr() error     { return f.err }

func TestHealthCheckRule(t *testing.T) {
	const interval, timeout = time.Second, 500 * time.Millisecond
	at := time.Unix(100, 0)
	owning := func(since time.Duration, renewErr string) owner.Stats {
		return owner.Stats{At: at, Role: owner.RoleOwner, Acquisitions: 1, LastRenewal: at.Add(-since),
			SinceRenewal: since, Deadline: at.Add(-since).Add(3 * time.Second), RenewError: renewErr}
	}
	lostErr := fmt.Errorf("%w: not renewed within 3s", owner.ErrLost)
	for _, tc := range []struct {
		name    string
		snap    snapshot
		timeout time.Duration
		want    []string // in the error; none for healthy
	}{
		{"not started", snapshot{s: owner.Stats{At: at}}, timeout, nil},
		{"follower", snapshot{s: owner.Stats{At: at, Holder: "other", Epoch: 4}}, timeout, nil},
		{"owner just renewed", snapshot{s: owning(0, "")}, timeout, nil},
		{"owner at the bound", snapshot{s: owning(interval+timeout, "")}, timeout, nil},
		{"owner a nanosecond past the bound", snapshot{s: owning(interval+timeout+time.Nanosecond, "")}, timeout,
			[]string{"began 1.500000001s ago", "renewal interval 1s plus 500ms", "ends in 1.499999999s"}},
		{"owner whose renewals fail", snapshot{s: owning(2*time.Second, "disk on fire")}, timeout,
			[]string{"began 2s ago", "the last renewal failed: disk on fire"}},
		{"negative timeout counts as zero", snapshot{s: owning(interval+time.Nanosecond, "")}, -time.Hour,
			[]string{"plus 0s"}},
		{"lost", snapshot{s: owner.Stats{At: at, Acquisitions: 1, LostExpired: 1}, err: lostErr}, timeout,
			[]string{"ownership lost: not renewed within 3s"}},
		{"released long ago", snapshot{s: owner.Stats{At: at, Acquisitions: 1, Releases: 1, SinceRenewal: time.Hour}}, timeout, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHealthCheck(tc.snap, interval, tc.timeout)
			err := h.Check(nil)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
			if tc.want == nil {
				if err != nil || rec.Code != http.StatusOK {
					t.Fatalf("Check = %v, HTTP %d; want healthy", err, rec.Code)
				}
				return
			}
			if err == nil || rec.Code != http.StatusServiceUnavailable {
				t.Fatalf("Check = nil, HTTP %d; want unhealthy", rec.Code)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) || !strings.Contains(rec.Body.String(), w) {
					t.Errorf("error %q (body %q) does not say %q", err, rec.Body.String(), w)
				}
			}
			if tc.snap.err != nil && !errors.Is(err, owner.ErrLost) {
				t.Errorf("error %v does not wrap owner.ErrLost", err)
			}
		})
	}
	if n := newHealthCheck(snapshot{}, interval, timeout).Name(); n != "owner" {
		t.Fatalf("Name = %q", n)
	}
}
