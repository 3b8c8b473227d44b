package etcdlease_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/leasehold/leasehold/etcdlease"
	"github.com/leasehold/leasehold/internal/worker"
	"github.com/leasehold/leasehold/lease"
	"github.com/leasehold/leasehold/owner"
)

// envEndpoints gives a worker process the cluster's client addresses,
// comma-separated; the worker's lease path is the key.
const envEndpoints = "ETCDLEASE_TEST_ENDPOINTS"

func TestMain(m *testing.M) {
	if worker.Active() {
		os.Exit(worker.MainStore(openWorkerStore))
	}
	code := m.Run()
	if code == 0 {
		code = settle()
	}
	os.Exit(code)
}

// settle fails unless every goroutine but the main one ends. It waits
// longer than goleak.VerifyTestMain: a closed etcd member's HTTP
// connections to its peers (which carry lease renewals to the leader)
// end only at their read timeout, 5s after the last request. And it
// ignores a request for a member's version that a peer made as the
// member stopped: the handler waits for the closed storage for ever.
func settle() int {
	start := time.Now()
	for {
		err := goleak.Find(goleak.IgnoreAnyFunction("go.etcd.io/etcd/server/v3/etcdserver/api/etcdhttp.newPeerHandler.versionHandler.func1"))
		switch {
		case err == nil:
			return 0
		case time.Since(start) > 30*time.Second:
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			return 1
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func openWorkerStore(cfg owner.Config) (lease.Store, error) {
	eps := strings.Split(os.Getenv(envEndpoints), ",")
	return etcdlease.Dial(clientConfig(eps), cfg.LeasePath, etcdlease.Options{TTL: cfg.TTL})
}
