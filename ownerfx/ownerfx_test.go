package ownerfx_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/leasehold/leasehold/config"
	"github.com/leasehold/leasehold/lease"
	"github.com/leasehold/leasehold/owner"
	"github.com/leasehold/leasehold/ownerfx"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const patience = 10 * time.Second

func cfgFor(path string) owner.Config {
	return owner.Config{LeasePath: path, TTL: 2 * time.Second}
}

// recorder is an owned component that records what happened to it.
type recorder struct {
	mu     sync.Mutex
	events []string
	ctx    context.Context
	o      *owner.Owner
	up     chan struct{}
	down   chan struct{}
}

func newRecorder() *recorder { return &recorder{up: make(chan struct{}), down: make(chan struct{})} }

func (r *recorder) add(e string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

// list returns the events so far, joined.
func (r *recorder) list() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.events, "; ")
}

func (r *recorder) owned(o *owner.Owner) ownerfx.Owned {
	r.o = o
	return ownerfx.Owned{
		Name: "recorder",
		OnAcquire: func(ctx context.Context) error {
			r.ctx = ctx
			r.add("acquire")
			close(r.up)
			return nil
		},
		OnRelease: func(context.Context) error {
			// A clean stop runs before the release: still the owner here.
			r.add("release, check: " + errString(r.o.Check()))
			close(r.down)
			return nil
		},
	}
}

func errString(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

func wait(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(patience):
		t.Fatalf("%s did not happen within %v", what, patience)
	}
}

func app(t *testing.T, opts ...fx.Option) (*fxtest.App, *owner.Owner) {
	var o *owner.Owner
	a := fxtest.New(t, append(opts, ownerfx.Module, fx.Populate(&o))...)
	return a, o
}

func TestValidate(t *testing.T) {
	if err := fx.ValidateApp(ownerfx.Module, fx.Supply(cfgFor(filepath.Join(t.TempDir(), "l")))); err != nil {
		t.Fatal(err)
	}
}

