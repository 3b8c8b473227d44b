package ownerfx

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/leasehold/leasehold/config"
	"github.com/leasehold/leasehold/lease"
	"github.com/leasehold/leasehold/owner"
)

// ExitCodeLost is the exit code of an application that Module shut down
// because this instance lost the lease.
const ExitCodeLost = 3

// ExitCodeOwnedFailed is the exit code of an application that Module shut
// down because an owned component failed to start.
const ExitCodeOwnedFailed = 4

// Module provides *owner.Owner, Lost and a *HealthCheck, and runs the
// election for the application's lifetime.
var Module = fx.Module("owner",
	fx.Provide(newNamed, newLost, provideHealthCheck),
	fx.Invoke(supervise),
)

// Lost is closed when this instance loses the lease; it is never closed
// for an instance that never owned, nor on a clean stop.
type Lost <-chan struct{}

func newLost(o *owner.Owner) Lost { return Lost(o.Lost()) }

// Owned is a component that runs only while this instance owns the lease.
type Owned struct {
	// Name appears in logs.
	Name string
	// OnAcquire runs when this instance becomes the owner: during the
	// application's start if it owns then, later on takeover. Its context
	// is cancelled as soon as ownership ends (when Lost fires, or on stop);
	// work that outlives the call must stop then. An error stops the
	// components started before it and fails the start, or after a
	// takeover shuts the application down with ExitCodeOwnedFailed.
	OnAcquire func(ctx context.Context) error
	// OnRelease runs when ownership ends: on a clean stop before the lease
	// is released, so no other instance can own yet; after a loss, once
	// Lost has fired. Components stop in the reverse order of their start;
	// fx gives no order within a value group, so start order is unspecified.
	OnRelease func(ctx context.Context) error
}

// ownedGroup is the value group of Owned components.
const ownedGroup = `group:"owner.owned"`

// AsOwned annotates a constructor that returns an Owned so that Module
// runs it: fx.Provide(ownerfx.AsOwned(newCacheLoader)).
func AsOwned(constructor any) any {
	return fx.Annotate(constructor, fx.ResultTags(ownedGroup))
}

// Params are the dependencies of New.
type Params struct {
	fx.In

	Lifecycle fx.Lifecycle
	// Config, if non-zero, is used as it is; otherwise config.Load reads
	// the file and environment that Options names, and the warnings it
	// gives are logged.
	Config  owner.Config   `optional:"true"`
	Options config.Options `optional:"true"`
	Logger  *zap.Logger    `optional:"true"`
	// Opener opens a store other than the file, when the configuration
	// selects one (owner.store); the module that implements the store
	// provides it. Without it, such a configuration fails the start.
	Opener StoreOpener `optional:"true"`
}

// StoreOpener opens the lease.Store that a configuration selects, other
// than the file store, which New opens itself. The module of the store
// provides one (for etcd, github.com/leasehold/leasehold/etcdlease), so
// that an application on the file store never links another store's
// client.
type StoreOpener func(cfg owner.Config, store config.Store) (lease.Store, error)

// New makes the Owner and hooks it into the lifecycle: OnStart joins
// within the start context and OnStop releases the lease. It is exported
// so that the wiring can be reproduced without Module.
func New(p Params) (*owner.Owner, error) {
	o, _, err := newOwner(p)
	return o, err
}

// leaseName names the lease in the logs.
type leaseName string

type named struct {
	fx.Out
	Owner *owner.Owner
	Name  leaseName
}

func newNamed(p Params) (named, error) {
	o, name, err := newOwner(p)
	return named{Owner: o, Name: name}, err
}

func newOwner(p Params) (*owner.Owner, leaseName, error) {
	cfg := p.Config
	store := config.Store{Kind: config.StoreFile}
	if cfg == (owner.Config{}) {
		var warnings []config.Warning
		var err error
		if cfg, store, warnings, err = config.LoadStore(p.Options); err != nil {
			return nil, "", err
		}
		for _, w := range warnings {
			moduleLogger(p.Logger).Warn("unknown variable ignored", zap.String("source", "environment"),
				zap.String("variable", w.Variable), zap.String("did_you_mean", w.Closest))
		}
	}
	o, name, err := open(cfg, store, p.Opener)
	if err != nil {
		return nil, "", err
	}
	log := logger(p.Logger, o, name)
	p.Lifecycle.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			// The start context ends once the application has started;
			// the Owner lives until OnStop.
			if err := o.Start(context.WithoutCancel(ctx)); err != nil {
				return err
			}
			log.Info("joined", zap.Stringer("role", o.Role()), holder(o))
			return nil
		},
		OnStop: func(context.Context) error {
			err := o.Release()
			log.Info("released", zap.Error(err))
			return err
		},
	})
	return o, name, nil
}

// moduleLogger returns the module's logger: l, or a no-op one if the application
// has none.
func moduleLogger(l *zap.Logger) *zap.Logger {
	if l == nil {
		l = zap.NewNop()
	}
	return l.Named("owner")
}

// logger is the module's logger for o, on the lease named name.
func logger(l *zap.Logger, o *owner.Owner, name leaseName) *zap.Logger {
	return moduleLogger(l).With(zap.String("lease", string(name)), zap.String("id", o.ID()))
}

