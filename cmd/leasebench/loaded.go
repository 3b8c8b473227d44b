//go:build unix

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/leasehold/leasehold/internal/fleet"
	"github.com/leasehold/leasehold/internal/measure"
	"github.com/leasehold/leasehold/internal/worker"
)

// The loaded scenario.
const (
	loadedProcesses = 6
	loadedTTL       = 400 * time.Millisecond
	loadedCheck     = 500 * time.Microsecond // the owner checks and appends a line
	idleProcesses   = 16                     // an owner and 15 followers
	idleTTL         = 2 * time.Second
)

// Loaded holds the headline figures: the loaded scenario's.
type Loaded struct {
	Setup map[string]string `json:"setup"`
	measure.Figures

	joinFigures

	Idle IdleFigures `json:"idle"`
}

// IdleFigures is the idle cost of an owner and its followers.
type IdleFigures struct {
	Setup     map[string]string `json:"setup"`
	Owner     IdleProcess       `json:"owner"`
	Followers struct {
		MaxCPU            float64       `json:"max_cpu_pct"`
		MeanCPU           float64       `json:"mean_cpu_pct"`
		MaxVoluntary      float64       `json:"max_voluntary_switches_per_renewal"`
		MeanVoluntary     float64       `json:"mean_voluntary_switches_per_renewal"`
		MaxInvoluntary    float64       `json:"max_involuntary_switches_per_renewal"`
		Each              []IdleProcess `json:"each"`
		ThreadsGoneInside int           `json:"threads_gone_in_window"`
	} `json:"followers"`
}

// IdleProcess is one process's idle cost.
type IdleProcess struct {
	CPU         float64 `json:"cpu_pct"` // of one core, all threads
	Voluntary   float64 `json:"voluntary_switches_per_renewal"`
	Involuntary float64 `json:"involuntary_switches_per_renewal"`
	Threads     int     `json:"threads"`
	ThreadsGone int     `json:"threads_gone_in_window,omitempty"`
}

func idleProcess(c measure.Cost, renew time.Duration) IdleProcess {
	v, i := c.PerRenewal(renew)
	return IdleProcess{CPU: c.Percent(), Voluntary: v, Involuntary: i, Threads: c.Threads, ThreadsGone: c.ThreadsGone}
}

