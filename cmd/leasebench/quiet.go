//go:build unix

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/leasehold/leasehold/internal/fleet"
	"github.com/leasehold/leasehold/internal/measure"
	"github.com/leasehold/leasehold/internal/worker"
)

// Quiet holds the quiet-machine figures: one fault kind at a time, three
// followers waiting and an owner that only reports to a pipe, each
// measurement after the disk's dirty pages were written out and a pause.
type Quiet struct {
	Setup map[string]string `json:"setup"`
	// Failover, from the signal to the successor's first successful Check.
	Crash   Latency `json:"crash_sigkill"`
	Release Latency `json:"graceful_sigterm_release"`
	// Hang: from the frozen owner's last renewal to the successor's first
	// successful Check, less the TTL.
	HangBeyondTTL Latency `json:"hang_sigstop_beyond_ttl"`
	joinFigures
	IdleOwner     float64 `json:"idle_owner_cpu_pct"`
	IdleFollowers struct {
		Max  float64   `json:"max"`
		Mean float64   `json:"mean"`
		Each []float64 `json:"each"`
	} `json:"idle_follower_cpu_pct"`
}

// quietPhase announces a quiet measurement, which starts with the disk's
// dirty pages written out and a pause, so that none pays for the writes
// of the one before.
func quietPhase(format string, args ...any) {
	unix.Sync()
	time.Sleep(2 * time.Second)
	say(format, args...)
}

// subdir makes a directory for one measurement's lease.
func subdir(o options, name string) string {
	d := filepath.Join(o.dir, name)
	_ = os.Mkdir(d, 0o700)
	return d
}

func runQuiet(o options) (*Quiet, map[string][]time.Duration, error) {
	say("quiet machine: a sync and a 2 s pause before each measurement")
	q := &Quiet{Setup: map[string]string{
		"followers_waiting":   "3",
		"handover_ttl":        "2s",
		"hang_ttl":            "400ms",
		"hang_renew_interval": "100ms",
		"events_per_kind":     strconv.Itoa(o.events),
		"idle":                fmt.Sprintf("owner + 16 followers, TTL 2s, renewal 667ms (TTL/3), Check once a second, %v window, getrusage of each worker", o.idle),
		"sync_and_pause":      "sync, then 2s, before each measurement",
	}}
	handover := func(name string, sig syscall.Signal) ([]time.Duration, error) {
		f, err := fleet.Launch(o.exe, nil, subdir(o, name), 4, 2*time.Second, 0)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return measure.Handover(f, sig, o.events)
	}
	quietPhase("crash failover: %d SIGKILLs", o.events)
	crash, err := handover("crash", syscall.SIGKILL)
	if err != nil {
		return nil, nil, err
	}
	q.Crash = latency(crash)
	say("  %+v", q.Crash)
	quietPhase("graceful handover: %d SIGTERMs", o.events)
	release, err := handover("release", syscall.SIGTERM)
	if err != nil {
		return nil, nil, err
	}
	q.Release = latency(release)
	say("  %+v", q.Release)

	quietPhase("hang failover: %d SIGSTOPs, TTL 400ms", o.events)
	f, err := fleet.Launch(o.exe, nil, subdir(o, "hang"), 4, 400*time.Millisecond, 100*time.Millisecond)
	if err != nil {
		return nil, nil, err
	}
	hang, err := measure.Hang(f, 400*time.Millisecond, o.events, nil)
	f.Close()
	if err != nil {
		return nil, nil, err
	}
	q.HangBeyondTTL = latency(hang)
	say("  %+v", q.HangBeyondTTL)

	quietPhase("joins: %d rounds of 1 and of 64 simultaneous joiners", o.rounds)
	if q.joinFigures, err = joinRounds(o, "quiet-"); err != nil {
		return nil, nil, err
	}

	quietPhase("idle CPU: owner and 16 followers over %v", o.idle)
	f, err = fleet.Launch(o.exe, nil, subdir(o, "idle"), 17, 2*time.Second, 0, worker.EnvCheck+"=1s")
	if err != nil {
		return nil, nil, err
	}
	cpu, err := measure.IdleCPU(f, 17, o.idle)
	f.Close()
	if err != nil {
		return nil, nil, err
	}
	q.IdleOwner = cpu.Owner
	q.IdleFollowers.Each = cpu.Followers
	for _, p := range cpu.Followers {
		q.IdleFollowers.Max = max(q.IdleFollowers.Max, p)
		q.IdleFollowers.Mean += p / float64(len(cpu.Followers))
	}
	say("  owner %.4f%%, followers max %.4f%% mean %.4f%%", q.IdleOwner, q.IdleFollowers.Max, q.IdleFollowers.Mean)
	return q, map[string][]time.Duration{
		"crash (SIGKILL)":                crash,
		"graceful (SIGTERM)":             release,
		"hang, beyond the TTL":           hang,
		"64 simultaneous Joins, slowest": q.slowest,
	}, nil
}

// joinFigures are the figures of rounds of simultaneous Joins.
type joinFigures struct {
	Join1 Latency `json:"join_1"`
	// The slowest Join of each round of 64; and in each round, the Join
	// that acquired and the slowest of those that followed.
	Join64         Latency `json:"join_64_slowest"`
	Join64Owner    Latency `json:"join_64_owner"`
	Join64Follower Latency `json:"join_64_slowest_follower"`
	Join64Owners   []int   `json:"join_64_owners_per_round"`

	slowest []time.Duration // of each round of 64, for the plot
}

// joinRounds runs rounds of 1 and of 64 simultaneous Joins, each on a new
// lease.
func joinRounds(o options, prefix string) (joinFigures, error) {
	var join1, join64, owner, follower []time.Duration
	var owners []int
	for i := range o.rounds {
		j, err := measure.JoinBurst(o.exe, nil, subdir(o, fmt.Sprint(prefix, "join1-", i)), 1, 2*time.Second)
		if err != nil {
			return joinFigures{}, err
		}
		join1 = append(join1, j.Slowest)
		j, err = measure.JoinBurst(o.exe, nil, subdir(o, fmt.Sprint(prefix, "join64-", i)), 64, 2*time.Second)
		if err != nil {
			return joinFigures{}, err
		}
		join64 = append(join64, j.Slowest)
		owner = append(owner, j.Owner)
		follower = append(follower, j.SlowestFollower)
		owners = append(owners, j.Owners)
	}
	f := joinFigures{Join1: latency(join1), Join64: latency(join64), Join64Owner: latency(owner), Join64Follower: latency(follower), Join64Owners: owners, slowest: join64}
	say("  1: %+v\n          64: %+v, owners per round %v\n          64, the owner's Join: %+v\n          64, the slowest follower's: %+v",
		f.Join1, f.Join64, owners, f.Join64Owner, f.Join64Follower)
	return f, nil
}
