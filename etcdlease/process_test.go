//go:build unix

package etcdlease_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/leasehold/leasehold/internal/fleet"
	"github.com/leasehold/leasehold/internal/proctest"
	"github.com/leasehold/leasehold/internal/worker"
)

// Process tests: every instance is a real process (this test binary run
// as a worker, with the etcd store), hurt with real signals, on a real
// three-member cluster. Their bounds are generous.

const (
	procTTL   = 2 * time.Second
	procRenew = 500 * time.Millisecond
	// expiryLag is how late etcd's leader may notice that a lease
	// expired: it looks twice a second.
	expiryLag = 500 * time.Millisecond
	// slack covers the rest of a takeover on a loaded machine: the
	// revocation through raft, the watch, the successor's attempt and
	// its first Check.
	slack = 3 * time.Second
)

// startFleet starts n workers on the cluster's lease; at cleanup it kills
// them and fails t on any safety violation in what they reported.
func startFleet(t *testing.T, c *cluster, n int, extra ...string) proctest.Run {
	t.Helper()
	extra = append(extra, envEndpoints+"="+strings.Join(c.endpoints(), ","))
	env := fleet.Env(key, procTTL, procRenew, extra...)
	f := fleet.New(func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = env
		return cmd
	})
	r := proctest.Checked(t, f, patience)
	for range n {
		if _, err := f.Start(); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func TestProcessesJoinAtOnceOneOwner(t *testing.T) {
	c := startCluster(t, 3, nil)
	startFleet(t, c, 5, worker.EnvBarrier+"=1").JoinAtOnce(5)
}

// A killed owner's lease expires in etcd, and a follower takes over
// within the TTL plus the lag of etcd's expiry.
func TestProcessCrashFailover(t *testing.T) {
	c := startCluster(t, 3, nil)
	startFleet(t, c, 3).CrashFailover(2, procTTL+expiryLag+slack)
}

// An owner frozen past its TTL is taken over; resumed, its first Check
// fails and it reports the loss.
func TestProcessHangFailover(t *testing.T) {
	c := startCluster(t, 3, nil)
	startFleet(t, c, 3).HangFailover(procTTL + expiryLag + slack)
}
