package stats

import (
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	s := Summarize(ds)
	if s.N != 100 || s.P50 != 50*time.Millisecond || s.P90 != 90*time.Millisecond || s.P99 != 99*time.Millisecond || s.Max != 100*time.Millisecond || s.Min != time.Millisecond {
		t.Fatalf("summary %+v", s)
	}
	if ds[0] != 100*time.Millisecond {
		t.Fatal("Summarize sorted its input")
	}
	if one := Summarize([]time.Duration{7}); one.P99 != 7 || one.P50 != 7 {
		t.Fatalf("one sample: %+v", one)
	}
	if (Summarize(nil) != Summary{}) {
		t.Fatal("empty input")
	}
}

func TestMillis(t *testing.T) {
	l := Millis([]time.Duration{1500 * time.Microsecond, 2 * time.Millisecond, 2250 * time.Microsecond})
	if l != (Latency{N: 3, P50: 2, P90: 2.25, P99: 2.25, Max: 2.25}) {
		t.Fatalf("Millis: %+v", l)
	}
}
