// Package baseline is what users of etcd would pick instead of etcdlease:
// etcd's own concurrency.Election, as a worker (package worker) of the
// chaos and benchmark commands, for their figures beside etcdlease's.
package baseline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/leasehold/leasehold/internal/worker"
	"github.com/leasehold/leasehold/owner"
)

// Impl is the worker.EnvImpl value that selects the baseline.
const Impl = "election"

var (
	errNotLeader = errors.New("election: not the leader")
	errSession   = errors.New("election: session ended")
)

// election is the baseline, concurrency.Election used as its
// documentation shows: a session of the TTL, Campaign, and leadership
// believed until the session's Done channel closes. Its epoch is the
// leader key's create revision.
type election struct {
	cli      *clientv3.Client
	s        *concurrency.Session
	e        *concurrency.Election
	id       string
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	acquired chan struct{}
	lost     chan struct{}

	mu      sync.Mutex
	epoch   uint64
	lostErr error
}

// Join campaigns with a client of cc, in a session of cfg.TTL, on the
// election named cfg.LeasePath.
func Join(cc clientv3.Config, cfg owner.Config) (worker.Member, error) {
	cli, err := clientv3.New(cc)
	if err != nil {
		return nil, err
	}
	s, err := concurrency.NewSession(cli, concurrency.WithTTL(int(cfg.TTL/time.Second)))
	if err != nil {
		cli.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &election{
		cli: cli, s: s, e: concurrency.NewElection(s, cfg.LeasePath), cancel: cancel,
		id:       fmt.Sprintf("%d-%x", os.Getpid(), s.Lease()),
		acquired: make(chan struct{}), lost: make(chan struct{}),
	}
	m.wg.Go(func() { m.campaign(ctx) })
	return m, nil
}

func (m *election) campaign(ctx context.Context) {
	cctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		select {
		case <-m.s.Done():
			stop()
		case <-cctx.Done():
		}
	}()
	if err := m.e.Campaign(cctx, m.id); err != nil {
		if ctx.Err() == nil {
			m.lose(errSession)
		}
		return
	}
	m.mu.Lock()
	m.epoch = uint64(m.e.Rev())
	m.mu.Unlock()
	close(m.acquired)
	select {
	case <-m.s.Done():
		m.lose(errSession)
	case <-ctx.Done():
	}
}

func (m *election) lose(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lostErr == nil {
		m.lostErr = err
		close(m.lost)
	}
}

func (m *election) ID() string                { return m.id }
func (m *election) Acquired() <-chan struct{} { return m.acquired }
func (m *election) Lost() <-chan struct{}     { return m.lost }

func (m *election) Epoch() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.epoch
}

func (m *election) LostErr() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lostErr
}

func (m *election) IsOwner() bool {
	select {
	case <-m.acquired:
		return m.LostErr() == nil
	default:
		return false
	}
}

// Check is what a user of Election can check: that it won and its
// session has not ended.
func (m *election) Check() error {
	if err := m.LostErr(); err != nil {
		return err
	}
	if !m.IsOwner() {
		return errNotLeader
	}
	return nil
}

// Release resigns if it leads, then ends the session and the client.
func (m *election) Release() error {
	var err error
	if m.IsOwner() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = m.e.Resign(ctx)
		cancel()
	}
	m.cancel()
	m.wg.Wait()
	m.lose(errors.New("election: released"))
	return errors.Join(err, m.s.Close(), m.cli.Close())
}
