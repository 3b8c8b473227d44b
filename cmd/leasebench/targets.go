//go:build unix

package main

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// Target is one target of issue 9 and how each section's figure stands
// against it.
type Target struct {
	What   string  `json:"what"`
	Target string  `json:"target"`
	Loaded *Judged `json:"loaded,omitempty"`
	Quiet  *Judged `json:"quiet,omitempty"`
}

// Judged is a figure and whether it meets its target.
type Judged struct {
	Figure string `json:"figure"`
	Met    bool   `json:"met"`
}

// rule states a target and how to judge each section against it; a judge
// returns nil where the section lacks the figure.
type rule struct {
	what, target string
	loaded       func(*Loaded) *Judged
	quiet        func(*Quiet) *Judged
}

func failover(l Latency, limitMS float64) *Judged {
	if l.N == 0 {
		return nil
	}
	return &Judged{
		Figure: fmt.Sprintf("p50 %.2f ms, p99 %.2f ms, max %.2f ms (n=%d)", l.P50, l.P99, l.Max, l.N),
		Met:    l.P99 < limitMS,
	}
}

func joins64(l Latency, limitMS float64) *Judged {
	if l.N == 0 {
		return nil
	}
	return &Judged{
		Figure: fmt.Sprintf("p50 %.1f ms, p99 %.1f ms, max %.1f ms (n=%d rounds)", l.P50, l.P99, l.Max, l.N),
		Met:    l.Max < limitMS,
	}
}

func oneOwner(owners []int) *Judged {
	if len(owners) == 0 {
		return nil
	}
	ones := 0
	for _, n := range owners {
		if n == 1 {
			ones++
		}
	}
	return &Judged{Figure: fmt.Sprintf("1 owner in %d of %d rounds", ones, len(owners)), Met: ones == len(owners)}
}

// The targets of issue 9.
var rules = []rule{
	{"crash failover (SIGKILL of the owner)", "p99 < 5 ms",
		func(l *Loaded) *Judged { return failover(l.Crash, 5) },
		func(q *Quiet) *Judged { return failover(q.Crash, 5) }},
	{"graceful handover (SIGTERM, Release)", "p99 < 5 ms",
		func(l *Loaded) *Judged { return failover(l.Graceful, 5) },
		func(q *Quiet) *Judged { return failover(q.Release, 5) }},
	{"hang failover (SIGSTOP), beyond the TTL from the last renewal", "p99 < 20 ms",
		func(l *Loaded) *Judged { return failover(l.HangBeyondTTL, 20) },
		func(q *Quiet) *Judged { return failover(q.HangBeyondTTL, 20) }},
	{"idle follower CPU, of one core", "<= 0.02 % each",
		func(l *Loaded) *Judged {
			f := l.Idle.Followers
			if len(f.Each) == 0 {
				return nil
			}
			return &Judged{Figure: fmt.Sprintf("max %.4f %%, mean %.4f %% (%d followers)", f.MaxCPU, f.MeanCPU, len(f.Each)), Met: f.MaxCPU <= 0.02}
		},
		func(q *Quiet) *Judged {
			f := q.IdleFollowers
			if len(f.Each) == 0 {
				return nil
			}
			return &Judged{Figure: fmt.Sprintf("max %.4f %%, mean %.4f %% (%d followers)", f.Max, f.Mean, len(f.Each)), Met: f.Max <= 0.02}
		}},
	{"idle follower wake-ups (voluntary context switches) per renewal", "<= 2 each",
		func(l *Loaded) *Judged {
			f := l.Idle.Followers
			if len(f.Each) == 0 {
				return nil
			}
			return &Judged{Figure: fmt.Sprintf("max %.2f, mean %.2f", f.MaxVoluntary, f.MeanVoluntary), Met: f.MaxVoluntary <= 2}
		},
		nil},
	{"idle owner CPU, with 15 followers", "<= 0.1 %",
		func(l *Loaded) *Judged {
			if len(l.Idle.Followers.Each) == 0 {
				return nil
			}
			return &Judged{Figure: fmt.Sprintf("%.4f %%", l.Idle.Owner.CPU), Met: l.Idle.Owner.CPU <= 0.1}
		},
		func(q *Quiet) *Judged {
			if len(q.IdleFollowers.Each) == 0 {
				return nil
			}
			return &Judged{Figure: fmt.Sprintf("%.4f %% (with %d followers)", q.IdleOwner, len(q.IdleFollowers.Each)), Met: q.IdleOwner <= 0.1}
		}},
	{"slowest of 64 simultaneous Joins", "< 50 ms in every round",
		func(l *Loaded) *Judged { return joins64(l.Join64, 50) },
		func(q *Quiet) *Judged { return joins64(q.Join64, 50) }},
	{"owners elected by 64 simultaneous Joins", "exactly 1 in every round",
		func(l *Loaded) *Judged { return oneOwner(l.Join64Owners) },
		func(q *Quiet) *Judged { return oneOwner(q.Join64Owners) }},
}

// judge returns every target with the figures of the sections run.
func judge(l *Loaded, q *Quiet) []Target {
	var ts []Target
	for _, r := range rules {
		t := Target{What: r.what, Target: r.target}
		if l != nil && r.loaded != nil {
			t.Loaded = r.loaded(l)
		}
		if q != nil && r.quiet != nil {
			t.Quiet = r.quiet(q)
		}
		ts = append(ts, t)
	}
	return ts
}

func verdict(j *Judged) string {
	switch {
	case j == nil:
		return "–"
	case j.Met:
		return j.Figure + ": met"
	default:
		return j.Figure + ": NOT met"
	}
}

// printTable writes the targets with the figures of both sections.
func printTable(w io.Writer, l *Loaded, q *Quiet, ts []Target) {
	if l != nil {
		fmt.Fprintf(w, "loaded (the headline): %s processes on one lease, TTL %s, renewal every %s; the owner: %s; faults at random, one at a time; a supervisor %s; no sync or pause before measuring.\n",
			l.Setup["processes"], l.Setup["ttl"], l.Setup["renew_interval"], l.Setup["owner_work"], l.Setup["supervisor"])
		fmt.Fprintf(w, "  idle: %s, TTL %s, renewal %s, %s.\n", l.Idle.Setup["processes"], l.Idle.Setup["ttl"], l.Idle.Setup["renew_interval"], l.Idle.Setup["window"])
		fmt.Fprintf(w, "  %d follower kills; %d faults superseded; %d of %d acquisitions caused by no fault; %d worker errors; restarts %v.\n",
			l.FollowerKills, len(l.Superseded), l.Unprovoked, l.Acquisitions, len(l.WorkerErrors), l.Restarts)
	}
	if q != nil {
		fmt.Fprintln(w, "quiet machine: one fault kind at a time, 3 followers waiting, the owner only reporting to a pipe, a sync and a 2 s pause before each measurement.")
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "what\ttarget\tloaded\tquiet machine")
	for _, t := range ts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.What, t.Target, verdict(t.Loaded), verdict(t.Quiet))
	}
	tw.Flush()
}
