//go:build unix

// Command leasebench measures failover between real processes and writes
// the results as JSON and plots: crash (SIGKILL), graceful (SIGTERM and
// Release) and hang (SIGSTOP) failover latency, Join latency with 1 and 64
// simultaneous joiners, the idle CPU of an owner and its followers, the
// micro-benchmarks of go test -bench, and a chaos run of this library
// beside one of a naive lease under the same faults. make bench runs it.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/leasehold/leasehold/internal/chaos"
	"github.com/leasehold/leasehold/internal/fleet"
	"github.com/leasehold/leasehold/internal/measure"
	"github.com/leasehold/leasehold/internal/stats"
	"github.com/leasehold/leasehold/internal/worker"
)

func main() {
	if worker.Active() {
		os.Exit(worker.Main())
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "leasebench:", err)
		os.Exit(1)
	}
}

// Latency is a distribution in milliseconds.
type Latency struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50_ms"`
	P90 float64 `json:"p90_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

func latency(ds []time.Duration) Latency {
	s := stats.Summarize(ds)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return Latency{N: s.N, P50: ms(s.P50), P90: ms(s.P90), P99: ms(s.P99), Max: ms(s.Max)}
}

// Result is what leasebench writes to bench.json.
type Result struct {
	Machine map[string]string `json:"machine"`
	Setup   map[string]string `json:"setup"`
	// Failover, from the signal to the successor's first successful Check.
	Crash   Latency `json:"crash_sigkill"`
	Release Latency `json:"graceful_sigterm_release"`
	// Hang: from the frozen owner's last renewal to the successor's first
	// successful Check, less the TTL.
	HangBeyondTTL Latency `json:"hang_sigstop_beyond_ttl"`
	Join1         Latency `json:"join_1"`
	Join64        Latency `json:"join_64_slowest"`
	Join64Owners  []int   `json:"join_64_owners_per_round"`
	IdleOwner     float64 `json:"idle_owner_cpu_pct"`
	IdleFollowers struct {
		Max  float64   `json:"max"`
		Mean float64   `json:"mean"`
		Each []float64 `json:"each"`
	} `json:"idle_follower_cpu_pct"`
	Micro map[string]float64      `json:"micro_ns_per_op"`
	Chaos map[string]chaos.Report `json:"chaos"`
}

func run() error {
	events := flag.Int("events", 200, "failover events of each kind")
	rounds := flag.Int("joins", 20, "rounds of 1 and of 64 simultaneous joins")
	idle := flag.Duration("idle", 10*time.Second, "idle CPU window")
	soak := flag.Duration("chaos", time.Minute, "chaos run of each implementation")
	out := flag.String("out", "docs/bench", "directory for bench.json and the plots")
	logs := flag.String("logs", "out/bench", "directory for the chaos runs' events")
	micro := flag.String("micro", "", "output of go test -bench to include")
	workerBin := flag.String("worker", "", "the worker binary (cmd/leaseworker); default: this binary")
	replot := flag.Bool("replot", false, "only draw timeline.png again from the chaos events in -logs")
	flag.Parse()
	if *replot {
		runs := map[string]*chaos.Result{}
		for _, impl := range []string{"owner", "naive"} {
			r, err := chaos.Load(filepath.Join(*logs, "chaos-"+impl+".jsonl"))
			if err != nil {
				return err
			}
			runs[impl] = r
		}
		return plotTimeline(filepath.Join(*out, "timeline.png"), runs, 20*time.Second)
	}
	for _, d := range []string{*out, *logs} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	if *workerBin != "" {
		exe = *workerBin
	}
	tmp, err := os.MkdirTemp("", "leasebench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	dir := func(name string) string {
		d := filepath.Join(tmp, name)
		_ = os.Mkdir(d, 0o700)
		return d
	}
	res := Result{Machine: machine(), Setup: map[string]string{
		"followers_waiting":   "3",
		"handover_ttl":        "2s",
		"hang_ttl":            "400ms",
		"hang_renew_interval": "100ms",
		"events_per_kind":     strconv.Itoa(*events),
		"idle":                fmt.Sprintf("owner + 16 followers, TTL 2s, Check once a second, %v window", *idle),
	}}
	say := func(format string, args ...any) {
		fmt.Printf("%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
	}
	// phase announces a measurement, which starts with the disk's dirty
	// pages written out, so that none pays for the writes of the one before.
	phase := func(format string, args ...any) {
		unix.Sync()
		time.Sleep(2 * time.Second)
		say(format, args...)
	}

	handover := func(name string, sig syscall.Signal) ([]time.Duration, error) {
		f, err := fleet.Launch(exe, nil, dir(name), 4, 2*time.Second, 0)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return measure.Handover(f, sig, *events)
	}
	phase("crash failover: %d SIGKILLs", *events)
	crash, err := handover("crash", syscall.SIGKILL)
	if err != nil {
		return err
	}
	res.Crash = latency(crash)
	say("  %+v", res.Crash)
	phase("graceful handover: %d SIGTERMs", *events)
	release, err := handover("release", syscall.SIGTERM)
	if err != nil {
		return err
	}
	res.Release = latency(release)
	say("  %+v", res.Release)

	phase("hang failover: %d SIGSTOPs, TTL 400ms", *events)
	f, err := fleet.Launch(exe, nil, dir("hang"), 4, 400*time.Millisecond, 100*time.Millisecond)
	if err != nil {
		return err
	}
	hang, err := measure.Hang(f, 400*time.Millisecond, *events)
	f.Close()
	if err != nil {
		return err
	}
	res.HangBeyondTTL = latency(hang)
	say("  %+v", res.HangBeyondTTL)

	phase("joins: %d rounds of 1 and of 64 simultaneous joiners", *rounds)
	var join1, join64 []time.Duration
	for i := range *rounds {
		j, err := measure.JoinBurst(exe, nil, dir(fmt.Sprint("join1-", i)), 1, 2*time.Second)
		if err != nil {
			return err
		}
		join1 = append(join1, j.Slowest)
		j, err = measure.JoinBurst(exe, nil, dir(fmt.Sprint("join64-", i)), 64, 2*time.Second)
		if err != nil {
			return err
		}
		join64 = append(join64, j.Slowest)
		res.Join64Owners = append(res.Join64Owners, j.Owners)
	}
	res.Join1, res.Join64 = latency(join1), latency(join64)
	say("  1: %+v\n          64: %+v, owners per round %v", res.Join1, res.Join64, res.Join64Owners)

	phase("idle CPU: owner and 16 followers over %v", *idle)
	f, err = fleet.Launch(exe, nil, dir("idle"), 17, 2*time.Second, 0, worker.EnvCheck+"=1s")
	if err != nil {
		return err
	}
	cpu, err := measure.IdleCPU(f, 17, *idle)
	f.Close()
	if err != nil {
		return err
	}
	res.IdleOwner = cpu.Owner
	res.IdleFollowers.Each = cpu.Followers
	for _, p := range cpu.Followers {
		res.IdleFollowers.Max = max(res.IdleFollowers.Max, p)
		res.IdleFollowers.Mean += p / float64(len(cpu.Followers))
	}
	say("  owner %.4f%%, followers max %.4f%% mean %.4f%%", res.IdleOwner, res.IdleFollowers.Max, res.IdleFollowers.Mean)

	if *micro != "" {
		if res.Micro, err = parseMicro(*micro); err != nil {
			return err
		}
	}

	res.Chaos = map[string]chaos.Report{}
	runs := map[string]*chaos.Result{}
	for _, impl := range []string{"owner", "naive"} {
		phase("chaos: %v of %s, 8 workers, TTL 400ms", *soak, impl)
		cr, err := chaos.Run(context.Background(), chaos.Config{
			Exe: exe, Workers: 8, Duration: *soak, TTL: 400 * time.Millisecond, Renew: 100 * time.Millisecond,
			Impl: impl, Seed: 1,
		})
		if err != nil {
			return err
		}
		runs[impl] = cr
		rep := chaos.Judge(cr, 900*time.Millisecond)
		res.Chaos[impl] = rep
		say("  %s: %d safety violations, %d epochs", impl, len(rep.Violations), rep.Epochs)
		if err := cr.Save(filepath.Join(*logs, "chaos-"+impl+".jsonl")); err != nil {
			return err
		}
	}

	b, _ := json.MarshalIndent(res, "", "  ")
	if err := os.WriteFile(filepath.Join(*out, "bench.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	if err := plotLatency(filepath.Join(*out, "latency.png"), map[string][]time.Duration{
		"crash (SIGKILL)":                crash,
		"graceful (SIGTERM)":             release,
		"hang, beyond the TTL":           hang,
		"64 simultaneous Joins, slowest": join64,
	}); err != nil {
		return err
	}
	if err := plotTimeline(filepath.Join(*out, "timeline.png"), runs, 20*time.Second); err != nil {
		return err
	}
	say("wrote bench.json, latency.png and timeline.png to %s; the chaos events to %s", *out, *logs)
	return nil
}

func machine() map[string]string {
	m := map[string]string{"goos": runtime.GOOS, "goarch": runtime.GOARCH, "go": runtime.Version(), "cpus": strconv.Itoa(runtime.NumCPU())}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				m["cpu"] = strings.TrimSpace(strings.SplitN(l, ":", 2)[1])
				break
			}
		}
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		m["kernel"] = unix.ByteSliceToString(u.Sysname[:]) + " " + unix.ByteSliceToString(u.Release[:])
	}
	return m
}

var benchLine = regexp.MustCompile(`^Benchmark(\w+)-\d+\s+\d+\s+([\d.]+) ns/op`)

// parseMicro reads the ns/op of each benchmark in go test -bench output.
func parseMicro(path string) (map[string]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := map[string]float64{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		if g := benchLine.FindStringSubmatch(s.Text()); g != nil {
			v, _ := strconv.ParseFloat(g[2], 64)
			m[g[1]] = v
		}
	}
	return m, s.Err()
}
