package worker

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/leasehold/leasehold/internal/mono"
	"github.com/leasehold/leasehold/internal/naive"
	"github.com/leasehold/leasehold/lease"
	"github.com/leasehold/leasehold/owner"
)

// The environment that configures a worker.
const (
	EnvPath    = "LEASEHOLD_WORKER_PATH"    // the lease path; its presence makes a process a worker
	EnvTTL     = "LEASEHOLD_WORKER_TTL"     // owner.Config.TTL
	EnvRenew   = "LEASEHOLD_WORKER_RENEW"   // owner.Config.RenewInterval
	EnvCheck   = "LEASEHOLD_WORKER_CHECK"   // how often the owner calls Check (default 1ms)
	EnvBarrier = "LEASEHOLD_WORKER_BARRIER" // "1": before each Join, print ready and wait for "go"
	EnvRejoin  = "LEASEHOLD_WORKER_REJOIN"  // "1": Join again after loss or release
	EnvImpl    = "LEASEHOLD_WORKER_IMPL"    // "naive" for the baseline of package naive; else package owner
	// EnvAppend names a file to which the owner appends one short line
	// after every successful Check: the work of an owner that writes its
	// output to the file system the lease lives on.
	EnvAppend = "LEASEHOLD_WORKER_APPEND"
	// EnvReport "first" reports only the first successful Check of each
	// tenure, so that an owner checking often costs the reader little.
	EnvReport = "LEASEHOLD_WORKER_REPORT"
)

// Member is what a worker needs of an election: *owner.Owner, the naive
// baseline, or another baseline given to MainJoin.
type Member interface {
	ID() string
	Epoch() uint64
	Check() error
	IsOwner() bool
	Acquired() <-chan struct{}
	Lost() <-chan struct{}
	LostErr() error
	Release() error
}

func join(set settings) (Member, error) {
	cfg := set.cfg
	switch {
	case set.join != nil:
		return set.join(cfg)
	case set.open != nil:
		s, err := set.open(cfg)
		if err != nil {
			return nil, err
		}
		return owner.JoinStore(context.Background(), cfg, s)
	case os.Getenv(EnvImpl) == "naive":
		return naive.Join(cfg.LeasePath, cfg.TTL, cfg.RenewInterval)
	}
	return owner.Join(context.Background(), cfg)
}

func role(m Member) string {
	if m.IsOwner() {
		return "owner"
	}
	return "follower"
}

// Commands a worker reads, one a line, on its standard input.
const (
	CmdGo      = "go"      // Join now (with EnvBarrier)
	CmdRelease = "release" // Release; then rejoin (with EnvRejoin) or exit 0
	CmdCPU     = "cpu"     // report the CPU time used so far
)

// Active reports whether this process was started as a worker.
func Active() bool { return os.Getenv(EnvPath) != "" }

type out struct {
	mu      sync.Mutex
	w       *bufio.Writer
	pending bool // a flush is scheduled
}

// emit writes e; at once if flush is set, else within 5 ms, so that the
// frequent OK lines cost one write per batch and an idle worker nothing.
func (o *out) emit(e Event, flush bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	fmt.Fprintln(o.w, e.String())
	switch {
	case flush:
		o.w.Flush()
	case !o.pending:
		o.pending = true
		time.AfterFunc(5*time.Millisecond, o.flush)
	}
}

func (o *out) flush() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.pending = false
	o.w.Flush()
}

// Main runs the worker and returns its exit code: 0 after Release on
// SIGTERM, SIGINT or the release command, 3 after loss (without EnvRejoin),
// 2 on a configuration or Join error.
func Main() int { return MainStore(nil) }

// MainStore is Main with the election run by owner.JoinStore on the store
// that open returns for each Join, given the worker's configuration
// (LeasePath is the value of EnvPath), rather than on the file at EnvPath:
// so the tests of another lease.Store run the same workers.
func MainStore(open func(owner.Config) (lease.Store, error)) int {
	return mainWith(settings{open: open})
}

// MainJoin is Main with each election made by join, given the worker's
// configuration: so a baseline beside package owner runs the same workers.
func MainJoin(join func(owner.Config) (Member, error)) int {
	return mainWith(settings{join: join})
}

