// Package embedded starts real etcd clusters inside the process, on
// loopback, for the tests of etcdlease and its chaos command.
package embedded

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// Cluster is an etcd cluster embedded in this process.
type Cluster struct {
	Members []*embed.Etcd
	Clients []string // the members' client addresses, in order
}

// Start starts n members with their data under dir, with etcd's default
// heartbeat and election timeout (100ms and 1s) and without fsync, after
// tweak (if not nil) has changed each member's configuration. It returns
// once every member is ready, within patience; on an error it has stopped
// what it started.
func Start(dir string, n int, tweak func(*embed.Config), patience time.Duration) (*Cluster, error) {
	c := &Cluster{}
	var peers []string
	cfgs := make([]*embed.Config, n)
	for i := range n {
		peer, err := FreeURL()
		client, err2 := FreeURL()
		if err = errors.Join(err, err2); err != nil {
			return nil, err
		}
		cfg := embed.NewConfig()
		cfg.Name = fmt.Sprintf("m%d", i)
		cfg.Dir = filepath.Join(dir, cfg.Name)
		cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
		cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
		cfg.InitialClusterToken = "leasehold"
		cfg.ClusterState = embed.ClusterStateFlagNew
		cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
		cfg.UnsafeNoFsync = true
		if tweak != nil {
			tweak(cfg)
		}
		cfgs[i] = cfg
		peers = append(peers, cfg.Name+"="+peer.String())
		c.Clients = append(c.Clients, client.Host)
	}
	// A new member waits for its peers, so they start together.
	c.Members = make([]*embed.Etcd, n)
	errs := make(chan error, n)
	for i, cfg := range cfgs {
		cfg.InitialCluster = strings.Join(peers, ",")
		go func() {
			e, err := embed.StartEtcd(cfg)
			c.Members[i] = e
			errs <- err
		}()
	}
	var failed error
	for range n {
		failed = errors.Join(failed, <-errs)
	}
	if failed == nil {
		failed = c.ready(patience)
	}
	if failed != nil {
		c.Close()
		return nil, fmt.Errorf("start etcd: %w", failed)
	}
	return c, nil
}

func (c *Cluster) ready(patience time.Duration) error {
	timeout := time.After(patience)
	for i, m := range c.Members {
		select {
		case <-m.Server.ReadyNotify():
		case err := <-m.Err():
			return fmt.Errorf("member m%d: %w", i, err)
		case <-timeout:
			return fmt.Errorf("member m%d not ready within %v", i, patience)
		}
	}
	return nil
}

// Close stops the members together: first their raft, so that no leader
// tries to hand over to a member that is stopping too, then the rest, each
// waiting up to a second for its peer connections to end.
func (c *Cluster) Close() {
	var wg sync.WaitGroup
	for _, m := range c.Members {
		if m != nil {
			wg.Go(m.Server.HardStop)
		}
	}
	wg.Wait()
	for _, m := range c.Members {
		if m != nil {
			wg.Go(m.Close)
		}
	}
	wg.Wait()
}

var (
	portMu   sync.Mutex
	nextPort = 20000 + rand.IntN(10000)
)

// FreeURL returns an http URL on loopback with a port free at the moment,
// below Linux's range of ephemeral ports (32768 up), so that no outgoing
// connection takes it before the member listens on it, as one could a
// port the kernel picked for a listener on port 0.
func FreeURL() (url.URL, error) {
	portMu.Lock()
	defer portMu.Unlock()
	for range 1000 {
		nextPort++
		if nextPort >= 32768 {
			nextPort = 20000
		}
		addr := fmt.Sprintf("127.0.0.1:%d", nextPort)
		if l, err := net.Listen("tcp", addr); err == nil {
			l.Close()
			return url.URL{Scheme: "http", Host: addr}, nil
		}
	}
	return url.URL{}, errors.New("no free port on loopback")
}