func TestJoinOnStartReleaseOnStop(t *testing.T) {
	path := filepath.Join(t.TempDir(), "owner.lease")
	a, o := app(t, fx.Supply(cfgFor(path)))
	if o.Role() != owner.RoleFollower || o.Epoch() != 0 {
		t.Fatal("joined before start")
	}
	a.RequireStart()
	if err := o.Check(); err != nil || o.Epoch() != 1 {
		t.Fatalf("after start: %v, epoch %d", err, o.Epoch())
	}
	a.RequireStop()
	if !errors.Is(o.Check(), owner.ErrReleased) {
		t.Fatalf("after stop: %v", o.Check())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if rec, err := lease.DecodeRecord(raw); err != nil || !rec.Released {
		t.Fatalf("record after stop: %+v %v", rec, err)
	}
}

func TestOwnedComponentsFollowOwnership(t *testing.T) {
	path := filepath.Join(t.TempDir(), "owner.lease")
	a, _ := app(t, fx.Supply(cfgFor(path)))
	a.RequireStart()

	r := newRecorder()
	b, bo := app(t, fx.Supply(cfgFor(path)), fx.Provide(ownerfx.AsOwned(r.owned)))
	b.RequireStart()
	if bo.IsOwner() || r.list() != "" {
		t.Fatal("a follower started its owned component")
	}
	a.RequireStop() // hands over
	wait(t, r.up, "owned component start on takeover")
	if bo.Epoch() != 2 {
		t.Fatalf("epoch %d", bo.Epoch())
	}
	b.RequireStop()
	wait(t, r.down, "owned component stop")
	if got := r.list(); got != "acquire; release, check: ok" {
		t.Fatalf("events: %s", got)
	}
	if r.ctx.Err() == nil {
		t.Fatal("owned context still live after stop")
	}
}

func TestLossShutsDownWithExitCode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "owner.lease")
	core, logs := observer.New(zap.InfoLevel)
	r := newRecorder()
	cfg := owner.Config{LeasePath: path, TTL: time.Second, RenewInterval: 50 * time.Millisecond}
	var health *ownerfx.HealthCheck
	a, o := app(t, fx.Supply(cfg, zap.New(core)), fx.Provide(ownerfx.AsOwned(r.owned)), fx.Populate(&health))
	a.RequireStart()
	wait(t, r.up, "owned component start")
	if err := health.Check(nil); err != nil {
		t.Fatalf("the owner is unhealthy: %v", err)
	}

	// Another instance claims the next epoch and publishes (its record, and
	// its beat that counts the publication): the owner's next renewal finds
	// them and the tenure is lost.
	rec, err := lease.EncodeRecord(lease.Record{Version: 1, InstanceID: "successor", Epoch: 2, TTL: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(path+".d", "claim.2"), rec, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, rec, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(path+".d", "beat.2"), []byte("1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	select {
	case sig := <-a.Wait():
		if sig.ExitCode != ownerfx.ExitCodeLost {
			t.Fatalf("exit code %d, want %d", sig.ExitCode, ownerfx.ExitCodeLost)
		}
	case <-time.After(patience):
		t.Fatal("no shutdown after loss")
	}
	wait(t, r.down, "owned component stop")
	if r.ctx.Err() == nil {
		t.Fatal("owned context not cancelled on loss")
	}
	if !errors.Is(o.LostErr(), lease.ErrLost) {
		t.Fatalf("LostErr = %v", o.LostErr())
	}
	if err := health.Check(nil); !errors.Is(err, lease.ErrLost) {
		t.Fatalf("health after loss = %v, want unhealthy with the cause", err)
	}
	if logs.FilterMessage("ownership lost; shutting down").Len() != 1 {
		t.Fatalf("logs: %v", logs.All())
	}
	a.RequireStop()
}

func TestLostIsInjectable(t *testing.T) {
	var lost ownerfx.Lost
	var o *owner.Owner
	a := fxtest.New(t, fx.Supply(cfgFor(filepath.Join(t.TempDir(), "l"))), ownerfx.Module, fx.Populate(&lost, &o))
	a.RequireStart()
	if (<-chan struct{})(lost) != o.Lost() {
		t.Fatal("Lost is not the owner's")
	}
	a.RequireStop()
}

func TestConfigFromFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "owner.yaml")
	lp := filepath.Join(dir, "from-file.lease")
	if err := os.WriteFile(file, []byte("owner:\n  lease_path: "+lp+"\n  ttl: 3s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a, o := app(t, fx.Supply(config.Options{File: file, Environ: []string{}}))
	a.RequireStart()
	if o.Holder().TTL != 3*time.Second {
		t.Fatalf("TTL %v", o.Holder().TTL)
	}
	if _, err := os.Stat(lp); err != nil {
		t.Fatal(err)
	}
	a.RequireStop()
}

func TestBadConfigFailsConstruction(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "owner.yaml")
	if err := os.WriteFile(file, []byte("owner:\n  ttl: 10\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := fx.New(fx.NopLogger, fx.Supply(config.Options{File: file, Environ: []string{}}), ownerfx.Module).Err()
	if err == nil || !strings.Contains(err.Error(), "owner.ttl") {
		t.Fatalf("fx.New error = %v, want the config error", err)
	}
	err = fx.New(fx.NopLogger, fx.Supply(owner.Config{LeasePath: filepath.Join(dir, "x"), TTL: -1}), ownerfx.Module).Err()
	if err == nil || !strings.Contains(err.Error(), "Config.TTL") {
		t.Fatalf("fx.New error = %v, want the Config.TTL error", err)
	}
}

func failing() ownerfx.Owned {
	return ownerfx.Owned{Name: "broken", OnAcquire: func(context.Context) error { return errors.New("boom") }}
}

// checkBothOrNeither: fx gives no order within a value group, so the
// recorder ran either not at all or both ways.
func checkBothOrNeither(t *testing.T, r *recorder) {
	t.Helper()
	if got := r.list(); got != "" && !strings.HasPrefix(got, "acquire; release") {
		t.Fatalf("events of the other component: %s", got)
	}
}

func TestOwnedFailureAtStartFailsStart(t *testing.T) {
	r := newRecorder()
	var o *owner.Owner
	a := fx.New(fx.NopLogger, fx.Supply(cfgFor(filepath.Join(t.TempDir(), "l"))), ownerfx.Module,
		fx.Provide(ownerfx.AsOwned(r.owned), ownerfx.AsOwned(failing)), fx.Populate(&o))
	err := a.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), `start "broken": boom`) {
		t.Fatalf("Start = %v", err)
	}
	if !errors.Is(o.Check(), owner.ErrReleased) {
		t.Fatalf("the failed start did not release: %v", o.Check())
	}
	checkBothOrNeither(t, r)
}

