package owner

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/leasehold/leasehold/internal/clock"
	"github.com/leasehold/leasehold/lease"
)

// EndpointMetaKey is the lease metadata key used to advertise the owner's
// transport endpoint.
const EndpointMetaKey = "endpoint"

// BackendMetaKey is the lease metadata key used to advertise the backend
// the owner serves.
const BackendMetaKey = "backend"

var (
	// ErrNotOwner is returned by Check while another instance owns the lease.
	ErrNotOwner = errors.New("owner: not the owner")
	// ErrLost is wrapped by the error of Check and LostErr once ownership has
	// ended other than by Release; the same error also wraps the cause.
	ErrLost = errors.New("owner: ownership lost")
	// ErrReleased is returned by Check after Release.
	ErrReleased = errors.New("owner: released")
)

// Config controls a Join.
type Config struct {
	// LeasePath is the lease file; one owner per path (per user + data root).
	LeasePath string
	// TTL is the lease duration.
	TTL time.Duration
	// RenewInterval is how often the owner renews; defaults to TTL/3.
	RenewInterval time.Duration
	// Endpoint, if set, is advertised to followers via the lease record so
	// they can reach the owner.
	Endpoint string
	// Backend, if set, is the backend this owner serves, advertised via the
	// lease record.
	Backend string
	// AllowNetworkFS lets the lease be on a network file system, which
	// Join and New otherwise refuse (lease.ErrNetworkFS). Set it only for a
	// file system known to give locks, exclusive creation and rename the
	// guarantees of a local disk.
	AllowNetworkFS bool
}

// Validate checks c as Join does and returns it with defaults applied. The
// error names the field at fault.
func (c Config) Validate() (Config, error) {
	if c.LeasePath == "" {
		return c, errors.New("owner: Config.LeasePath is empty")
	}
	return c.validateTiming()
}

// validateTiming checks and completes the TTL and the renewal interval.
func (c Config) validateTiming() (Config, error) {
	switch {
	case c.TTL <= 0:
		return c, fmt.Errorf("owner: Config.TTL must be positive, got %v", c.TTL)
	case c.RenewInterval < 0:
		return c, fmt.Errorf("owner: Config.RenewInterval must not be negative, got %v", c.RenewInterval)
	case c.RenewInterval == 0:
		c.RenewInterval = c.TTL / 3
	}
	if c.RenewInterval >= c.TTL {
		return c, fmt.Errorf("owner: Config.RenewInterval (%v) must be shorter than Config.TTL (%v)", c.RenewInterval, c.TTL)
	}
	if c.RenewInterval <= 0 {
		return c, fmt.Errorf("owner: Config.TTL (%v) is too short to renew within", c.TTL)
	}
	return c, nil
}

// Role is an instance's part in the election.
type Role int

const (
	// RoleFollower: another instance owns the lease, or none does yet.
	RoleFollower Role = iota
	// RoleOwner: this instance owns the lease.
	RoleOwner
)

// String returns "owner" or "follower".
func (r Role) String() string {
	if r == RoleOwner {
		return "owner"
	}
	return "follower"
}

type state int

const (
	following state = iota
	owning
	lost
	released
)

// Owner is the result of a Join: this instance's membership in the election
// for one lease. It starts as the owner or a follower; a follower becomes
// the owner by takeover when the rules of package lease allow it, and an
// owner stays one until it releases or loses the lease, after which it never
// owns again. All methods are safe for concurrent use.
type Owner struct {
	cfg   Config
	id    string
	clk   clock.Clock
	store lease.Store
	ctx   context.Context // Start's; set once, before the Owner can own

	acquired chan struct{} // closed on becoming owner
	lostCh   chan struct{} // closed on loss
	done     chan struct{} // closed when run returns
	cancel   context.CancelFunc
	unhook   func() bool // unregisters the loss on ctx cancellation

	life        sync.Mutex // serialises Start and Release
	releaseOnce sync.Once
	started     bool

	mu         sync.Mutex
	state      state
	lease      lease.Lease
	deadline   time.Time   // validity ends here, on clk
	expiry     clock.Timer // fires at deadline
	holder     lease.Record
	changed    chan struct{} // closed and replaced when the holder changes
	lostErr    error
	renewErr   error // the last renewal's fault, until one succeeds
	releaseErr error
	tally      tally // what Stats counts
}

// Join attempts to acquire ownership of the lease at cfg.LeasePath. If the
// lease is free it returns an Owner in RoleOwner and starts renewing in the
// background; if a live owner already holds it, it returns RoleFollower with
// the current holder, and goes on watching to take over when the owner
// releases, dies or stops renewing. ctx bounds the Owner's lifetime:
// cancelling it ends ownership (Lost fires with ctx's error) and stops
// following. Call Release for a clean handover.
//
// Join returns an error, naming the field or path, for an invalid Config or
// a lease that cannot be used; then no Owner is made. Join is New followed
// by Start.
func Join(ctx context.Context, cfg Config) (*Owner, error) {
	return join(ctx, cfg, clock.System)
}

