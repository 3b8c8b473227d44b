// Package exampleapp is the example application of the README: an fx
// application that elects one owner among its running copies with ownerfx.
// The command examples/app runs it on the file store; the etcd module's
// example runs it on etcd. Run it in three terminals and stop, kill or
// freeze the owner to watch another take over:
//
//	go run ./examples/app -config configs/owner.yaml
//
// Each copy prints its id, role, the holder (id, pid, epoch, endpoint) and
// the URL of its own status, then one line per change. The owner appends
// epoch-stamped lines to a state file beside the lease (for the file
// store) or in the user's state directory (for another store); the file
// refuses a line whose epoch is below the last one written, as a resource
// guarded by fencing epochs should.
//
// Every copy serves HTTP on loopback and advertises that endpoint in the
// lease while it owns (see serve.go): / and POST /work are the owner's,
// /status is the copy's owner.Stats as JSON, /healthz its
// ownerfx.HealthCheck. A follower forwards / and /work to the owner, and
// hands the owner a line of its own every -forward period: the owner
// writes it (event=served), the follower prints the answer
// (event=forwarded), and when the holder changes the follower cancels the
// request under way and reaches the new owner.
//
// SIGINT or SIGTERM releases the lease and exits 0; a follower takes over
// at once. An owner frozen past its TTL and resumed finds its ownership lost
// and exits with ownerfx.ExitCodeLost (3). A bad configuration, or a lease
// that cannot be used (a lease directory that group or others may write),
// exits 2 with one line: the error that names the key or path, not fx's
// chain of the graph (dig.RootCause). An OWNER_ variable in the environment
// that looks like a typo of a known one is reported on stderr, and other
// unknown OWNER_ variables are ignored.
//
// A relative lease_path in the configuration file is taken from the file's
// directory, so copies started from different directories with one file
// share one lease; each prints the lease's absolute path when it joins.
package exampleapp

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.uber.org/dig"
	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/leasehold/leasehold/config"
	"github.com/leasehold/leasehold/owner"
	"github.com/leasehold/leasehold/ownerfx"
)

// Main runs the application with the command line's flags and exits with
// its code. opener opens a store other than the file, when the
// configuration selects one; nil for a build that has none.
func Main(opener ownerfx.StoreOpener) {
	file := flag.String("config", "configs/owner.yaml", "configuration file (.yaml, .yml or .env); \"\" for none")
	every := flag.Duration("work", 500*time.Millisecond, "how often the owner writes to the state file")
	forward := flag.Duration("forward", 500*time.Millisecond, "how often a follower hands a line to the owner through its endpoint; 0 for never")
	flag.Parse()

	cfg, store, warnings, err := config.LoadStore(config.Options{File: *file, App: "leasehold-example"})
	if err == nil && store.Kind != config.StoreFile && opener == nil {
		err = fmt.Errorf("the configuration selects the %s store; this build opens the file store only: run the %s module's example", store.Kind, store.Kind)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for _, w := range warnings {
		fmt.Fprintln(os.Stderr, w)
	}
	// Serve a status endpoint on loopback and advertise it, unless the
	// configuration names one.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = "http://" + ln.Addr().String()
	}

	options := []fx.Option{fx.Supply(cfg, store, listener{ln}, workEvery(*every), forwardEvery(*forward))}
	if opener != nil {
		options = append(options, fx.Supply(opener))
	}
	app := fx.New(
		fx.Options(options...),
		fx.Provide(newLogger),
		fx.WithLogger(func() fxevent.Logger { return fxevent.NopLogger }),
		ownerfx.Module,
		fx.Provide(newState, newLink, ownerfx.AsOwned(ownedWork)),
		fx.Invoke(report, serve, forwardWork),
	)
	if err := app.Err(); err != nil {
		// fx wraps the error of a constructor in the whole chain of the
		// graph; the constructor's own error names the key or path.
		fmt.Fprintln(os.Stderr, dig.RootCause(err))
		os.Exit(2)
	}
	os.Exit(run(app))
}

// run starts app, waits for a signal or a shutdown, stops it and returns
// the exit code, as fx.App.Run does, but prints an error of the start or
// the stop rather than leaving it to fx's logger, which is silent here.
func run(app *fx.App) int {
	// Listen for SIGINT and SIGTERM before the start: a signal during the
	// start then stops the app cleanly, releasing the lease, once it has
	// started.
	done := app.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), app.StartTimeout())
	err := app.Start(ctx)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, dig.RootCause(err))
		return 1
	}
	sig := <-done
	ctx, cancel = context.WithTimeout(context.Background(), app.StopTimeout())
	defer cancel()
	if err := app.Stop(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return sig.ExitCode
}

type workEvery time.Duration

type forwardEvery time.Duration

// listener is the status endpoint's listener.
type listener struct{ net.Listener }

func newLogger() (*zap.Logger, error) {
	c := zap.NewDevelopmentConfig()
	c.Level = zap.NewAtomicLevelAt(zapcore.WarnLevel) // the status lines say the rest
	c.DisableStacktrace = true
	return c.Build()
}

