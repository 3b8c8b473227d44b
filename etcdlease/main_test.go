package etcdlease_test

import (
	"os"
	"strings"
	"testing"

	"github.com/leasehold/leasehold/etcdlease"
	"github.com/leasehold/leasehold/etcdlease/internal/leakcheck"
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
	leakcheck.Main(m.Run)
}

func openWorkerStore(cfg owner.Config) (lease.Store, error) {
	eps := strings.Split(os.Getenv(envEndpoints), ",")
	return etcdlease.Dial(clientConfig(eps), cfg.LeasePath, etcdlease.Options{TTL: cfg.TTL})
}
