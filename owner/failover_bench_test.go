//go:build unix

package owner_test

import (
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/leasehold/leasehold/internal/fleet"
	"github.com/leasehold/leasehold/internal/mono"
	"github.com/leasehold/leasehold/internal/stats"
	"github.com/leasehold/leasehold/internal/worker"
	"github.com/leasehold/leasehold/lease"
)

// Failover benchmarks: real worker processes, real signals. Each iteration
// is one failover; run them with -benchtime=200x for 200 events. They
// report percentiles of the latency in milliseconds.

const benchFollowers = 3

func reportLatency(b *testing.B, what string, ds []time.Duration) {
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
	e := firstOK(b, f, 0, 0)
	var ds []time.Duration
	for b.Loop() {
		mark := f.Mark()
		t0, err := f.Workers()[e.Worker].Signal(sig)
		if err != nil {
			b.Fatal(err)
		}
		next := firstOK(b, f, mark, e.Epoch)
		ds = append(ds, time.Duration(next.T2-t0))
		replace(b, f)
		e = next
	}
	reportLatency(b, sig.String()+" to successor's first Check", ds)
}

// replace starts a worker for the one that went, and waits until it has
// joined and watches the owner.
func replace(b *testing.B, f *fleet.Fleet) {
	mark := f.Mark()
	w, err := f.Start()
	if err != nil {
		b.Fatal(err)
	}
	await(b, f, mark, func(e worker.Event) bool { return e.Worker == w.ID && e.Kind == worker.Joined })
}

func BenchmarkFailoverCrash(b *testing.B)   { benchHandover(b, syscall.SIGKILL) }
func BenchmarkFailoverRelease(b *testing.B) { benchHandover(b, syscall.SIGTERM) }

// BenchmarkFailoverHang freezes the owner with SIGSTOP and measures how
// long after its last renewal (the renewed_at of its last record) the
// successor first passes Check, less the TTL: the target is under 50 ms.
func BenchmarkFailoverHang(b *testing.B) {
	const ttl = 400 * time.Millisecond
	f := startFleetTTL(b, benchFollowers+1, ttl, 100*time.Millisecond)
	e := firstOK(b, f, 0, 0)
	var ds []time.Duration
	for b.Loop() {
		w := f.Workers()[e.Worker]
		mark := f.Mark()
		if _, err := w.Signal(syscall.SIGSTOP); err != nil {
			b.Fatal(err)
		}
		raw, err := os.ReadFile(f.Path)
		if err != nil {
			b.Fatal(err)
		}
		rec, err := lease.DecodeRecord(raw)
		if err != nil || rec.Epoch != e.Epoch {
			b.Fatalf("record after SIGSTOP: %+v, %v", rec, err)
		}
		wallMinusMono := time.Now().UnixNano() - mono.Now()
		next := firstOK(b, f, mark, e.Epoch)
		ds = append(ds, time.Duration(next.T2+wallMinusMono-rec.RenewedAt.UnixNano())-ttl)
		if _, err := w.Signal(syscall.SIGCONT); err != nil {
			b.Fatal(err)
		}
		<-w.Done()
		replace(b, f)
		e = next
	}
	reportLatency(b, "last renewal to successor's first Check, beyond the TTL", ds)
}

// BenchmarkIdleCPU runs an owner and 16 followers (TTL 2 s, the owner
// checking once a second) and reports the CPU each used over ten seconds,
// in percent of one core. Run it with -benchtime=1x.
func BenchmarkIdleCPU(b *testing.B) {
	const followers = 16
	const window = 10 * time.Second
	f := startFleetTTL(b, followers+1, 2*time.Second, 0, worker.EnvCheck+"=1s")
	for i, from := 0, 0; i <= followers; i++ {
		_, from = await(b, f, from, kind(worker.Joined))
		from++
	}
	owner := firstOK(b, f, 0, 0).Worker
	time.Sleep(time.Second) // let every follower connect and settle
	sample := func() map[int]worker.Event {
		mark := f.Mark()
		for _, w := range f.Workers() {
			if err := w.Send(worker.CmdCPU); err != nil {
				b.Fatal(err)
			}
		}
		got := map[int]worker.Event{}
		for from := mark; len(got) <= followers; from++ {
			var e worker.Event
			e, from = await(b, f, from, kind(worker.CPU))
			got[e.Worker] = e
		}
		return got
	}
	for b.Loop() {
		before := sample()
		time.Sleep(window)
		after := sample()
		var maxF, sumF, ownerPct float64
		for id, a := range after {
			s := before[id]
			pct := 100 * float64(a.T1-s.T1) / float64(a.T2-s.T2)
			if id == owner {
				ownerPct = pct
				continue
			}
			maxF = max(maxF, pct)
			sumF += pct
		}
		b.Logf("owner %.4f%%, followers max %.4f%% mean %.4f%% of a core", ownerPct, maxF, sumF/followers)
		b.ReportMetric(ownerPct, "owner-%cpu")
		b.ReportMetric(maxF, "follower-max-%cpu")
		b.ReportMetric(sumF/followers, "follower-mean-%cpu")
		b.ReportMetric(0, "ns/op")
	}
}
