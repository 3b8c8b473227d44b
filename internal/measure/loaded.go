//go:build unix

package measure

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"github.com/leasehold/leasehold/internal/fleet"
	"github.com/leasehold/leasehold/internal/stats"
	"github.com/leasehold/leasehold/internal/worker"
)

// LoadedConfig describes the loaded scenario: Processes workers on one
// lease, kept at that number by a supervisor; the owner calls Check every
// Check and appends a line to a file beside the lease after each success;
// and faults, chosen at random (Schedule), hit the owner or a follower
// one at a time, with no pause for the disk to settle.
type LoadedConfig struct {
	Exe       string   // the worker binary
	Args      []string // its arguments; a test binary needs "-test.run=^$"
	Env       []string // added to the workers' environment
	Renewal   Renewal  // when a frozen owner last renewed; RecordRenewal if nil
	Dir       string   // holds the lease and the owner's output file
	Processes int
	TTL       time.Duration
	Renew     time.Duration // 0 for the library's default, TTL/3
	Check     time.Duration // how often the owner checks and appends
	Events    int           // measured faults of each kind; as many follower kills
	Warmup    time.Duration // how long the fleet runs before the first fault
	Seed      uint64
	Progress  io.Writer // if set, gets a line every 20 faults
}

// Loaded is what a loaded run measured.
type Loaded struct {
	// From the signal to the end of the successor's first successful Check.
	Crash, Graceful []time.Duration
	// From the frozen owner's last renewal to the end of the successor's
	// first successful Check, less the TTL.
	HangBeyondTTL []time.Duration
	FollowerKills int
	// Superseded lists the faults not measured because the owner signalled
	// had already been succeeded; the schedule chose their kind again.
	Superseded []string
	// Acquisitions counts the epochs acquired during the run; Unprovoked
	// those of them that are neither the first nor the successor of a
	// measured fault: owners lost with no fault to cause it.
	Acquisitions, Unprovoked int
	// Restarts counts the processes the supervisor replaced, by how they
	// ended ("signal: killed", "exit status 0", ...).
	Restarts map[string]int
	// WorkerErrors holds every error a worker reported, and output lines
	// that were not events.
	WorkerErrors []string
	// Appended is the number of lines the owners appended to their
	// output file over Elapsed, the whole run with its warm-up.
	Appended int64
	Elapsed  time.Duration
}

// Figures is what a loaded run measured, as the benchmarks write it.
type Figures struct {
	// From the signal to the end of the successor's first successful Check.
	Crash    stats.Latency `json:"crash_sigkill"`
	Graceful stats.Latency `json:"graceful_sigterm_release"`
	// From the frozen owner's last renewal to the end of the successor's
	// first successful Check, less the TTL.
	HangBeyondTTL stats.Latency `json:"hang_sigstop_beyond_ttl"`
	FollowerKills int           `json:"follower_kills"`
	// Faults not measured because the owner signalled had already been
	// succeeded; their kind was chosen again.
	Superseded []string `json:"superseded"`
	// Epochs acquired, and of them those no fault caused.
	Acquisitions int            `json:"acquisitions"`
	Unprovoked   int            `json:"unprovoked_failovers"`
	Restarts     map[string]int `json:"restarts_by_exit"`
	WorkerErrors []string       `json:"worker_errors"`
	// Lines the owners appended, per second of the run.
	OwnerAppendsPerSecond float64 `json:"owner_appends_per_s"`
	Seconds               float64 `json:"seconds"`
}

// Figures summarises l.
func (l *Loaded) Figures() Figures {
	return Figures{
		Crash: stats.Millis(l.Crash), Graceful: stats.Millis(l.Graceful), HangBeyondTTL: stats.Millis(l.HangBeyondTTL),
		FollowerKills: l.FollowerKills, Superseded: append([]string{}, l.Superseded...),
		Acquisitions: l.Acquisitions, Unprovoked: l.Unprovoked, Restarts: l.Restarts,
		WorkerErrors:          append([]string{}, l.WorkerErrors...),
		OwnerAppendsPerSecond: float64(l.Appended) / l.Elapsed.Seconds(),
		Seconds:               l.Elapsed.Seconds(),
	}
}

