package history

import (
	"strings"
	"testing"

	"github.com/leasehold/leasehold/internal/worker"
)

func ok(w int, epoch uint64, before, after int64) worker.Event {
	return worker.Event{Worker: w, Kind: worker.OK, Epoch: epoch, T1: before, T2: after}
}

func acq(w int, epoch uint64, at int64) worker.Event {
	return worker.Event{Worker: w, Kind: worker.Acquired, Epoch: epoch, T1: at}
}

func TestViolations(t *testing.T) {
	for _, tc := range []struct {
		name string
		log  []worker.Event
		want string // "" for none
	}{
		{"clean handover", []worker.Event{acq(0, 1, 0), ok(0, 1, 1, 2), ok(0, 1, 10, 11), acq(1, 2, 12), ok(1, 2, 13, 14)}, ""},
		{"checks that may have been simultaneous", []worker.Event{ok(0, 1, 10, 20), ok(1, 2, 15, 25)}, ""},
		{"stale owner after successor", []worker.Event{ok(1, 2, 13, 14), ok(0, 1, 15, 16)}, "overlap: epoch 1 (worker 0)"},
		{"stale owner long after", []worker.Event{ok(0, 1, 1, 2), ok(1, 2, 3, 4), ok(2, 3, 5, 6), ok(0, 1, 7, 8)}, "overlap: epoch 1"},
		{"epoch acquired twice", []worker.Event{acq(0, 1, 0), acq(1, 1, 5)}, "epoch 1 acquired twice"},
		{"epochs out of order", []worker.Event{ok(0, 2, 1, 2), ok(1, 1, 3, 4)}, "epoch went backwards"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := strings.Join(Violations(tc.log), "\n")
			if tc.want == "" && got != "" {
				t.Fatalf("violations in a clean log:\n%s", got)
			}
			if !strings.Contains(got, tc.want) {
				t.Fatalf("violations %q do not say %q", got, tc.want)
			}
		})
	}
}

func TestParseRoundTrip(t *testing.T) {
	e := worker.Event{Kind: worker.Fail, Epoch: 3, T1: -5, T2: 9, Text: "owner: ownership lost: x\ny"}
	got, err := worker.Parse(e.String())
	if err != nil {
		t.Fatal(err)
	}
	if got.Kind != e.Kind || got.Epoch != 3 || got.T1 != -5 || got.T2 != 9 || got.Text != "owner: ownership lost: x y" {
		t.Fatalf("parsed %+v", got)
	}
	for _, bad := range []string{"", "ok 1 2", "ok x 1 2", "ok 1 2 y"} {
		if _, err := worker.Parse(bad); err == nil {
			t.Errorf("Parse(%q) succeeded", bad)
		}
	}
}

func TestTenuresAndGaps(t *testing.T) {
	const ms = 1_000_000
	log := []worker.Event{ok(0, 1, 10*ms, 11*ms), ok(0, 1, 20*ms, 21*ms), ok(1, 2, 50*ms, 52*ms), ok(1, 2, 60*ms, 61*ms), ok(2, 3, 100*ms, 101*ms)}
	ten := Tenures(log)
	if len(ten) != 3 || ten[0] != (Tenure{1, 0, 11 * ms, 20 * ms}) || ten[1] != (Tenure{2, 1, 52 * ms, 60 * ms}) {
		t.Fatalf("tenures %+v", ten)
	}
	// The gap after epoch 2 began with the stop; the damage that came
	// during it is not its cause.
	gaps := Gaps(ten, []Fault{{"kill", 21 * ms}, {"stop", 60*ms + 500}, {"damage", 90 * ms}})
	if len(gaps) != 2 || gaps[0] != (Gap{20 * ms, 52 * ms, 1, 2, "kill"}) || gaps[1] != (Gap{60 * ms, 101 * ms, 2, 3, "stop"}) {
		t.Fatalf("gaps %+v", gaps)
	}
	if g := Gaps(ten[:2], []Fault{{"old", 1 * ms}}); g[0].Cause != "none" {
		t.Fatalf("gap without fault: %+v", g)
	}
	overlapping := []Tenure{{1, 0, 10, 50}, {2, 1, 30, 60}}
	if g := Gaps(overlapping, nil); len(g) != 0 {
		t.Fatalf("an overlap counted as a gap: %+v", g)
	}
}