func runLoaded(o options) (*Loaded, map[string][]time.Duration, error) {
	renew := loadedTTL / 3 // what the library chooses when RenewInterval is 0
	l := &Loaded{Setup: map[string]string{
		"processes":       strconv.Itoa(loadedProcesses),
		"ttl":             loadedTTL.String(),
		"renew_interval":  renew.Round(time.Millisecond).String() + " (the library's default, TTL/3)",
		"owner_work":      "Check every " + loadedCheck.String() + ", then one line appended to a file beside the lease (no fsync)",
		"faults":          fmt.Sprintf("at random, %d each of: SIGKILL of the owner, SIGTERM of the owner (Release), SIGSTOP of the owner for 1.2 to 2 TTLs then SIGCONT, SIGKILL of a follower; one at a time, 0.25 to 1 TTL apart once all processes have joined", o.events),
		"supervisor":      "restarts every process that exits",
		"sync_and_pause":  "none; a warm-up of " + o.warmup.String() + " at the start",
		"seed":            strconv.FormatUint(o.seed, 10),
		"joins_alongside": "a fleet of 6 on another lease in the same directory, its owner checking and appending every " + loadedCheck.String(),
	}}
	say("loaded: %d processes, TTL %v, the owner appending every %v; %d faults of each kind at random; %v warm-up",
		loadedProcesses, loadedTTL, loadedCheck, o.events, o.warmup)
	res, err := measure.RunLoaded(measure.LoadedConfig{
		Exe: o.exe, Dir: subdir(o, "loaded"), Processes: loadedProcesses, TTL: loadedTTL, Check: loadedCheck,
		Events: o.events, Warmup: o.warmup, Seed: o.seed, Progress: os.Stdout,
	})
	if err != nil {
		return nil, nil, err
	}
	l.Figures = res.Figures()
	say("  crash %+v\n          graceful %+v\n          hang beyond the TTL %+v", l.Crash, l.Graceful, l.HangBeyondTTL)
	say("  %d follower kills, %d superseded, %d acquisitions (%d no fault caused), restarts %v, %d worker errors, %.0f lines appended a second",
		l.FollowerKills, len(l.Superseded), l.Acquisitions, l.Unprovoked, l.Restarts, len(l.WorkerErrors), l.OwnerAppendsPerSecond)

	say("loaded joins: %d rounds of 1 and of 64 simultaneous joiners, beside a working fleet", o.rounds)
	bgDir := subdir(o, "background")
	bg, err := fleet.Launch(o.exe, nil, bgDir, loadedProcesses, loadedTTL, 0,
		worker.EnvCheck+"="+loadedCheck.String(), worker.EnvAppend+"="+filepath.Join(bgDir, measure.OutputFile), worker.EnvReport+"=first")
	if err != nil {
		return nil, nil, err
	}
	if _, err := measure.Owner(bg); err != nil {
		bg.Close()
		return nil, nil, err
	}
	l.joinFigures, err = joinRounds(o, "loaded-")
	bg.Close()
	if err != nil {
		return nil, nil, err
	}

	idleRenew := idleTTL / 3
	say("idle: an owner and %d followers, TTL %v, renewal every %v; %v warm-up, %v window, read from /proc",
		idleProcesses-1, idleTTL, idleRenew.Round(time.Millisecond), o.warmup, o.idle)
	f, err := fleet.Launch(o.exe, nil, subdir(o, "idle"), idleProcesses, idleTTL, 0, worker.EnvCheck+"=1s")
	if err != nil {
		return nil, nil, err
	}
	idle, err := measure.IdleCost(f, idleProcesses, o.warmup, o.idle, nil)
	f.Close()
	if err != nil {
		return nil, nil, err
	}
	l.Idle = idleFigures(idle, idleRenew, o)
	say("  owner %.4f%% of a core; followers max %.4f%% mean %.4f%%, voluntary switches per renewal max %.2f mean %.2f",
		l.Idle.Owner.CPU, l.Idle.Followers.MaxCPU, l.Idle.Followers.MeanCPU, l.Idle.Followers.MaxVoluntary, l.Idle.Followers.MeanVoluntary)
	return l, map[string][]time.Duration{
		"crash (SIGKILL)":                res.Crash,
		"graceful (SIGTERM)":             res.Graceful,
		"hang, beyond the TTL":           res.HangBeyondTTL,
		"64 simultaneous Joins, slowest": l.slowest,
	}, nil
}

func idleFigures(idle measure.Idle, renew time.Duration, o options) IdleFigures {
	var fig IdleFigures
	fig.Setup = map[string]string{
		"processes":      fmt.Sprintf("%d: an owner and %d followers", idleProcesses, idleProcesses-1),
		"ttl":            idleTTL.String(),
		"renew_interval": renew.Round(time.Millisecond).String() + " (the library's default, TTL/3)",
		"owner_work":     "Check once a second",
		"window":         o.idle.String() + " after a warm-up of " + o.warmup.String(),
		"source":         "/proc/PID/task/*/schedstat (time on a CPU) and status (context switches), summed over the threads; switches per renewal are over window / renew_interval renewals",
	}
	fig.Owner = idleProcess(idle.Owner, renew)
	fs := &fig.Followers
	for _, c := range idle.Followers {
		p := idleProcess(c, renew)
		fs.Each = append(fs.Each, p)
		fs.MaxCPU = max(fs.MaxCPU, p.CPU)
		fs.MaxVoluntary = max(fs.MaxVoluntary, p.Voluntary)
		fs.MaxInvoluntary = max(fs.MaxInvoluntary, p.Involuntary)
		fs.MeanCPU += p.CPU / float64(len(idle.Followers))
		fs.MeanVoluntary += p.Voluntary / float64(len(idle.Followers))
		fs.ThreadsGoneInside += p.ThreadsGone
	}
	return fig
}
