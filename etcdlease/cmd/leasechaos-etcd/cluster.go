//go:build unix

package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// cluster is an etcd cluster embedded in this process, on loopback, with
// its data in a temporary directory; the workers are its only clients.
type cluster struct {
	dir     string
	members []*embed.Etcd
	clients []string // the members' client addresses
}

// startCluster starts n members with etcd's default heartbeat and
// election timeout (100ms and 1s), without fsync: the faults are in the
// workers, not in etcd.
func startCluster(n int) (*cluster, error) {
	dir, err := os.MkdirTemp("", "leasechaos-etcd")
	if err != nil {
		return nil, err
	}
	c := &cluster{dir: dir}
	var peers []string
	cfgs := make([]*embed.Config, n)
	for i := range n {
		peer, err := freeURL()
		client, err2 := freeURL()
		if err = errors.Join(err, err2); err != nil {
			c.close()
			return nil, err
		}
		cfg := embed.NewConfig()
		cfg.Name = fmt.Sprintf("m%d", i)
		cfg.Dir = filepath.Join(dir, cfg.Name)
		cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
		cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
		cfg.InitialClusterToken = "leasechaos"
		cfg.ClusterState = embed.ClusterStateFlagNew
		cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
		cfg.UnsafeNoFsync = true
		cfgs[i] = cfg
		peers = append(peers, cfg.Name+"="+peer.String())
		c.clients = append(c.clients, client.Host)
	}
	// A new member waits for its peers, so they start together.
	c.members = make([]*embed.Etcd, n)
	errs := make(chan error, n)
	for i, cfg := range cfgs {
		cfg.InitialCluster = strings.Join(peers, ",")
		go func() {
			e, err := embed.StartEtcd(cfg)
			c.members[i] = e
			errs <- err
		}()
	}
	var failed error
	for range n {
		failed = errors.Join(failed, <-errs)
	}
	if failed == nil {
		failed = c.ready(30 * time.Second)
	}
	if failed != nil {
		c.close()
		return nil, fmt.Errorf("start etcd: %w", failed)
	}
	return c, nil
}

func (c *cluster) ready(patience time.Duration) error {
	timeout := time.After(patience)
	for _, m := range c.members {
		select {
		case <-m.Server.ReadyNotify():
		case err := <-m.Err():
			return err
		case <-timeout:
			return fmt.Errorf("not ready within %v", patience)
		}
	}
	return nil
}

// close stops the members together (first their raft, so that no leader
// hands over to a member that is stopping too) and removes their data.
func (c *cluster) close() {
	var wg sync.WaitGroup
	for _, m := range c.members {
		if m != nil {
			wg.Go(m.Server.HardStop)
		}
	}
	wg.Wait()
	for _, m := range c.members {
		if m != nil {
			wg.Go(m.Close)
		}
	}
	wg.Wait()
	os.RemoveAll(c.dir)
}

var (
	portMu   sync.Mutex
	nextPort = 20000 + rand.IntN(10000)
)

// freeURL returns an http URL on loopback with a port free at the moment,
// below Linux's ephemeral range (32768 up), so that no outgoing connection
// takes it before the member listens on it.
func freeURL() (url.URL, error) {
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