// New validates cfg and opens the lease, returning an Owner that has not
// joined yet: Check returns ErrNotOwner and Holder the zero Record until
// Start. It suits frameworks that construct first and start later.
func New(cfg Config) (*Owner, error) {
	return newOwner(cfg, clock.System)
}

// NewStore returns an Owner, not joined yet, that runs its election on
// store: a store of package lease, or another engine's (etcd, say). The
// Owner takes store over and closes it when it stops. Config.LeasePath
// and Config.AllowNetworkFS are not used; Config.TTL must be the TTL the
// store was opened with, which the Owner's self-fencing counts from: a
// store that reports its TTL (a TTL() time.Duration method, as *lease.File
// has) is refused if they differ.
func NewStore(cfg Config, store lease.Store) (*Owner, error) {
	if store == nil {
		return nil, errors.New("owner: NewStore: nil lease.Store")
	}
	cfg, err := cfg.validateTiming()
	if err != nil {
		return nil, err
	}
	if s, ok := store.(interface{ TTL() time.Duration }); ok && s.TTL() != cfg.TTL {
		return nil, fmt.Errorf("owner: Config.TTL (%v) differs from the TTL the lease.Store was opened with (%v)", cfg.TTL, s.TTL())
	}
	return prepare(cfg, store, clock.System), nil
}

// JoinStore is NewStore followed by Start: Join on any lease.Store.
func JoinStore(ctx context.Context, cfg Config, store lease.Store) (*Owner, error) {
	o, err := NewStore(cfg, store)
	if err != nil {
		return nil, err
	}
	if err := o.Start(ctx); err != nil {
		return nil, err
	}
	return o, nil
}

func join(ctx context.Context, cfg Config, clk clock.Clock) (*Owner, error) {
	o, err := newOwner(cfg, clk)
	if err != nil {
		return nil, err
	}
	if err := o.Start(ctx); err != nil {
		return nil, err
	}
	return o, nil
}

func newOwner(cfg Config, clk clock.Clock) (*Owner, error) {
	cfg, err := cfg.Validate()
	if err != nil {
		return nil, err
	}
	store, err := lease.Open(cfg.LeasePath, lease.Options{TTL: cfg.TTL, Clock: clk, AllowNetworkFS: cfg.AllowNetworkFS})
	if err != nil {
		return nil, err
	}
	return prepare(cfg, store, clk), nil
}

// start joins the election on store; the Owner closes store when it stops.
func start(ctx context.Context, cfg Config, store lease.Store, clk clock.Clock) (*Owner, error) {
	o := prepare(cfg, store, clk)
	if err := o.Start(ctx); err != nil {
		return nil, err
	}
	return o, nil
}

func prepare(cfg Config, store lease.Store, clk clock.Clock) *Owner {
	return &Owner{
		cfg:      cfg,
		id:       uuid.NewString(),
		clk:      clk,
		store:    store,
		acquired: make(chan struct{}),
		lostCh:   make(chan struct{}),
		done:     make(chan struct{}),
		changed:  make(chan struct{}),
	}
}

// Start joins the election, as Join does for an Owner made by New: it
// makes the first attempt, after which the Owner is the owner or a
// follower, and starts the background goroutine. ctx bounds the Owner's
// lifetime. Start may succeed once; it fails after Release, and a failed
// Start leaves the Owner released.
func (o *Owner) Start(ctx context.Context) error {
	o.life.Lock()
	defer o.life.Unlock()
	o.mu.Lock()
	switch {
	case o.state == released:
		o.mu.Unlock()
		return ErrReleased
	case o.started:
		o.mu.Unlock()
		return errors.New("owner: already started")
	}
	o.started, o.ctx = true, ctx
	o.mu.Unlock()

	begin := o.clk.Now()
	l, rec, err := o.store.TryAcquire(ctx, o.candidate())
	if err != nil && !errors.Is(err, lease.ErrHeld) {
		o.mu.Lock()
		o.state = released
		o.mu.Unlock()
		o.store.Close()
		close(o.done)
		return err
	}
	if l != nil {
		o.becomeOwner(l, begin)
	} else {
		o.setHolder(rec)
	}
	runCtx, cancel := context.WithCancel(ctx)
	o.cancel = cancel
	o.unhook = context.AfterFunc(ctx, func() { o.lose(lossCancelled, context.Cause(ctx)) })
	go o.run(runCtx)
	return nil
}

