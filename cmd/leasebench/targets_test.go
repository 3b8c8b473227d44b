//go:build unix

package main

import (
	"bytes"
	"strings"
	"testing"
)

func loadedSample() *Loaded {
	l := &Loaded{Setup: map[string]string{}}
	l.Crash = Latency{N: 60, P50: 2, P99: 4.9, Max: 6}
	l.Graceful = Latency{N: 60, P50: 2, P99: 5, Max: 5.5} // p99 < 5 is not met at 5
	l.HangBeyondTTL = Latency{N: 60, P50: 8, P99: 19, Max: 40}
	l.Join64, l.Join64Owners = Latency{N: 3, P50: 30, P99: 49, Max: 49.9}, []int{1, 1, 1}
	l.Idle.Setup = map[string]string{}
	l.Idle.Owner.CPU = 0.11
	l.Idle.Followers.Each = []IdleProcess{{CPU: 0.01, Voluntary: 1}, {CPU: 0.02, Voluntary: 2.5}}
	l.Idle.Followers.MaxCPU, l.Idle.Followers.MaxVoluntary = 0.02, 2.5
	return l
}

func TestJudge(t *testing.T) {
	t.Parallel()
	q := &Quiet{Crash: Latency{N: 1, P99: 1}}
	q.Join64, q.Join64Owners = Latency{N: 2, Max: 88}, []int{1, 2}
	ts := judge(loadedSample(), q)
	if len(ts) != len(rules) {
		t.Fatalf("%d targets, want %d", len(ts), len(rules))
	}
	want := map[string][2]string{ // loaded, quiet: "met", "NOT", or "" for no figure
		"crash failover (SIGKILL of the owner)":                           {"met", "met"},
		"graceful handover (SIGTERM, Release)":                            {"NOT", ""},
		"hang failover (SIGSTOP), beyond the TTL from the last renewal":   {"met", ""},
		"idle follower CPU, of one core":                                  {"met", ""},
		"idle follower wake-ups (voluntary context switches) per renewal": {"NOT", ""},
		"idle owner CPU, with 15 followers":                               {"NOT", ""},
		"slowest of 64 simultaneous Joins":                                {"met", "NOT"},
		"owners elected by 64 simultaneous Joins":                         {"met", "NOT"},
	}
	state := func(j *Judged) string {
		switch {
		case j == nil:
			return ""
		case j.Met:
			return "met"
		}
		return "NOT"
	}
	for _, tg := range ts {
		w, ok := want[tg.What]
		if !ok {
			t.Errorf("unexpected target %q", tg.What)
			continue
		}
		if got := [2]string{state(tg.Loaded), state(tg.Quiet)}; got != w {
			t.Errorf("%s: loaded and quiet judged %q, want %q", tg.What, got, w)
		}
	}
	if j := oneOwner([]int{1, 2}); j.Figure != "1 owner in 1 of 2 rounds" {
		t.Errorf("oneOwner figure %q", j.Figure)
	}

	// A section not run has no figures; the other keeps its own.
	for _, tg := range judge(nil, q) {
		if tg.Loaded != nil {
			t.Errorf("%s: a loaded figure without a loaded run", tg.What)
		}
	}

	var b bytes.Buffer
	printTable(&b, loadedSample(), q, ts)
	out := b.String()
	for _, s := range []string{"quiet machine", "p99 4.90 ms", ": NOT met", ": met", "–"} {
		if !strings.Contains(out, s) {
			t.Errorf("the table lacks %q:\n%s", s, out)
		}
	}
}

func TestOneOwnerEach(t *testing.T) {
	t.Parallel()
	if err := oneOwnerEach("loaded", []int{1, 1}); err != nil {
		t.Fatal(err)
	}
	if err := oneOwnerEach("loaded", []int{1, 0, 1}); err == nil || !strings.Contains(err.Error(), "round 1") {
		t.Fatalf("a round with no owner: %v", err)
	}
}

func TestParseOnly(t *testing.T) {
	t.Parallel()
	all, err := parseOnly("")
	if err != nil || !all[sectionLoaded] || !all[sectionQuiet] || !all[sectionChaos] {
		t.Fatalf("parseOnly(\"\") = %v, %v", all, err)
	}
	some, err := parseOnly("loaded, chaos")
	if err != nil || !some[sectionLoaded] || some[sectionQuiet] || !some[sectionChaos] {
		t.Fatalf("parseOnly = %v, %v", some, err)
	}
	if _, err := parseOnly("loaded,fast"); err == nil {
		t.Fatal("an unknown section was accepted")
	}
}
