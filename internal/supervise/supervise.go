package supervise

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"time"

	"github.com/leasehold/leasehold/owner"
)

// The variables Run adds to the child's environment.
const (
	EnvEpoch      = "LEASEHOLD_EPOCH"       // the fencing epoch of this tenure, in decimal
	EnvLease      = "LEASEHOLD_LEASE"       // Options.Lease
	EnvInstanceID = "LEASEHOLD_INSTANCE_ID" // the supervisor's instance id in the election
)

// Exit codes of Run besides the child's own. A signal that arrives before
// the child starts gives 128 plus its number, as a shell reports a process
// killed by it: 129 for SIGHUP, 130 for SIGINT, 143 for SIGTERM.
const (
	// ExitLost: ownership was lost, or its renewal failed for so long that
	// the deadline came within the grace period, while the child ran; the
	// child was stopped. The same code as ownerfx.ExitCodeLost.
	ExitLost = 3
	// ExitFailed: the supervisor could not do its part (bad Options, Join
	// failed, ctx ended before the child started).
	ExitFailed = 125
	// ExitCannotRun: the command exists but could not be started.
	ExitCannotRun = 126
	// ExitNotFound: the command was not found.
	ExitNotFound = 127
)

// Options configure Run.
type Options struct {
	// Join joins the election, on any store: for a file lease,
	//
	//	func(ctx context.Context) (*owner.Owner, error) { return owner.Join(ctx, cfg) }
	//
	// Run calls it once, with a context that Run's ctx does not cancel,
	// and releases the Owner before it returns.
	Join func(ctx context.Context) (*owner.Owner, error)
	// Lease names the lease to the child, in LEASEHOLD_LEASE: the lease
	// path, or etcd:<key>.
	Lease string
	// Grace is how long the child has between SIGTERM and SIGKILL when
	// the supervisor stops it. It must be at most half of the TTL less
	// the renewal interval (the least time left before the deadline just
	// before a renewal, if renewals took no time); zero means that half.
	Grace time.Duration
	// Command and Args are the child's program, looked up in PATH as
	// os/exec does, and its arguments.
	Command string
	Args    []string
	// Env is the child's environment before Run adds its variables; nil
	// means the supervisor's own.
	Env []string
	// Dir is the child's working directory; "" means the supervisor's.
	Dir string
	// Stdin, Stdout and Stderr are the child's; nil means the null device.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Logf, if set, receives the supervisor's progress: waiting,
	// acquired, started, forwarded, stopping. Not the error Run returns.
	Logf func(format string, args ...any)
}

func (o *Options) logf(format string, args ...any) {
	if o.Logf != nil {
		o.Logf(format, args...)
	}
}

// grace returns Options.Grace, or its default, for the Owner's
// configuration, or an error if it would stop the child between renewals.
func (o *Options) grace(cfg owner.Config) (time.Duration, error) {
	window := cfg.TTL - cfg.RenewInterval
	switch {
	case o.Grace < 0:
		return 0, fmt.Errorf("supervise: grace %v is negative", o.Grace)
	case o.Grace == 0:
		return window / 2, nil
	case o.Grace > window/2:
		return 0, fmt.Errorf("supervise: grace %v must be at most half of the TTL %v less the renewal interval %v (%v): the rest is for renewals to take and their timers to fire late",
			o.Grace, cfg.TTL, cfg.RenewInterval, window/2)
	}
	return o.Grace, nil
}

