//go:build unix

package chaos

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/leasehold/leasehold/internal/history"
	"github.com/leasehold/leasehold/internal/worker"
)

func ev(w int, kind string, epoch uint64, t1, t2 int64) worker.Event {
	return worker.Event{Worker: w, Kind: kind, Epoch: epoch, T1: t1, T2: t2}
}

func TestJudge(t *testing.T) {
	ms := int64(time.Millisecond)
	res := &Result{
		Config: Config{Workers: 2, Duration: time.Second, TTL: 400 * time.Millisecond, Renew: 100 * time.Millisecond},
		Events: []worker.Event{
			ev(0, worker.Acquired, 1, 0, 0), ev(0, worker.OK, 1, 1*ms, 2*ms), ev(0, worker.OK, 1, 10*ms, 11*ms),
			ev(1, worker.Acquired, 2, 13*ms, 0), ev(1, worker.OK, 2, 14*ms, 15*ms),
			ev(0, worker.OK, 2, 3000*ms, 3001*ms), // epoch 2 again, by another worker, 3 s later: no violation by itself
			ev(1, worker.Error, 0, 0, 0),
		},
		Faults: []history.Fault{{Kind: KillOwner, T: 12 * ms}},
		Bad:    []string{"garbage"},
	}
	res.Events[len(res.Events)-1].Text = "join: boom"
	r := Judge(res, 900*time.Millisecond)
	if r.Failed() || r.Epochs != 2 || r.Checks != 4 {
		t.Fatalf("report %+v", r)
	}
	if g := r.Gaps[KillOwner]; g.N != 1 || g.Max != 5 {
		t.Fatalf("gap after the kill: %+v", r.Gaps)
	}
	if len(r.Errors) != 2 || !strings.Contains(r.Errors[0], "join: boom") || !strings.Contains(r.Errors[1], "garbage") {
		t.Fatalf("errors %q", r.Errors)
	}

	res.Events = append(res.Events, ev(0, worker.OK, 1, 20*ms, 21*ms)) // epoch 1 after epoch 2
	if r := Judge(res, 900*time.Millisecond); !r.Failed() {
		t.Fatal("a stale owner after its successor is not a violation")
	}
	res.Events = append(res.Events, ev(2, worker.OK, 3, 5000*ms, 5001*ms))
	if r := Judge(res, 900*time.Millisecond); len(r.LongGaps) != 1 {
		t.Fatalf("long gaps %q", r.LongGaps)
	}
}

func TestSaveLoad(t *testing.T) {
	res := &Result{
		Config: Config{Workers: 3, Duration: time.Minute, TTL: time.Second, Renew: 300 * time.Millisecond, Impl: "naive", Seed: 7},
		Events: []worker.Event{ev(0, worker.OK, 1, 5, 6), {Worker: 1, Kind: worker.Lost, Epoch: 1, T1: 9, Text: "owner: ownership lost: x"}},
		Faults: []history.Fault{{Kind: Burst, T: 3}},
		Bad:    []string{"?"},
	}
	path := filepath.Join(t.TempDir(), "e.jsonl")
	if err := res.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, res) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, res)
	}
}
