//go:build unix

package measure

import (
	"slices"
	"testing"
	"time"
)

// drain runs s to the end, counting every choice as done, and returns the
// choices.
func drain(t *testing.T, s *Schedule) []Fault {
	t.Helper()
	var got []Fault
	for {
		f, ok := s.Next()
		if !ok {
			return got
		}
		got = append(got, f)
		s.Done(f)
		if len(got) > 1000 {
			t.Fatal("the schedule does not end")
		}
	}
}

func TestScheduleMeetsEveryQuotaExactly(t *testing.T) {
	t.Parallel()
	got := drain(t, NewSchedule(1, 25))
	if len(got) != 4*25 {
		t.Fatalf("%d faults, want %d", len(got), 4*25)
	}
	for _, f := range Faults {
		if n := count(got, f); n != 25 {
			t.Errorf("%s chosen %d times, want 25", f, n)
		}
	}
	// At random, not kind by kind: every kind shows up in the first half.
	for _, f := range Faults {
		if count(got[:50], f) == 0 {
			t.Errorf("%s not among the first 50 choices: %v", f, got[:50])
		}
	}
}

func TestScheduleChoosesAgainWhatWasNotDone(t *testing.T) {
	t.Parallel()
	s := NewSchedule(7, 1)
	// A fault that could not be measured is not counted...
	for range 20 {
		if _, ok := s.Next(); !ok {
			t.Fatal("the schedule ended with nothing done")
		}
	}
	for _, f := range Faults {
		if s.Left(f) != 1 {
			t.Fatalf("%s: %d left after choices alone, want 1", f, s.Left(f))
		}
	}
	// ...and a kind done to its quota is not chosen again.
	s.Done(FaultHang)
	s.Done(FaultHang) // no lower than zero
	if s.Left(FaultHang) != 0 {
		t.Fatalf("hang: %d left", s.Left(FaultHang))
	}
	rest := drain(t, s)
	if len(rest) != 3 || slices.Contains(rest, FaultHang) {
		t.Fatalf("after the hang was done: %v", rest)
	}
}

func TestScheduleIsReproducible(t *testing.T) {
	t.Parallel()
	a, b, c := drain(t, NewSchedule(3, 10)), drain(t, NewSchedule(3, 10)), drain(t, NewSchedule(4, 10))
	if !slices.Equal(a, b) {
		t.Fatal("the same seed chose differently")
	}
	if slices.Equal(a, c) {
		t.Fatal("two seeds chose alike")
	}
}

func TestScheduleBetween(t *testing.T) {
	t.Parallel()
	s := NewSchedule(1, 0)
	if _, ok := s.Next(); ok {
		t.Fatal("a schedule of no faults chose one")
	}
	lo, hi := 100*time.Millisecond, 400*time.Millisecond
	seen := map[bool]int{}
	for range 1000 {
		d := s.Between(lo, hi)
		if d < lo || d >= hi {
			t.Fatalf("Between = %v, outside [%v, %v)", d, lo, hi)
		}
		seen[d < 250*time.Millisecond]++
	}
	if seen[true] < 300 || seen[false] < 300 {
		t.Fatalf("not uniform: %v below and above the middle", seen)
	}
	if d := s.Between(hi, lo); d != hi {
		t.Fatalf("Between(hi, lo) = %v", d)
	}
}

func count(fs []Fault, f Fault) int {
	n := 0
	for _, g := range fs {
		if g == f {
			n++
		}
	}
	return n
}
