//go:build unix

package owner_test

import (
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/leasehold/leasehold/internal/measure"
	"github.com/leasehold/leasehold/internal/proctest"
	"github.com/leasehold/leasehold/internal/stats"
	"github.com/leasehold/leasehold/internal/worker"
)

// Failover benchmarks: real worker processes, real signals. Each of b.N
// iterations is one failover; run them with -benchtime=200x for 200
// events. They report percentiles of the latency in milliseconds.

const benchFollowers = 3

func reportLatency(b *testing.B, what string, ds []time.Duration, err error) {
	if err != nil {
		b.Fatal(err)
	}
	s := stats.Summarize(ds)
	b.Logf("%s: %v", what, s)
	for _, m := range []struct {
		unit string
		d    time.Duration
	}{{"p50-ms", s.P50}, {"p90-ms", s.P90}, {"p99-ms", s.P99}, {"max-ms", s.Max}} {
		b.ReportMetric(float64(m.d)/1e6, m.unit)
	}
	b.ReportMetric(0, "ns/op")
}

// benchHandover measures from sig sent to the owner to the successor's
// first successful Check, with benchFollowers followers waiting.
func benchHandover(b *testing.B, sig syscall.Signal) {
	f := startFleetTTL(b, benchFollowers+1, 2*time.Second, 0)
	proctest.Checked(b, f, procLimit)
	ds, err := measure.Handover(f, sig, b.N)
	reportLatency(b, sig.String()+" to successor's first Check", ds, err)
}

func BenchmarkFailoverCrash(b *testing.B)   { benchHandover(b, syscall.SIGKILL) }
func BenchmarkFailoverRelease(b *testing.B) { benchHandover(b, syscall.SIGTERM) }

// BenchmarkFailoverHang freezes the owner with SIGSTOP and measures how
// long after its last renewal the successor first passes Check, less the
// TTL: the target is under 50 ms.
func BenchmarkFailoverHang(b *testing.B) {
	const ttl = 400 * time.Millisecond
	f := startFleetTTL(b, benchFollowers+1, ttl, 100*time.Millisecond)
	proctest.Checked(b, f, procLimit)
	ds, err := measure.Hang(f, ttl, b.N, nil)
	reportLatency(b, "last renewal to successor's first Check, beyond the TTL", ds, err)
}

// BenchmarkJoin64 lets 64 processes call Join at once on a fresh lease and
// reports the slowest Join of each round; every round must elect one owner.
func BenchmarkJoin64(b *testing.B) {
	var ds []time.Duration
	for range b.N {
		j, err := measure.JoinBurst(os.Args[0], []string{"-test.run=^$"}, b.TempDir(), 64, 2*time.Second)
		if err != nil {
			b.Fatal(err)
		}
		if j.Owners != 1 {
			b.Fatalf("%d of 64 simultaneous joins returned owner", j.Owners)
		}
		ds = append(ds, j.Slowest)
	}
	reportLatency(b, "slowest of 64 simultaneous Joins", ds, nil)
}

// BenchmarkIdleCPU runs an owner and 16 followers (TTL 2 s, the owner
// checking once a second) and reports the CPU each used over ten seconds,
// in percent of one core. Run it with -benchtime=1x.
func BenchmarkIdleCPU(b *testing.B) {
	const followers = 16
	f := startFleetTTL(b, followers+1, 2*time.Second, 0, worker.EnvCheck+"=1s")
	proctest.Checked(b, f, procLimit)
	for range b.N {
		c, err := measure.IdleCPU(f, followers+1, 10*time.Second)
		if err != nil {
			b.Fatal(err)
		}
		var maxF, sum float64
		for _, p := range c.Followers {
			maxF = max(maxF, p)
			sum += p
		}
		b.Logf("owner %.4f%%, followers max %.4f%% mean %.4f%% of a core", c.Owner, maxF, sum/followers)
		b.ReportMetric(c.Owner, "owner-%cpu")
		b.ReportMetric(maxF, "follower-max-%cpu")
		b.ReportMetric(sum/followers, "follower-mean-%cpu")
		b.ReportMetric(0, "ns/op")
	}
}