// Run waits until the Owner that Options.Join returns owns the lease,
// then runs the command with LEASEHOLD_EPOCH, LEASEHOLD_LEASE and
// LEASEHOLD_INSTANCE_ID in its environment, and supervises it as the
// package documentation describes. It releases the lease once the child,
// and whatever is left in its process group, is gone, and returns the
// exit code for the supervisor's process:
//
//   - the child's status when it exits on its own or of a forwarded signal:
//     its exit code, or 128 plus the signal that killed it; err is nil
//     (or reports a failed Release);
//   - ExitLost when the supervisor stopped the child because ownership
//     ended or its deadline came within Grace; err says why, wrapping
//     owner.ErrLost when ownership was lost;
//   - 128 plus the signal's number for SIGINT, SIGTERM or SIGHUP received
//     before the child started, which then never starts;
//   - ExitFailed, ExitCannotRun or ExitNotFound, with the error, when the
//     supervisor could not start the child.
//
// Cancelling ctx stops the child as a loss does (SIGTERM, SIGKILL after
// Grace) and returns its status with ctx's cause; before the child starts,
// Run returns ExitFailed and the cause. Run installs handlers for the
// signals it forwards for as long as it runs; run one Run at a time.
func Run(ctx context.Context, opt Options) (int, error) {
	if opt.Join == nil || opt.Command == "" {
		return ExitFailed, errors.New("supervise: Options.Join and Options.Command are required")
	}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, forwarded...)
	defer signal.Stop(sigs)

	o, err := opt.Join(context.WithoutCancel(ctx))
	if err != nil {
		return ExitFailed, fmt.Errorf("supervise: join: %w", err)
	}
	code, err := run(ctx, &opt, o, sigs)
	if rerr := o.Release(); rerr != nil && err == nil {
		err = fmt.Errorf("supervise: release: %w", rerr)
	}
	return code, err
}

// run is Run with the Owner joined; the caller releases it.
func run(ctx context.Context, opt *Options, o *owner.Owner, sigs <-chan os.Signal) (int, error) {
	grace, err := opt.grace(o.Config())
	if err != nil {
		return ExitFailed, err
	}
	if code, err := waitToOwn(ctx, opt, o, sigs); err != nil {
		return code, err
	}
	if err := o.Check(); err != nil {
		return ExitLost, fmt.Errorf("supervise: %s not started: %w", opt.Command, err)
	}
	epoch := o.Epoch()
	c, err := startChild(command(opt, o, epoch))
	if err != nil {
		return startFailure(opt.Command, err)
	}
	opt.logf("owner at epoch %d; started %s, pid %d", epoch, opt.Command, c.pid())
	s := &supervisor{opt: opt, o: o, c: c, grace: grace, sigs: sigs}
	return s.watch(ctx)
}

// waitToOwn returns when o owns the lease, with a nil error, or when a
// signal or ctx ends the wait, with the exit code and why.
func waitToOwn(ctx context.Context, opt *Options, o *owner.Owner, sigs <-chan os.Signal) (int, error) {
	select {
	case <-o.Acquired():
		return 0, nil
	default:
	}
	if h := o.Holder(); h.InstanceID != "" && !h.Released {
		opt.logf("waiting for the lease, held by pid %d on %s at epoch %d", h.PID, h.Host, h.Epoch)
	} else {
		opt.logf("waiting for the lease")
	}
	select {
	case <-o.Acquired():
		return 0, nil
	case sig := <-sigs:
		return 128 + signum(sig), fmt.Errorf("supervise: %s before owning the lease; %s not started", sigName(sig), opt.Command)
	case <-ctx.Done():
		return ExitFailed, fmt.Errorf("supervise: %s not started: %w", opt.Command, context.Cause(ctx))
	}
}

// command returns the child's command for the tenure of epoch.
func command(opt *Options, o *owner.Owner, epoch uint64) *exec.Cmd {
	cmd := exec.Command(opt.Command, opt.Args...)
	env := opt.Env
	if env == nil {
		env = os.Environ()
	}
	// Later entries win in exec.Cmd.Env, so these replace inherited ones.
	cmd.Env = append(env[:len(env):len(env)],
		EnvEpoch+"="+strconv.FormatUint(epoch, 10),
		EnvLease+"="+opt.Lease,
		EnvInstanceID+"="+o.ID())
	cmd.Dir = opt.Dir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = opt.Stdin, opt.Stdout, opt.Stderr
	// Copying to a Stdout that is not a file ends when the child and its
	// group are gone; this bounds it if something outside the group still
	// holds the pipe.
	cmd.WaitDelay = time.Second
	return cmd
}

// startFailure returns the exit code for a child that could not start, as
// shells do: 127 when the program is not found, 126 otherwise.
func startFailure(name string, err error) (int, error) {
	err = fmt.Errorf("supervise: start %s: %w", name, err)
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
		return ExitNotFound, err
	}
	return ExitCannotRun, err
}
