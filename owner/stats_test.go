package owner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/leasehold/leasehold/internal/clock"
	"github.com/leasehold/leasehold/lease"
)

var epoch0 = time.Unix(0, 0)

// A renewal that takes 300ms on the clock is counted with its latency, and
// the deadline and the age of the last renewal count from its start.
func TestStatsRenewal(t *testing.T) {
	clk := clock.NewFake(epoch0)
	fs := newFaulty()
	fs.entered = make(chan struct{}, 1)
	a := startT(t, testConfig(t), clk, fs)
	s := a.Stats()
	if s.Role != RoleOwner || s.Acquisitions != 1 || s.Renewals != 0 || s.Holder != a.ID() || s.Epoch != 1 ||
		!s.LastRenewal.Equal(epoch0) || !s.Deadline.Equal(epoch0.Add(ttl)) || s.SinceRenewal != 0 {
		t.Fatalf("after Join: %+v", s)
	}
	settle(t, clk, 2)
	gate := make(chan struct{})
	fs.set(gate, nil)
	clk.Advance(renew)
	<-fs.entered // the renewal began at renew
	clk.Advance(300 * time.Millisecond)
	if s := a.Stats(); s.Renewals != 0 || s.SinceRenewal != renew+300*time.Millisecond {
		t.Fatalf("during the renewal: renewals %d, since %v", s.Renewals, s.SinceRenewal)
	}
	close(gate)
	<-fs.renewed
	settle(t, clk, 2) // the next renewal is set: the bookkeeping is done
	s = a.Stats()
	began := epoch0.Add(renew)
	if s.Renewals != 1 || s.RenewFailures != 0 || s.LastRenewalLatency != 300*time.Millisecond ||
		!s.LastRenewal.Equal(began) || s.SinceRenewal != 300*time.Millisecond ||
		!s.Deadline.Equal(began.Add(ttl)) || !s.At.Equal(began.Add(300*time.Millisecond)) {
		t.Fatalf("after the renewal: %+v", s)
	}
}

// A failed renewal is counted and its error shown until one succeeds; the
// age of the last renewal goes on growing meanwhile.
func TestStatsRenewFailure(t *testing.T) {
	clk := clock.NewFake(epoch0)
	fs := newFaulty()
	fs.set(nil, errors.New("disk on fire"))
	a := startT(t, testConfig(t), clk, fs)
	settle(t, clk, 2)
	clk.Advance(renew)
	<-fs.renewed
	settle(t, clk, 2)
	s := a.Stats()
	if s.Role != RoleOwner || s.Renewals != 0 || s.RenewFailures != 1 || s.RenewError != "disk on fire" ||
		s.SinceRenewal != renew || !s.LastRenewal.Equal(epoch0) {
		t.Fatalf("after a failed renewal: %+v", s)
	}
	fs.set(nil, nil)
	clk.Advance(renew / 4) // the retry
	<-fs.renewed
	settle(t, clk, 2)
	s = a.Stats()
	if s.Renewals != 1 || s.RenewFailures != 1 || s.RenewError != "" || s.SinceRenewal != 0 {
		t.Fatalf("after the retry succeeded: %+v", s)
	}
}

// Each way a tenure ends is counted under its cause, and under no other.
func TestStatsEnds(t *testing.T) {
	type run struct {
		a      *Owner
		clk    *clock.Fake
		fs     *faultyStore
		cancel func() // cancels Join's context
	}
	lose := func(r run) { within(t, r.a.Lost(), "Lost") }
	for _, tc := range []struct {
		name string
		fail error // every renewal's error, if not nil
		hang bool  // renewals hang
		end  func(run)
		want func(Stats) uint64
		lost bool
	}{
		{"deadline, renewal hung", nil, true, func(r run) {
			r.clk.Advance(ttl)
			lose(r)
		}, func(s Stats) uint64 { return s.LostExpired }, true},
		{"deadline, renewals failing", errors.New("disk on fire"), false, func(r run) {
			r.clk.Advance(renew)
			<-r.fs.renewed
			settle(t, r.clk, 2)
			r.clk.Advance(ttl - renew)
			lose(r)
		}, func(s Stats) uint64 { return s.LostStoreError }, true},
		{"a later claimant", fmt.Errorf("renew: %w", lease.ErrLost), false, func(r run) {
			r.clk.Advance(renew)
			lose(r)
		}, func(s Stats) uint64 { return s.LostSuperseded }, true},
		{"context cancelled", nil, false, func(r run) {
			r.cancel()
			lose(r)
		}, func(s Stats) uint64 { return s.LostCancelled }, true},
		{"Release", nil, false, func(r run) {
			if err := r.a.Release(); err != nil {
				t.Fatal(err)
			}
		}, func(s Stats) uint64 { return s.Releases }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := clock.NewFake(epoch0)
			fs := newFaulty()
			fs.set(nil, tc.fail)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			a := startCtxT(t, ctx, testConfig(t), clk, fs)
			if tc.hang {
				gate := make(chan struct{})
				t.Cleanup(func() { close(gate) }) // before the Release of startCtxT
				fs.set(gate, nil)
			}
			settle(t, clk, 2)
			tc.end(run{a, clk, fs, cancel})
			s := a.Stats()
			if tc.want(s) != 1 || s.Lost() != tc.lost {
				t.Fatalf("its count is %d, Lost() %v, want 1 and %v: %+v", tc.want(s), s.Lost(), tc.lost, s)
			}
			if ends := s.LostExpired + s.LostStoreError + s.LostSuperseded + s.LostCancelled + s.Releases; ends != 1 {
				t.Fatalf("%d ends counted, want 1: %+v", ends, s)
			}
			if s.Role != RoleFollower || !s.Deadline.IsZero() || s.Acquisitions != 1 {
				t.Fatalf("after the end: %+v", s)
			}
			if tc.fail != nil && (s.RenewFailures == 0 || s.RenewError != tc.fail.Error()) {
				t.Fatalf("renewal failures %d, error %q, want the failures counted", s.RenewFailures, s.RenewError)
			}
		})
	}
}