// say prints a status line: time, pid, own id, then the message.
func say(o *owner.Owner, format string, args ...any) {
	fmt.Printf("%s pid=%d id=%s %s\n", time.Now().Format("15:04:05.000"), os.Getpid(), short(o.ID()), fmt.Sprintf(format, args...))
}

func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

func holder(o *owner.Owner) string {
	h := o.Holder()
	if h.InstanceID == "" {
		return "holder=none"
	}
	return fmt.Sprintf("holder=%s holder_pid=%d epoch=%d endpoint=%s", short(h.InstanceID), h.PID, h.Epoch, h.Meta[owner.EndpointMetaKey])
}

// leaseName names the lease in the status lines: its path, or the store
// and its key.
func leaseName(o *owner.Owner, store config.Store) string {
	if store.Kind == config.StoreFile {
		return o.Config().LeasePath
	}
	return store.Kind + ":" + store.Etcd.Key
}

// report prints the role at start and every change after.
func report(lc fx.Lifecycle, o *owner.Owner, store config.Store, ln listener) {
	quit, done := make(chan struct{}), make(chan struct{})
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			say(o, "event=joined role=%s %s lease=%s ttl=%v status=http://%s/status", o.Role(), holder(o), leaseName(o, store), o.Config().TTL, ln.Addr())
			go func() {
				defer close(done)
				acquired := o.Acquired()
				if o.IsOwner() {
					acquired = nil
				}
				for {
					changed := o.Changed()
					select {
					case <-acquired:
						acquired = nil
						say(o, "event=owner epoch=%d", o.Epoch())
					case <-changed:
						if !o.IsOwner() {
							say(o, "event=holder %s", holder(o))
						}
					case <-o.Lost():
						say(o, "event=lost exit=%d cause=%q", ownerfx.ExitCodeLost, o.LostErr())
						return
					case <-quit:
						return
					}
				}
			}()
			return nil
		},
		OnStop: func(context.Context) error {
			close(quit)
			<-done
			say(o, "event=released")
			return nil
		},
	})
}

// state is the resource the owner writes: a file beside the lease. Its
// lines come from the owner's own work and from the followers', which
// they hand to the owner through its endpoint.
type state struct {
	path string
	mu   sync.Mutex // serialises appends
	n    int        // lines written by this process
}

func newState(o *owner.Owner) *state {
	// For another store than the file, LeasePath is the default one, in
	// the user's state directory: the copies on one machine share it.
	return &state{path: filepath.Join(filepath.Dir(o.Config().LeasePath), "example-state.log")}
}

// ownedWork appends a line every period while this instance owns.
func ownedWork(o *owner.Owner, s *state, every workEvery) ownerfx.Owned {
	var stop context.CancelFunc
	var done chan struct{}
	return ownerfx.Owned{
		Name: "state-writer",
		OnAcquire: func(ctx context.Context) error {
			ctx, stop = context.WithCancel(ctx)
			done = make(chan struct{})
			go func() {
				defer close(done)
				t := time.NewTicker(time.Duration(every))
				defer t.Stop()
				for {
					select {
					case <-ctx.Done():
						return
					case <-t.C:
					}
					n, err := s.write(o, o.ID())
					if notOwner(err) {
						say(o, "event=work-stopped cause=%q", err)
						return
					}
					if err != nil {
						say(o, "event=refused %v", err)
						return
					}
					say(o, "event=work epoch=%d line=%d file=%s", o.Epoch(), n, s.path)
				}
			}()
			return nil
		},
		OnRelease: func(context.Context) error {
			stop()
			<-done
			return nil
		},
	}
}

// write appends a line for the instance from, if o owns the lease: it
// checks right before the write, and the file refuses a stale epoch. It
// returns the line's number among this process's.
func (s *state) write(o *owner.Owner, from string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := o.Check(); err != nil {
		return 0, err
	}
	if err := s.append(o.Epoch(), s.n+1, from); err != nil {
		return 0, err
	}
	s.n++
	return s.n, nil
}

// notOwner reports whether err is Check's: this instance does not own.
func notOwner(err error) bool {
	return errors.Is(err, owner.ErrNotOwner) || errors.Is(err, owner.ErrLost) || errors.Is(err, owner.ErrReleased)
}

// append writes a line stamped with epoch, unless a line with a higher
// epoch is already there.
func (s *state) append(epoch uint64, n int, from string) error {
	if last, err := s.lastEpoch(); err != nil {
		return err
	} else if epoch < last {
		return fmt.Errorf("epoch %d is below %d, the last written: a stale owner", epoch, last)
	}
	f, err := os.OpenFile(s.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(f, "epoch=%d pid=%d line=%d from=%s at=%s\n", epoch, os.Getpid(), n, short(from), time.Now().Format(time.RFC3339Nano))
	return errors.Join(err, f.Close())
}

func (s *state) lastEpoch() (uint64, error) {
	b, err := os.ReadFile(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var last uint64
	for line := range splitLines(b) {
		var e uint64
		if _, err := fmt.Sscanf(line, "epoch=%d", &e); err == nil {
			last = max(last, e)
		}
	}
	return last, nil
}