func (o *Owner) candidate() lease.Candidate {
	meta := map[string]string{}
	if o.cfg.Endpoint != "" {
		meta[EndpointMetaKey] = o.cfg.Endpoint
	}
	if o.cfg.Backend != "" {
		meta[BackendMetaKey] = o.cfg.Backend
	}
	return lease.Candidate{InstanceID: o.id, Meta: meta}
}

// Check returns nil only if this instance holds the lease at this instant:
// it is the owner and its last renewal began less than a TTL ago, by its
// own monotonic clock. Call it right before touching owned state. Once the
// deadline has passed the first Check fails, even if the renewal goroutine
// never got to run (a paused process, a slow disk), and fires Lost.
//
// Otherwise it returns ErrNotOwner (a follower), an error wrapping ErrLost
// and its cause (see LostErr), or ErrReleased.
func (o *Owner) Check() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.checkLocked(o.clk.Now())
}

// checkLocked is Check at now.
func (o *Owner) checkLocked(now time.Time) error {
	switch o.state {
	case owning:
		if err := o.ctx.Err(); err != nil {
			o.loseLocked(lossCancelled, context.Cause(o.ctx))
			return o.lostErr
		}
		if now.Before(o.deadline) {
			return nil
		}
		o.expireLocked()
		return o.lostErr
	case lost:
		return o.lostErr
	case released:
		return ErrReleased
	}
	return ErrNotOwner
}

// IsOwner reports whether Check returns nil.
func (o *Owner) IsOwner() bool { return o.Check() == nil }

// Role returns RoleOwner while IsOwner is true, RoleFollower otherwise
// (including after loss or Release).
func (o *Owner) Role() Role {
	if o.IsOwner() {
		return RoleOwner
	}
	return RoleFollower
}

// Acquired is closed when this instance becomes the owner, at Join or later
// by takeover. It is never closed for an instance that never owns.
func (o *Owner) Acquired() <-chan struct{} { return o.acquired }

// Lost is closed when ownership ends other than by Release: the lease was
// taken over, it could not be renewed before its deadline, or Join's
// context was cancelled. The caller must stop touching owned state when it
// fires. It never fires for an instance that never owned.
func (o *Owner) Lost() <-chan struct{} { return o.lostCh }

// LostErr returns why Lost fired, wrapping ErrLost and the cause (the
// renewal error, lease.ErrLost, or the context's error), or nil before then.
func (o *Owner) LostErr() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.lostErr
}

// Changed returns a channel that is closed when the holder reported by
// Holder next changes: another instance takes over, the holder releases,
// its endpoint or backend changes, or this instance becomes the owner.
// Take the channel before reading Holder, then wait on it:
//
//	for {
//		ch := o.Changed()
//		connect(o.Endpoint())
//		select {
//		case <-ch:
//		case <-ctx.Done():
//			return
//		}
//	}
//
// After loss or Release the holder is no longer followed and the channel
// is not closed again.
func (o *Owner) Changed() <-chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.changed
}

// Holder returns the record of the current holder as last seen: this
// instance's own while it owns, the zero Record when no readable record
// exists.
func (o *Owner) Holder() lease.Record {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.holder.Clone()
}

// Epoch returns the fencing token of the holder's tenure: this instance's
// own while it owns. Every acquisition gets an epoch greater than all
// before it; pass it to the resource, which should refuse an older one.
func (o *Owner) Epoch() uint64 { return o.Holder().Epoch }

// Deadline returns the instant at which this instance's validity as the
// owner ends unless a renewal moves it on: a TTL after the start of its
// last successful renewal, on the Owner's monotonic clock, so compare it
// with time.Now or pass it to time.Until. Check fails from this instant on.
// Each successful renewal moves it later; nothing moves it earlier.
//
// It is the zero Time while this instance has never owned. After loss or
// Release it is the last tenure's deadline, which no longer moves (after a
// loss by takeover or cancellation it may still lie ahead: Check fails all
// the same). A supervisor uses it to stop what it runs before the
// deadline when renewals fail. Safe for concurrent use.
func (o *Owner) Deadline() time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.deadline
}

// Config returns the configuration, with its defaults applied.
func (o *Owner) Config() Config { return o.cfg }

// ID returns this instance's own id, fixed at Join.
func (o *Owner) ID() string { return o.id }

// InstanceID is this owner's id, or the current owner's id for a follower
// ("" when no holder is known).
func (o *Owner) InstanceID() string { return o.Holder().InstanceID }

// Endpoint returns the endpoint the holder advertises, or "".
func (o *Owner) Endpoint() string { return o.Holder().Meta[EndpointMetaKey] }

