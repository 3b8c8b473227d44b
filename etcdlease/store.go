package etcdlease

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/leasehold/leasehold/lease"
)

// MinTTL is the shortest TTL Open accepts: etcd grants leases of at least
// ceil(1.5 x election timeout), 2s with the default election timeout of 1s.
const MinTTL = 2 * time.Second

// Options configure a Store.
type Options struct {
	// TTL is the lease duration: a whole number of seconds, at least
	// MinTTL, since etcd leases are counted in seconds. It must equal the
	// owner.Config.TTL of the election run on the Store.
	TTL time.Duration
	// RequestTimeout bounds each request to etcd; it defaults to TTL/3 and
	// must be shorter than TTL. A request is made in tries of half that
	// time, each through the next member when the client has several
	// endpoints; one that takes longer fails, and the election tries it
	// again later.
	RequestTimeout time.Duration
}

// validate checks o and applies the defaults. The error names the field.
func (o Options) validate() (Options, error) {
	switch {
	case o.TTL <= 0:
		return o, fmt.Errorf("etcdlease: Options.TTL must be positive, got %v", o.TTL)
	case o.TTL%time.Second != 0:
		return o, fmt.Errorf("etcdlease: Options.TTL (%v) must be a whole number of seconds: etcd leases are counted in seconds", o.TTL)
	case o.TTL < MinTTL:
		return o, fmt.Errorf("etcdlease: Options.TTL (%v) is shorter than %v, the shortest lease etcd grants with its default election timeout", o.TTL, MinTTL)
	case o.RequestTimeout < 0:
		return o, fmt.Errorf("etcdlease: Options.RequestTimeout must not be negative, got %v", o.RequestTimeout)
	case o.RequestTimeout == 0:
		o.RequestTimeout = o.TTL / 3
	}
	if o.RequestTimeout >= o.TTL {
		return o, fmt.Errorf("etcdlease: Options.RequestTimeout (%v) must be shorter than Options.TTL (%v)", o.RequestTimeout, o.TTL)
	}
	return o, nil
}

// Store is one participant's handle on a lease kept in etcd under one key.
// It implements lease.Store; see the package comment for the rules. A
// Store is used by one goroutine at a time; Close may be called from any.
type Store struct {
	client *clientv3.Client
	key    string
	opts   Options
	host   string
	ctx    context.Context // cancelled by Close; ends a Wait
	cancel context.CancelFunc
	own    *owned // the client, if Dial made it

	mu     sync.Mutex
	rev    int64 // the revision of the last read of the key; 0 before one
	closed bool
}

// Open returns a Store for the lease at key, using client, which stays
// the caller's: Open does not contact etcd, and the caller closes client
// after the Store and every Lease it granted are closed. The key must be
// used by nothing but the Stores of this lease (a prefix of its own, such
// as "/leasehold/<name>", is best); a key written or deleted by anything
// else breaks the guarantee.
//
// Open returns an error naming the field at fault for an invalid key or
// Options, such as a TTL etcd cannot honour.
func Open(client *clientv3.Client, key string, opts Options) (*Store, error) {
	if client == nil {
		return nil, errors.New("etcdlease: Open: nil client")
	}
	return open(client, key, opts, nil)
}

// Dial connects to etcd with cfg and returns a Store for the lease at key
// that owns the connection: it is closed once the Store and every Lease
// it granted are closed. cfg is passed to clientv3.New as it is, with two
// defaults: a DialTimeout of 5s (which also bounds the first
// authentication, when cfg.Username is set) and, when cfg.Logger is nil,
// a logger that discards, so that the client's retries do not fill the
// application's standard error. Endpoints, TLS and credentials are the
// caller's to give.
func Dial(cfg clientv3.Config, key string, opts Options) (*Store, error) {
	if _, err := opts.validate(); err != nil {
		return nil, err
	}
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	client, err := clientv3.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("etcdlease: dial %v: %w", cfg.Endpoints, err)
	}
	return open(client, key, opts, &owned{client: client, refs: 1})
}

func checkKey(key string) error {
	if key == "" {
		return errors.New("etcdlease: the key is empty")
	}
	return nil
}

func open(client *clientv3.Client, key string, opts Options, own *owned) (*Store, error) {
	opts, err := opts.validate()
	if err != nil {
		return nil, err
	}
	if err := checkKey(key); err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	ctx, cancel := context.WithCancel(context.Background())
	return &Store{client: client, key: key, opts: opts, host: host, ctx: ctx, cancel: cancel, own: own}, nil
}

// owned counts the users of a client that Dial made: the Store and its
// open Leases. The last to close closes the client. A nil *owned is a
// client of the caller's, which is never closed here.
type owned struct {
	client *clientv3.Client
	mu     sync.Mutex
	refs   int
}

func (o *owned) hold() {
	if o == nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.refs++
}

func (o *owned) drop() {
	if o == nil {
		return
	}
	o.mu.Lock()
	o.refs--
	last := o.refs == 0
	o.mu.Unlock()
	if last {
		_ = o.client.Close()
	}
}

// TTL returns the lease duration the Store was opened with.
func (s *Store) TTL() time.Duration { return s.opts.TTL }

// Key returns the key that holds the lease.
func (s *Store) Key() string { return s.key }

// Close ends any Wait in progress and makes the Store's methods return
// lease.ErrClosed. Leases it granted are not affected. Close is
// idempotent.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.cancel()
	s.own.drop()
	return nil
}

func (s *Store) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// read notes the revision at which the key was last read, for Wait.
func (s *Store) read(rev int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rev = max(s.rev, rev)
}

var _ lease.Store = (*Store)(nil)