func TestOwnedFailureOnTakeoverShutsDown(t *testing.T) {
	path := filepath.Join(t.TempDir(), "owner.lease")
	first, _ := app(t, fx.Supply(cfgFor(path)))
	first.RequireStart()
	r := newRecorder()
	a, _ := app(t, fx.Supply(cfgFor(path)), fx.Provide(ownerfx.AsOwned(r.owned), ownerfx.AsOwned(failing)))
	a.RequireStart()
	first.RequireStop()
	select {
	case sig := <-a.Wait():
		if sig.ExitCode != ownerfx.ExitCodeOwnedFailed {
			t.Fatalf("exit code %d", sig.ExitCode)
		}
	case <-time.After(patience):
		t.Fatal("no shutdown")
	}
	a.RequireStop()
	checkBothOrNeither(t, r)
}

// A variable of the environment that looks like a typo is logged as a
// warning naming the closest known one; an unrelated one is ignored.
func TestConfigWarningsAreLogged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "owner.lease")
	core, logs := observer.New(zap.InfoLevel)
	environ := []string{"OWNER_LEASE_PATH=" + path, "OWNER_TLL=1s", "OWNER_EMAIL=me@example.com"}
	a, o := app(t, fx.Supply(config.Options{Environ: environ}, zap.New(core)))
	a.RequireStart()
	if o.Holder().TTL != config.DefaultTTL {
		t.Fatalf("TTL %v: OWNER_TLL was read", o.Holder().TTL)
	}
	warned := logs.FilterMessage("unknown variable ignored").All()
	if len(warned) != 1 {
		t.Fatalf("warnings: %v", logs.All())
	}
	w := warned[0]
	fields := w.ContextMap()
	if w.Level != zap.WarnLevel || w.LoggerName != "owner" || fields["variable"] != "OWNER_TLL" ||
		fields["did_you_mean"] != "OWNER_TTL" || fields["source"] != "environment" {
		t.Fatalf("warning: %v %s %v", w.Level, w.LoggerName, fields)
	}
	a.RequireStop()
}

// The lease in every log line is the absolute path, even for a relative
// path in a supplied owner.Config.
func TestLogsNameAbsoluteLeasePath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	core, logs := observer.New(zap.InfoLevel)
	a, _ := app(t, fx.Supply(cfgFor("owner.lease"), zap.New(core)))
	a.RequireStart()
	a.RequireStop()
	joined := logs.FilterMessage("joined").All()
	if len(joined) != 1 {
		t.Fatalf("logs: %v", logs.All())
	}
	want, err := filepath.Abs("owner.lease")
	if err != nil {
		t.Fatal(err)
	}
	if got := joined[0].ContextMap()["lease"]; got != want {
		t.Fatalf("lease %v, want %s", got, want)
	}
}

// A configuration that selects another store than the file needs the
// opener of that store's module: without one the application fails to
// build, saying so; with one, the election runs on the store it opens.
func TestStoreOpener(t *testing.T) {
	environ := []string{"OWNER_STORE=etcd", "OWNER_ETCD_ENDPOINTS=127.0.0.1:2379", "OWNER_ETCD_KEY=/app/owner", "OWNER_TTL=2s"}
	opts := config.Options{Environ: environ, App: "app"}
	err := fx.New(fx.NopLogger, fx.Supply(opts), ownerfx.Module).Err()
	if err == nil || !strings.Contains(err.Error(), "StoreOpener") || !strings.Contains(err.Error(), "etcd") {
		t.Fatalf("etcd configured without an opener: %v", err)
	}

	// A stand-in for the etcd store: the file store, opened by the opener.
	path := filepath.Join(t.TempDir(), "owner.lease")
	var opened config.Store
	opener := ownerfx.StoreOpener(func(cfg owner.Config, s config.Store) (lease.Store, error) {
		opened = s
		return lease.Open(path, lease.Options{TTL: cfg.TTL})
	})
	core, logs := observer.New(zap.InfoLevel)
	a, o := app(t, fx.Supply(opts, opener, zap.New(core)))
	a.RequireStart()
	if !o.IsOwner() {
		t.Fatal("not the owner on the opened store")
	}
	if opened.Kind != config.StoreEtcd || opened.Etcd.Key != "/app/owner" {
		t.Fatalf("opener given %+v", opened)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the opened store was not used: %v", err)
	}
	a.RequireStop()
	if got := logs.FilterMessage("joined").All(); len(got) != 1 || got[0].ContextMap()["lease"] != "etcd:/app/owner" {
		t.Fatalf("logs: %v", logs.All())
	}

	failing := ownerfx.StoreOpener(func(owner.Config, config.Store) (lease.Store, error) {
		return nil, errors.New("no route to etcd")
	})
	err = fx.New(fx.NopLogger, fx.Supply(opts, failing), ownerfx.Module).Err()
	if err == nil || !strings.Contains(err.Error(), "no route to etcd") {
		t.Fatalf("a failing opener: %v", err)
	}
}
