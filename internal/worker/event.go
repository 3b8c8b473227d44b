// Package worker is a process that joins an election through the public
// owner API and reports, one line per event on its standard output, what
// the library told it: tests, benchmarks and the chaos tool run it as many
// real processes and judge the lines.
package worker

import (
	"fmt"
	"strconv"
	"strings"
)

// Event kinds, as the first word of a line.
const (
	Ready    = "ready"    // waiting for "go" on standard input
	Joined   = "joined"   // Join returned; Text is the role and own id
	Acquired = "acquired" // became owner; T1 is when Acquired was seen
	OK       = "ok"       // Check succeeded between T1 and T2
	Fail     = "fail"     // Check failed between T1 and T2 while owner; Text is why
	Lost     = "lost"     // Lost fired; Text is LostErr
	Released = "released" // Release returned at T1
	Error    = "error"    // a call failed; Text says which and why
	CPU      = "cpu"      // T1 is the CPU time used so far (ns), T2 when measured
)

// Event is one line of a worker's output. Times are mono.Now readings.
type Event struct {
	Worker int // set by the reader, not on the line
	Kind   string
	Epoch  uint64
	T1, T2 int64
	Text   string
}

// String formats e as a line without the newline.
func (e Event) String() string {
	s := fmt.Sprintf("%s %d %d %d", e.Kind, e.Epoch, e.T1, e.T2)
	if e.Text != "" {
		s += " " + strings.ReplaceAll(e.Text, "\n", " ")
	}
	return s
}

// Parse reads a line written by String.
func Parse(line string) (Event, error) {
	f := strings.SplitN(strings.TrimSpace(line), " ", 5)
	if len(f) < 4 {
		return Event{}, fmt.Errorf("worker: short line %q", line)
	}
	var e Event
	var err1, err2, err3 error
	e.Kind = f[0]
	e.Epoch, err1 = strconv.ParseUint(f[1], 10, 64)
	e.T1, err2 = strconv.ParseInt(f[2], 10, 64)
	e.T2, err3 = strconv.ParseInt(f[3], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return Event{}, fmt.Errorf("worker: bad line %q", line)
	}
	if len(f) == 5 {
		e.Text = f[4]
	}
	return e, nil
}