func mainWith(with settings) int {
	o := &out{w: bufio.NewWriterSize(os.Stdout, 1<<16)}
	defer o.flush()
	set, err := config()
	set.open, set.join = with.open, with.join
	if err != nil {
		o.emit(Event{Kind: Error, Text: err.Error()}, true)
		return 2
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	cmds := make(chan string)
	go func() {
		s := bufio.NewScanner(os.Stdin)
		for s.Scan() {
			cmds <- s.Text()
		}
		close(cmds)
	}()
	rejoin := os.Getenv(EnvRejoin) == "1"
	defer set.output.close()
	for {
		if os.Getenv(EnvBarrier) == "1" {
			o.emit(Event{Kind: Ready, T1: mono.Now()}, true)
			if !awaitGo(cmds, sigs) {
				return 0
			}
		}
		code, again := tenure(o, set, cmds, sigs)
		if !again || !rejoin {
			return code
		}
	}
}

func awaitGo(cmds <-chan string, sigs <-chan os.Signal) bool {
	for {
		select {
		case c, ok := <-cmds:
			if !ok {
				return false
			}
			if c == CmdGo {
				return true
			}
		case <-sigs:
			return false
		}
	}
}

// tenure runs one Join until loss, release or a signal. again is false
// when the worker must exit.
func tenure(o *out, set settings, cmds <-chan string, sigs <-chan os.Signal) (code int, again bool) {
	t0 := mono.Now()
	ow, err := join(set)
	if err != nil {
		o.emit(Event{Kind: Error, T1: t0, T2: mono.Now(), Text: "join: " + err.Error()}, true)
		return 2, false
	}
	o.emit(Event{Kind: Joined, Epoch: ow.Epoch(), T1: t0, T2: mono.Now(), Text: role(ow) + " " + ow.ID()}, true)
	release := func() {
		err := ow.Release()
		e := Event{Kind: Released, T1: mono.Now()}
		if err != nil {
			e.Text = err.Error()
		}
		o.emit(e, true)
	}
	// The ticker runs only while this worker owns, so that a follower is
	// woken by the library alone and its idle cost is the library's.
	var tick ticker
	var ticks <-chan time.Time
	defer func() {
		if tick != nil {
			tick.Stop()
		}
	}()
	acquired := ow.Acquired()
	var epoch uint64
	reported := false
	probe := func() error {
		b := mono.Now()
		err := ow.Check()
		a := mono.Now()
		if err != nil {
			o.emit(Event{Kind: Fail, Epoch: epoch, T1: b, T2: a, Text: err.Error()}, true)
			return err
		}
		if !set.firstOnly || !reported {
			// The first of a tenure goes out at once: a reader waiting
			// for the successor learns of it without the batching delay.
			o.emit(Event{Kind: OK, Epoch: epoch, T1: b, T2: a}, !reported)
			reported = true
		}
		if werr := set.output.write(epoch); werr != nil {
			o.emit(Event{Kind: Error, Epoch: epoch, T1: mono.Now(), Text: "append: " + werr.Error()}, true)
		}
		return nil
	}
	for {
		select {
		case <-acquired:
			acquired = nil
			epoch = ow.Epoch()
			o.emit(Event{Kind: Acquired, Epoch: epoch, T1: mono.Now()}, true)
			tick = newTicker(set.check)
			ticks = tick.C()
			probe()
		case <-ticks:
			if epoch != 0 && probe() != nil {
				return lose(o, ow, epoch)
			}
		case <-ow.Lost():
			probe()
			return lose(o, ow, epoch)
		case c, ok := <-cmds:
			switch {
			case ok && c == CmdRelease:
				release()
				return 0, true
			case ok && c == CmdCPU:
				o.emit(Event{Kind: CPU, T1: cpuTime(), T2: mono.Now()}, true)
			}
		case <-sigs:
			release()
			return 0, false
		}
	}
}

func lose(o *out, ow Member, epoch uint64) (int, bool) {
	<-ow.Lost()
	o.emit(Event{Kind: Lost, Epoch: epoch, T1: mono.Now(), Text: ow.LostErr().Error()}, true)
	ow.Release()
	return 3, true
}

// settings is a worker's configuration, read from its environment.
type settings struct {
	cfg       owner.Config
	check     time.Duration // how often the owner calls Check
	firstOnly bool          // report only the first successful Check of a tenure
	output    *appender     // nil unless EnvAppend is set

	// open makes the store of each Join (MainStore); nil for the file.
	open func(owner.Config) (lease.Store, error)
	// join makes each election (MainJoin); nil for package owner.
	join func(owner.Config) (Member, error)
}

func config() (settings, error) {
	set := settings{cfg: owner.Config{LeasePath: os.Getenv(EnvPath)}}
	var err error
	dur := func(key string, def time.Duration) time.Duration {
		v := os.Getenv(key)
		if v == "" || err != nil {
			return def
		}
		d, perr := time.ParseDuration(v)
		if perr != nil {
			err = fmt.Errorf("%s=%q: %w", key, v, perr)
		}
		return d
	}
	set.cfg.TTL = dur(EnvTTL, 2*time.Second)
	set.cfg.RenewInterval = dur(EnvRenew, 0)
	set.check = dur(EnvCheck, time.Millisecond)
	if err == nil && set.check <= 0 {
		err = fmt.Errorf("%s must be positive", EnvCheck)
	}
	switch r := os.Getenv(EnvReport); r {
	case "", "all":
	case "first":
		set.firstOnly = true
	default:
		if err == nil {
			err = fmt.Errorf("%s=%q: want all or first", EnvReport, r)
		}
	}
	if p := os.Getenv(EnvAppend); p != "" {
		set.output = &appender{path: p}
	}
	return set, err
}