// A follower counts nothing of its own and reports the holder; after a
// takeover it counts its acquisition.
func TestStatsFollower(t *testing.T) {
	clk := clock.System // the takeover after Release waits on the clock
	cfg := testConfig(t)
	cfg.Endpoint = "http://127.0.0.1:1"
	a := joinT(t, context.Background(), cfg, clk)
	cfg.Endpoint = "http://127.0.0.1:2"
	b := joinT(t, context.Background(), cfg, clk)
	s := b.Stats()
	if s.Role != RoleFollower || s.Holder != a.ID() || s.Epoch != 1 || s.Endpoint != "http://127.0.0.1:1" ||
		s.Acquisitions != 0 || !s.LastRenewal.IsZero() || s.SinceRenewal != 0 || !s.Deadline.IsZero() || s.Lost() {
		t.Fatalf("follower: %+v", s)
	}
	if err := a.Release(); err != nil {
		t.Fatal(err)
	}
	within(t, b.Acquired(), "b's takeover")
	if s := b.Stats(); s.Role != RoleOwner || s.Acquisitions != 1 || s.Epoch != 2 || s.Holder != b.ID() {
		t.Fatalf("after takeover: %+v", s)
	}
}

// Stats, like Check, ends ownership once the deadline has passed, even if
// the timer has not fired yet.
func TestStatsAtDeadline(t *testing.T) {
	clk := clock.NewFake(epoch0)
	a := renewThenHang(t, clk)
	clk.Advance(ttl - time.Nanosecond)
	if s := a.Stats(); s.Role != RoleOwner || s.SinceRenewal != ttl-time.Nanosecond {
		t.Fatalf("a nanosecond before the deadline: %+v", s)
	}
	clk.Advance(time.Nanosecond)
	if s := a.Stats(); s.Role != RoleFollower || s.LostExpired != 1 || s.SinceRenewal != ttl {
		t.Fatalf("at the deadline: %+v", s)
	}
	if !closed(a.Lost()) {
		t.Fatal("Lost did not fire")
	}
}

// The snapshot reads back from its JSON, the role as a word.
func TestStatsJSON(t *testing.T) {
	a := joinT(t, context.Background(), testConfig(t), clock.NewFake(epoch0))
	s := a.Stats()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil || m["role"] != "owner" || m["acquisitions"] != 1.0 {
		t.Fatalf("JSON %s: role %v (%v)", b, m["role"], err)
	}
	var back Stats
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Role != RoleOwner || back.Holder != s.Holder || !back.Deadline.Equal(s.Deadline) || back.Acquisitions != 1 {
		t.Fatalf("read back %+v, want %+v", back, s)
	}
	var r Role
	if err := r.UnmarshalText([]byte("leader")); err == nil {
		t.Fatal("UnmarshalText accepted an unknown role")
	}
}

// Stats reads what the renewal goroutine writes without a race (go test
// -race), on the system clock.
func TestStatsConcurrent(t *testing.T) {
	cfg := testConfig(t)
	cfg.TTL, cfg.RenewInterval = time.Second, 5*time.Millisecond
	a := joinT(t, context.Background(), cfg, clock.System)
	end := time.Now().Add(patience)
	for a.Stats().Renewals < 3 {
		if time.Now().After(end) {
			t.Fatalf("fewer than 3 renewals within %v: %+v", patience, a.Stats())
		}
	}
	if s := a.Stats(); s.Role != RoleOwner || s.LastRenewalLatency <= 0 {
		t.Fatalf("%+v", s)
	}
}

// Stats does not allocate for an owner whose renewals succeed.
func TestStatsAllocations(t *testing.T) {
	a := joinT(t, context.Background(), testConfig(t), clock.NewFake(epoch0))
	if n := testing.AllocsPerRun(100, func() { _ = a.Stats() }); n != 0 {
		t.Fatalf("Stats allocates %v times", n)
	}
}