// Backend returns the backend the holder serves, or "" if none.
func (o *Owner) Backend() string { return o.Holder().Meta[BackendMetaKey] }

// Release ends this instance's part in the election. An owner stops
// passing Check, drops its lock, so that a follower takes over at once
// without waiting for the TTL, and marks its record released unless
// another instance holds it by then. Release waits for the background goroutine to
// exit, is idempotent and returns the first call's result. Afterwards
// Check returns ErrReleased and the Owner never owns again.
func (o *Owner) Release() error {
	o.life.Lock()
	defer o.life.Unlock()
	o.releaseOnce.Do(func() {
		o.mu.Lock()
		if o.state == owning {
			o.expiry.Stop()
			o.tally.releases++
		}
		o.state = released
		started := o.started
		o.mu.Unlock()
		if !started {
			o.store.Close()
			return
		}
		if o.cancel != nil { // nil after a failed Start
			o.cancel()
			o.unhook()
		}
		<-o.done
	})
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.releaseErr
}

// becomeOwner starts a tenure whose attempt began at begin. It reports
// false, releasing l, if the Owner was released or its context ended
// meanwhile.
func (o *Owner) becomeOwner(l lease.Lease, begin time.Time) bool {
	o.mu.Lock()
	if o.state != following || o.ctx.Err() != nil {
		// Released, or Start's context ended, while the lease was being
		// taken: this instance never owns.
		o.mu.Unlock()
		_ = l.Release(context.Background())
		return false
	}
	o.state = owning
	o.lease = l
	o.deadline = begin.Add(o.cfg.TTL)
	o.tally.acquisitions++
	o.tally.lastRenewal = begin
	o.expiry = o.clk.AfterFunc(o.deadline.Sub(o.clk.Now()), o.expire)
	o.setHolderLocked(l.Record())
	o.mu.Unlock()
	close(o.acquired)
	return true
}

// renewed extends the deadline after a renewal that began at begin. If the
// old deadline passed meanwhile there was an instant without a valid
// lease, and ownership is lost.
func (o *Owner) renewed(begin time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.state != owning {
		return
	}
	now := o.clk.Now()
	if !now.Before(o.deadline) {
		o.expireLocked()
		return
	}
	// The expiry timer is left as it is: it fires at the old deadline and
	// sets itself for the new one (see expire). Moving it on every renewal
	// would wake the process at the old deadline all the same.
	o.deadline = begin.Add(o.cfg.TTL)
	o.renewErr = nil
	o.tally.renewals++
	o.tally.lastRenewal, o.tally.latency = begin, now.Sub(begin)
	o.setHolderLocked(o.lease.Record())
}

// renewFailed records a renewal that failed with err: lease.ErrLost ends
// the tenure; another error is retried until the deadline.
func (o *Owner) renewFailed(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.state != owning {
		return
	}
	o.tally.renewFailures++
	o.renewErr = err
	if errors.Is(err, lease.ErrLost) {
		o.loseLocked(lossSuperseded, err)
	}
}

// expire runs when the deadline timer fires.
func (o *Owner) expire() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.state != owning {
		return
	}
	if now := o.clk.Now(); now.Before(o.deadline) {
		o.expiry.Reset(o.deadline.Sub(now)) // renewed since the timer was set
		return
	}
	o.expireLocked()
}

// expireLocked ends the tenure at its deadline.
func (o *Owner) expireLocked() {
	if o.renewErr != nil {
		o.loseLocked(lossStoreError, fmt.Errorf("not renewed within %v: %w", o.cfg.TTL, o.renewErr))
		return
	}
	o.loseLocked(lossExpired, fmt.Errorf("not renewed within %v", o.cfg.TTL))
}

func (o *Owner) lose(why lossCause, cause error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.loseLocked(why, cause)
}

func (o *Owner) loseLocked(why lossCause, cause error) {
	if o.state != owning {
		return
	}
	o.tally.lost[why]++
	o.state = lost
	o.lostErr = fmt.Errorf("%w: %w", ErrLost, cause)
	o.expiry.Stop()
	close(o.lostCh)
}

func (o *Owner) setHolder(rec lease.Record) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.state == following {
		o.setHolderLocked(rec)
	}
}

func (o *Owner) setHolderLocked(rec lease.Record) {
	old := o.holder
	o.holder = rec
	if old.InstanceID != rec.InstanceID || old.Epoch != rec.Epoch || old.Released != rec.Released ||
		old.Meta[EndpointMetaKey] != rec.Meta[EndpointMetaKey] || old.Meta[BackendMetaKey] != rec.Meta[BackendMetaKey] {
		close(o.changed)
		o.changed = make(chan struct{})
	}
}