// OutputFile is the name, in LoadedConfig.Dir, of the file the owners
// append to.
const OutputFile = "owner.out"

// RunLoaded runs the loaded scenario until every fault kind has been done
// cfg.Events times.
func RunLoaded(cfg LoadedConfig) (*Loaded, error) {
	if cfg.Processes < 2 || cfg.Events < 0 || cfg.Check <= 0 {
		return nil, fmt.Errorf("measure: a loaded run needs an owner and a follower, a count of events and a check interval: %+v", cfg)
	}
	out := filepath.Join(cfg.Dir, OutputFile)
	begin := time.Now()
	f, err := fleet.Launch(cfg.Exe, cfg.Args, cfg.Dir, cfg.Processes, cfg.TTL, cfg.Renew,
		append([]string{worker.EnvCheck + "=" + cfg.Check.String(), worker.EnvAppend + "=" + out, worker.EnvReport + "=first"}, cfg.Env...)...)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sup := f.Supervise()
	defer sup.Stop() // before f.Close
	l := &loaded{cfg: cfg, f: f, sup: sup, sched: NewSchedule(cfg.Seed, cfg.Events), res: &Loaded{}}
	if err := l.ready(); err != nil {
		return nil, err
	}
	first, err := Owner(f)
	if err != nil {
		return nil, err
	}
	l.caused = map[uint64]bool{first.Epoch: true}
	time.Sleep(cfg.Warmup)
	if err := l.faults(); err != nil {
		return nil, err
	}
	sup.Stop()
	f.Close()
	l.res.Elapsed = time.Since(begin)
	l.tally(sup.Restarts())
	if l.res.Appended, err = countLines(out); err != nil {
		return nil, err
	}
	return l.res, nil
}

type loaded struct {
	cfg    LoadedConfig
	f      *fleet.Fleet
	sup    *fleet.Supervisor
	sched  *Schedule
	res    *Loaded
	caused map[uint64]bool // the first epoch, and those that succeeded a measured fault
}

// faults injects and measures faults until the schedule is done.
func (l *loaded) faults() error {
	total := len(Faults) * l.cfg.Events
	for done := 0; ; {
		kind, ok := l.sched.Next()
		if !ok {
			return nil
		}
		if err := l.ready(); err != nil {
			return err
		}
		err := l.inject(kind)
		if errors.Is(err, ErrSuperseded) {
			l.res.Superseded = append(l.res.Superseded, fmt.Sprintf("%s: %v", kind, err))
			if len(l.res.Superseded) > total {
				return fmt.Errorf("measure: %d faults superseded, the last: %w", len(l.res.Superseded), err)
			}
		} else if err != nil {
			return fmt.Errorf("measure: %s: %w", kind, err)
		} else {
			l.sched.Done(kind)
			done++
			if l.cfg.Progress != nil && done%20 == 0 {
				fmt.Fprintf(l.cfg.Progress, "  %d/%d faults\n", done, total)
			}
		}
		time.Sleep(l.sched.Between(l.cfg.TTL/4, l.cfg.TTL))
	}
}

