// Package stats summarises measured latencies.
package stats

import (
	"fmt"
	"slices"
	"time"
)

// Summary is the distribution of a set of durations.
type Summary struct {
	N                       int
	P50, P90, P99, Max, Min time.Duration
}

// Summarize returns the summary of ds; percentiles are nearest-rank.
func Summarize(ds []time.Duration) Summary {
	if len(ds) == 0 {
		return Summary{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := func(p float64) time.Duration {
		i := int(p*float64(len(s))+0.999999) - 1
		return s[min(max(i, 0), len(s)-1)]
	}
	return Summary{N: len(s), P50: rank(0.50), P90: rank(0.90), P99: rank(0.99), Max: s[len(s)-1], Min: s[0]}
}

func (s Summary) String() string {
	return fmt.Sprintf("n=%d p50=%v p90=%v p99=%v max=%v", s.N, round(s.P50), round(s.P90), round(s.P99), round(s.Max))
}

func round(d time.Duration) time.Duration { return d.Round(10 * time.Microsecond) }

// Latency is a distribution in milliseconds, as the benchmarks write it.
type Latency struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50_ms"`
	P90 float64 `json:"p90_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

// Millis returns the distribution of ds in milliseconds.
func Millis(ds []time.Duration) Latency {
	s := Summarize(ds)
	return Latency{N: s.N, P50: ms(s.P50), P90: ms(s.P90), P99: ms(s.P99), Max: ms(s.Max)}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