// open makes the Owner on the store selected, and names the lease for the
// logs: the file store by its absolute path, so that instances on
// different lease files are easy to tell apart; another by its kind and
// key.
func open(cfg owner.Config, store config.Store, opener StoreOpener) (*owner.Owner, leaseName, error) {
	if store.Kind == config.StoreFile {
		o, err := owner.New(cfg)
		if err != nil {
			return nil, "", err
		}
		name := cfg.LeasePath
		if abs, err := filepath.Abs(name); err == nil {
			name = abs
		}
		return o, leaseName(name), nil
	}
	if opener == nil {
		return nil, "", fmt.Errorf("ownerfx: the configuration selects the %s store, but no ownerfx.StoreOpener is provided: provide the one of the store's module", store.Kind)
	}
	s, err := opener(cfg, store)
	if err != nil {
		return nil, "", fmt.Errorf("ownerfx: open the %s store: %w", store.Kind, err)
	}
	o, err := owner.NewStore(cfg, s)
	if err != nil {
		_ = s.Close()
		return nil, "", err
	}
	return o, leaseName(store.Kind + ":" + store.Etcd.Key), nil
}

type superviseParams struct {
	fx.In

	Lifecycle  fx.Lifecycle
	Shutdowner fx.Shutdowner
	Owner      *owner.Owner
	Logger     *zap.Logger `optional:"true"`
	Owned      []Owned     `group:"owner.owned"`
	Name       leaseName   `optional:"true"`
}

// supervise runs the owned components and reacts to loss. Its hooks come
// after New's: it starts once the Owner has joined, and on stop the owned
// components stop before the lease is released.
func supervise(p superviseParams) error {
	for i, c := range p.Owned {
		if c.OnAcquire == nil && c.OnRelease == nil {
			return fmt.Errorf("ownerfx: owned component %d (%q) has no hooks", i, c.Name)
		}
	}
	s := &supervisor{
		o:     p.Owner,
		log:   logger(p.Logger, p.Owner, p.Name),
		shut:  p.Shutdowner,
		owned: p.Owned,
		quit:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	p.Lifecycle.Append(fx.Hook{
		OnStart: func(context.Context) error {
			// An instance that owns at start starts its owned components
			// before the application counts as started.
			owns := s.o.IsOwner()
			if owns {
				s.log.Info("became owner", zap.Uint64("epoch", s.o.Epoch()))
				if err := s.startOwned(); err != nil {
					close(s.done)
					return err
				}
			}
			go s.run(owns)
			return nil
		},
		OnStop: func(ctx context.Context) error {
			close(s.quit)
			<-s.done
			return s.stopOwned(ctx)
		},
	})
	return nil
}

type supervisor struct {
	o     *owner.Owner
	log   *zap.Logger
	shut  fx.Shutdowner
	owned []Owned
	quit  chan struct{} // closed on stop
	done  chan struct{} // closed when run returns

	mu      sync.Mutex
	started []Owned // running, in start order
	cancel  context.CancelFunc

	shutOnce sync.Once
}

// run waits to become the owner, unless it is already, starts the owned
// components, then waits for loss.
func (s *supervisor) run(owns bool) {
	defer close(s.done)
	if !owns && !s.acquire() {
		return
	}
	select {
	case <-s.o.Lost():
		err := s.stopOwned(context.Background())
		s.log.Error("ownership lost; shutting down", zap.NamedError("cause", s.o.LostErr()),
			zap.Int("exit_code", ExitCodeLost), zap.NamedError("stop", err))
		s.shutdown(ExitCodeLost)
	case <-s.quit:
	}
}

// acquire follows until this instance owns, then starts the owned
// components. It reports false on stop or if a component failed.
func (s *supervisor) acquire() bool {
	for acquired := false; !acquired; {
		changed := s.o.Changed()
		select {
		case <-s.o.Acquired():
			acquired = true
		case <-changed:
			if !s.o.IsOwner() {
				s.log.Info("new holder", holder(s.o))
			}
		case <-s.quit:
			return false
		}
	}
	s.log.Info("became owner", zap.Uint64("epoch", s.o.Epoch()))
	if err := s.startOwned(); err != nil {
		s.log.Error("owned component failed to start; shutting down", zap.Error(err), zap.Int("exit_code", ExitCodeOwnedFailed))
		s.shutdown(ExitCodeOwnedFailed)
		return false
	}
	return true
}

// startOwned starts the owned components in order; on an error it stops
// those it started.
func (s *supervisor) startOwned() error {
	ctx, cancel := context.WithCancel(context.Background())
	s.mu.Lock()
	s.cancel = cancel
	s.mu.Unlock()
	for _, c := range s.owned {
		if c.OnAcquire != nil {
			if err := c.OnAcquire(ctx); err != nil {
				return errors.Join(fmt.Errorf("ownerfx: start %q: %w", c.Name, err), s.stopOwned(context.Background()))
			}
		}
		s.mu.Lock()
		s.started = append(s.started, c)
		s.mu.Unlock()
		s.log.Debug("owned component started", zap.String("component", c.Name))
	}
	return nil
}

// stopOwned stops the running owned components in reverse order. It is
// idempotent.
func (s *supervisor) stopOwned(ctx context.Context) error {
	s.mu.Lock()
	started, cancel := s.started, s.cancel
	s.started, s.cancel = nil, nil
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	var errs []error
	for i := len(started) - 1; i >= 0; i-- {
		c := started[i]
		if c.OnRelease == nil {
			continue
		}
		if err := c.OnRelease(ctx); err != nil {
			errs = append(errs, fmt.Errorf("ownerfx: stop %q: %w", c.Name, err))
		}
	}
	return errors.Join(errs...)
}

func (s *supervisor) shutdown(code int) {
	s.shutOnce.Do(func() {
		if err := s.shut.Shutdown(fx.ExitCode(code)); err != nil {
			s.log.Error("shutdown failed", zap.Error(err))
		}
	})
}

func holder(o *owner.Owner) zap.Field {
	h := o.Holder()
	return zap.Dict("holder",
		zap.String("id", h.InstanceID),
		zap.Int("pid", h.PID),
		zap.Uint64("epoch", h.Epoch),
		zap.String("endpoint", h.Meta[owner.EndpointMetaKey]))
}
