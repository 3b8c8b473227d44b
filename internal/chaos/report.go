//go:build unix

package chaos

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/leasehold/leasehold/internal/history"
	"github.com/leasehold/leasehold/internal/stats"
	"github.com/leasehold/leasehold/internal/worker"
)

// Report is the judgement of a run.
type Report struct {
	Impl       string         `json:"impl"`
	Workers    int            `json:"workers"`
	Duration   string         `json:"duration"`
	TTL        string         `json:"ttl"`
	Renew      string         `json:"renew_interval"`
	Faults     map[string]int `json:"faults"`
	Epochs     int            `json:"epochs"`
	Checks     int            `json:"successful_checks"`
	Violations []string       `json:"violations"`
	// Gaps: times with no owner, by the fault before them, in ms.
	Gaps     map[string]GapStats `json:"gaps_ms"`
	LongGaps []string            `json:"long_gaps"` // longer than MaxGap
	MaxGap   string              `json:"max_gap"`
	Errors   []string            `json:"errors"` // what workers reported as errors, and unreadable output
}

// GapStats summarises the gaps after one kind of fault.
type GapStats struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// Failed reports a safety violation: the exit status of the chaos tool.
func (r Report) Failed() bool { return len(r.Violations) > 0 }

// Judge checks res. maxGap is the longest time without an owner that the
// failure model allows; longer ones are listed.
func Judge(res *Result, maxGap time.Duration) Report {
	c := res.Config
	impl := c.Impl
	if impl == "" {
		impl = "owner"
	}
	r := Report{
		Impl: impl, Workers: c.Workers, Duration: c.Duration.String(), TTL: c.TTL.String(), Renew: c.Renew.String(),
		Faults: res.FaultCounts(), Violations: history.Violations(res.Events),
		Gaps: map[string]GapStats{}, MaxGap: maxGap.String(),
	}
	for _, e := range res.Events {
		switch e.Kind {
		case worker.OK:
			r.Checks++
		case worker.Error:
			r.Errors = append(r.Errors, fmt.Sprintf("worker %d: %s", e.Worker, e.Text))
		}
	}
	for _, b := range res.Bad {
		r.Errors = append(r.Errors, "unreadable output: "+b)
	}
	ten := history.Tenures(res.Events)
	r.Epochs = len(ten)
	by := map[string][]time.Duration{}
	for _, g := range history.Gaps(ten, res.Faults) {
		d := time.Duration(g.To - g.From)
		by[g.Cause] = append(by[g.Cause], d)
		if d > maxGap {
			r.LongGaps = append(r.LongGaps, fmt.Sprintf("%v without an owner between epochs %d and %d, after %s", d.Round(time.Millisecond), g.Before, g.After, g.Cause))
		}
	}
	for cause, ds := range by {
		s := stats.Summarize(ds)
		r.Gaps[cause] = GapStats{N: s.N, P50: ms(s.P50), P99: ms(s.P99), Max: ms(s.Max)}
	}
	return r
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Print writes r for a person.
func (r Report) Print(w io.Writer) {
	fmt.Fprintf(w, "implementation %s: %d workers, %s, TTL %s, renewal every %s\n", r.Impl, r.Workers, r.Duration, r.TTL, r.Renew)
	var parts []string
	for _, k := range Kinds() {
		parts = append(parts, fmt.Sprintf("%s %d", k, r.Faults[k]))
	}
	fmt.Fprintf(w, "faults: %s\n", strings.Join(parts, ", "))
	fmt.Fprintf(w, "epochs %d, successful checks %d\n", r.Epochs, r.Checks)
	fmt.Fprintf(w, "time without an owner, by the fault before it (ms):\n")
	for _, k := range append(Kinds(), "none") {
		if g, ok := r.Gaps[k]; ok {
			fmt.Fprintf(w, "  %-14s n=%-4d p50=%-8.2f p99=%-8.2f max=%.2f\n", k, g.N, g.P50, g.P99, g.Max)
		}
	}
	fmt.Fprintf(w, "gaps longer than %s: %d\n", r.MaxGap, len(r.LongGaps))
	for _, g := range first(r.LongGaps, 10) {
		fmt.Fprintf(w, "  %s\n", g)
	}
	fmt.Fprintf(w, "errors reported: %d\n", len(r.Errors))
	for _, e := range first(r.Errors, 10) {
		fmt.Fprintf(w, "  %s\n", e)
	}
	fmt.Fprintf(w, "SAFETY VIOLATIONS: %d\n", len(r.Violations))
	for _, v := range first(r.Violations, 20) {
		fmt.Fprintf(w, "  %s\n", v)
	}
}

func first(s []string, n int) []string { return s[:min(n, len(s))] }

// record is one line of an events file.
type record struct {
	Fault  string `json:"fault,omitempty"`
	Worker int    `json:"worker"`
	Kind   string `json:"kind,omitempty"`
	Epoch  uint64 `json:"epoch,omitempty"`
	T1     int64  `json:"t1"`
	T2     int64  `json:"t2,omitempty"`
	Text   string `json:"text,omitempty"`
}

// Save writes res as JSON lines: the config first, then faults and events.
func (res *Result) Save(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	cfg := res.Config
	cfg.Progress = nil
	if err := enc.Encode(struct {
		Config Config `json:"config"`
	}{cfg}); err != nil {
		return err
	}
	for _, x := range res.Faults {
		if err := enc.Encode(record{Fault: x.Kind, T1: x.T}); err != nil {
			return err
		}
	}
	for _, e := range res.Events {
		if err := enc.Encode(record{Worker: e.Worker, Kind: e.Kind, Epoch: e.Epoch, T1: e.T1, T2: e.T2, Text: e.Text}); err != nil {
			return err
		}
	}
	for _, b := range res.Bad {
		if err := enc.Encode(record{Kind: "bad-output", Text: b}); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// Load reads a file written by Save.
func Load(path string) (*Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 1<<20), 1<<20)
	res := &Result{}
	for n := 1; s.Scan(); n++ {
		if n == 1 {
			var head struct {
				Config Config `json:"config"`
			}
			if err := json.Unmarshal(s.Bytes(), &head); err != nil {
				return nil, fmt.Errorf("%s:1: %w", path, err)
			}
			res.Config = head.Config
			continue
		}
		var r record
		if err := json.Unmarshal(s.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		switch {
		case r.Fault != "":
			res.Faults = append(res.Faults, history.Fault{Kind: r.Fault, T: r.T1})
		case r.Kind == "bad-output":
			res.Bad = append(res.Bad, r.Text)
		default:
			res.Events = append(res.Events, worker.Event{Worker: r.Worker, Kind: r.Kind, Epoch: r.Epoch, T1: r.T1, T2: r.T2, Text: r.Text})
		}
	}
	return res, s.Err()
}

// Conclude judges res as a chaos command ends: it prints the report to w,
// writes it as indented JSON to path unless path is "", and returns the
// command's exit code, 1 if the run failed and 0 if not.
func Conclude(w io.Writer, res *Result, maxGap time.Duration, path string) (int, error) {
	rep := Judge(res, maxGap)
	rep.Print(w)
	if path != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			return 2, err
		}
	}
	if rep.Failed() {
		return 1, nil
	}
	return 0, nil
}