// inject does one fault and waits until the process it hit has exited.
func (l *loaded) inject(kind Fault) error {
	e, w, err := l.owner()
	if err != nil {
		return err
	}
	var d time.Duration
	var next worker.Event
	switch kind {
	case FaultCrash, FaultGraceful:
		sig := syscall.SIGKILL
		if kind == FaultGraceful {
			sig = syscall.SIGTERM
		}
		d, next, err = HandoverOnce(l.f, w, e, sig)
	case FaultHang:
		resume := time.Now().Add(l.sched.Between(l.cfg.TTL*6/5, l.cfg.TTL*2))
		d, next, err = HangOnce(l.f, w, e, l.cfg.TTL, l.cfg.Renewal)
		time.Sleep(time.Until(resume))
		if _, cerr := w.Signal(syscall.SIGCONT); cerr != nil && err == nil {
			err = cerr
		}
	case FaultKillFollower:
		var followers []*fleet.Worker
		for _, v := range l.f.Live() {
			if v != w {
				followers = append(followers, v)
			}
		}
		w = followers[l.sched.Index(len(followers))]
		_, err = w.Signal(syscall.SIGKILL)
	}
	if werr := l.awaitExit(w); err == nil {
		err = werr
	}
	if err != nil {
		return err
	}
	switch kind {
	case FaultCrash:
		l.res.Crash = append(l.res.Crash, d)
	case FaultGraceful:
		l.res.Graceful = append(l.res.Graceful, d)
	case FaultHang:
		l.res.HangBeyondTTL = append(l.res.HangBeyondTTL, d)
	case FaultKillFollower:
		l.res.FollowerKills++
		return nil
	}
	l.caused[next.Epoch] = true
	return nil
}

// awaitExit waits for w to exit; one that does not within Limit is noted
// among the worker errors and killed.
func (l *loaded) awaitExit(w *fleet.Worker) error {
	select {
	case <-w.Done():
		return nil
	case <-time.After(Limit):
	}
	l.res.WorkerErrors = append(l.res.WorkerErrors, fmt.Sprintf("worker %d did not exit within %v of its fault; killed", w.ID, Limit))
	if _, err := w.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	<-w.Done()
	return nil
}

// owner returns the latest owner reported and its worker, waiting for a
// successor if that worker has exited.
func (l *loaded) owner() (worker.Event, *fleet.Worker, error) {
	e, err := Owner(l.f)
	for err == nil {
		w := l.f.Workers()[e.Worker]
		select {
		case <-w.Done():
			e, err = FirstOK(l.f, 0, e.Epoch)
		default:
			return e, w, nil
		}
	}
	return e, nil, err
}

// ready waits until the fleet has all its processes running, every one of
// them past its Join.
func (l *loaded) ready() error {
	end := time.Now().Add(Limit)
	for {
		if err := l.sup.Err(); err != nil {
			return err
		}
		joined := map[int]bool{}
		for _, e := range l.f.Log() {
			if e.Kind == worker.Joined {
				joined[e.Worker] = true
			}
		}
		live := l.f.Live()
		n := 0
		for _, w := range live {
			if joined[w.ID] {
				n++
			}
		}
		if len(live) == l.cfg.Processes && n == len(live) {
			return nil
		}
		if time.Now().After(end) {
			return fmt.Errorf("measure: %d of %d processes running and joined after %v", n, l.cfg.Processes, Limit)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// tally counts acquisitions, restarts and errors once the fleet is closed.
func (l *loaded) tally(restarts []fleet.Restart) {
	for _, e := range l.f.Log() {
		switch e.Kind {
		case worker.Acquired:
			l.res.Acquisitions++
			if !l.caused[e.Epoch] {
				l.res.Unprovoked++
			}
		case worker.Error:
			l.res.WorkerErrors = append(l.res.WorkerErrors, fmt.Sprintf("worker %d: %s", e.Worker, e.Text))
		}
	}
	l.res.WorkerErrors = append(l.res.WorkerErrors, l.f.BadLines()...)
	l.res.Restarts = Causes(restarts)
}

// Causes counts restarts by how the process replaced ended.
func Causes(restarts []fleet.Restart) map[string]int {
	m := map[string]int{}
	for _, r := range restarts {
		cause := "exit status 0"
		if r.Exit != nil {
			cause = r.Exit.Error()
		}
		m[cause]++
	}
	return m
}

// SortedCauses returns the causes of m in a stable order.
func SortedCauses(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// countLines counts the lines of the file at path; none if it is missing.
func countLines(path string) (int64, error) {
	fh, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer fh.Close()
	var n int64
	buf := make([]byte, 1<<16)
	for {
		k, err := fh.Read(buf)
		n += int64(bytes.Count(buf[:k], []byte{'\n'}))
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}
