//go:build unix

// Command leasebench-etcd is the etcd column of make bench. It starts a
// three-member etcd cluster on loopback inside this process, with its
// data on disk and fsync on, as a real one would, and measures, with
// worker processes (this binary again) on one key of it:
//
//   - the loaded scenario of cmd/leasebench: six processes, the owner
//     checking and appending a line to a file every 0.5 ms, faults at
//     random one at a time (SIGKILL, SIGTERM and SIGSTOP past the TTL of
//     the owner, SIGKILL of a follower), a supervisor restarting what
//     exits; failover from the signal (or, for a hang, from the frozen
//     owner's last renewal plus the TTL) to the successor's first
//     successful Check;
//   - rounds of 1 and of 64 simultaneous Joins;
//   - the idle cost of an owner alone, then of an owner and 15
//     followers: each process's CPU from /proc, and the requests etcd
//     received (its gRPC server's count of messages, over all members);
//
// for etcdlease, and for etcd's own concurrency.Election under the same
// faults (all but the Joins, whose result Election does not report), the
// baseline users would otherwise pick. It writes bench-etcd.json.
//
//	leasebench-etcd -events 20 -joins 10 -idle 30s -out docs/bench
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"google.golang.org/grpc"

	"github.com/leasehold/leasehold/etcdlease"
	"github.com/leasehold/leasehold/etcdlease/internal/baseline"
	"github.com/leasehold/leasehold/etcdlease/internal/embedded"
	"github.com/leasehold/leasehold/internal/fleet"
	"github.com/leasehold/leasehold/internal/measure"
	"github.com/leasehold/leasehold/internal/stats"
	"github.com/leasehold/leasehold/internal/worker"
	"github.com/leasehold/leasehold/lease"
	"github.com/leasehold/leasehold/owner"
)

// The workers' environment.
const (
	envEndpoints = "LEASEBENCH_ETCD_ENDPOINTS" // the members' client addresses, comma-separated
	envRenewals  = "LEASEBENCH_ETCD_RENEWALS"  // the directory of the renewal files
)

// The scenarios.
const (
	ttl             = etcdlease.MinTTL // the shortest etcd allows with default settings
	loadedProcesses = 6
	loadedCheck     = 500 * time.Microsecond
	idleProcesses   = 16 // an owner and 15 followers
)

// The implementations measured.
const (
	implStore    = "etcdlease"
	implElection = "concurrency.Election"
)

func main() {
	if worker.Active() {
		os.Exit(workerMain())
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "leasebench-etcd:", err)
		os.Exit(1)
	}
}

// workerMain runs a worker on etcdlease, or on the baseline, that records
// its renewals.
func workerMain() int {
	cc := clientv3.Config{
		Endpoints:   strings.Split(os.Getenv(envEndpoints), ","),
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
	}
	if dir := os.Getenv(envRenewals); dir != "" {
		r, err := newRenewals(dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, "leasebench-etcd worker:", err)
			return 2
		}
		cc.DialOptions = []grpc.DialOption{grpc.WithChainStreamInterceptor(r.intercept)}
	}
	if os.Getenv(worker.EnvImpl) == baseline.Impl {
		return worker.MainJoin(func(cfg owner.Config) (worker.Member, error) { return baseline.Join(cc, cfg) })
	}
	return worker.MainStore(func(cfg owner.Config) (lease.Store, error) {
		return etcdlease.Dial(cc, cfg.LeasePath, etcdlease.Options{TTL: cfg.TTL})
	})
}

// Result is what leasebench-etcd writes to bench-etcd.json.
type Result struct {
	Machine map[string]string `json:"machine"`
	Setup   map[string]string `json:"setup"`
	Impls   map[string]*Impl  `json:"impls"`
}

// Impl is what was measured of one implementation.
type Impl struct {
	// The loaded run. For a hang, the frozen owner's last renewal is the
	// sending of the last keep-alive etcd answered.
	measure.Figures

	Join1        *stats.Latency `json:"join_1,omitempty"`
	Join64       *stats.Latency `json:"join_64_slowest,omitempty"`
	Join64Owners []int          `json:"join_64_owners_per_round,omitempty"`

	IdleOwnerAlone Idle `json:"idle_owner_alone"`
	Idle16         Idle `json:"idle_owner_and_15_followers"`
	// The requests a follower adds: those of the 16 less those of the
	// owner alone, over 15.
	FollowerRequestsPerSecond float64 `json:"follower_requests_per_s"`
}

// Idle is the cost of a fleet that only holds and waits.
type Idle struct {
	OwnerCPU        float64 `json:"owner_cpu_pct"`
	FollowerMaxCPU  float64 `json:"follower_max_cpu_pct,omitempty"`
	FollowerMeanCPU float64 `json:"follower_mean_cpu_pct,omitempty"`
	// The etcd members' process (this one), all threads.
	EtcdCPU float64 `json:"etcd_cpu_pct"`
	// Messages etcd's gRPC servers received per second, unary requests
	// and stream messages (the end of a stream counts as one), in all and
	// by method.
	RequestsPerSecond float64            `json:"requests_per_s"`
	ByMethod          map[string]float64 `json:"requests_per_s_by_method"`
}

type options struct {
	events, rounds int
	idle, warmup   time.Duration
	seed           uint64
	exe, dir       string
	endpoints      string
	renewals       string
}

func run() error {
	var o options
	flag.IntVar(&o.events, "events", 20, "failover events of each kind (and as many follower kills), for each implementation")
	flag.IntVar(&o.rounds, "joins", 10, "rounds of 1 and of 64 simultaneous joins")
	flag.DurationVar(&o.idle, "idle", 30*time.Second, "idle window")
	flag.DurationVar(&o.warmup, "warmup", 5*time.Second, "warm-up before the faults and before each idle window")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the faults")
	out := flag.String("out", "docs/bench", "directory for bench-etcd.json")
	dir := flag.String("dir", os.TempDir(), "directory for etcd's data: its disk is the one etcd writes to")
	only := flag.String("only", "", "run one implementation only: "+implStore+" or "+implElection)
	flag.Parse()
	impls := []string{implStore, implElection}
	if *only != "" {
		if *only != implStore && *only != implElection {
			return fmt.Errorf("-only %q: want %s or %s", *only, implStore, implElection)
		}
		impls = []string{*only}
	}
	var err error
	if o.exe, err = os.Executable(); err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(*dir, "leasebench-etcd")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	o.dir = tmp
	o.renewals = filepath.Join(tmp, "renewals")
	if err := os.Mkdir(o.renewals, 0o700); err != nil {
		return err
	}

	say("etcd: 3 members on loopback, data in %s, fsync on", tmp)
	c, err := embedded.Start(filepath.Join(tmp, "etcd"), 3, func(cfg *embed.Config) { cfg.UnsafeNoFsync = false }, 30*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	o.endpoints = strings.Join(c.Clients, ",")

	res := Result{
		Machine: map[string]string{"cpus": strconv.Itoa(runtime.NumCPU()), "go": runtime.Version(), "etcd_data": tmp},
		Setup: map[string]string{
			"etcd":         "3 members embedded in the benchmark's process, on loopback, fsync on, default heartbeat (100ms) and election timeout (1s)",
			"ttl":          ttl.String(),
			"renewal":      "TTL/3 for both: etcdlease's default, and clientv3's keep-alive period for Election's session",
			"loaded":       fmt.Sprintf("%d processes, the owner checking and appending a line to a file every %v; %d each of SIGKILL, SIGTERM and SIGSTOP (1.2 to 2 TTLs) of the owner and SIGKILL of a follower, at random, 0.25 to 1 TTL apart; a supervisor restarting what exits; seed %d", loadedProcesses, loadedCheck, o.events, o.seed),
			"election_use": "concurrency.NewSession(WithTTL), Campaign, leadership believed until the session's Done closes; Check fails only once it has; SIGTERM resigns",
			"idle":         fmt.Sprintf("an owner alone, then an owner and %d followers, Check once a second, %v window after %v", idleProcesses-1, o.idle, o.warmup),
			"joins":        fmt.Sprintf("%d rounds of 1 and of 64 workers calling Join at once on a new key (etcdlease only: Election's Campaign does not return for a follower)", o.rounds),
		},
		Impls: map[string]*Impl{},
	}
	for _, impl := range impls {
		r, err := measureImpl(o, impl)
		if err != nil {
			return fmt.Errorf("%s: %w", impl, err)
		}
		res.Impls[impl] = r
	}
	b, _ := json.MarshalIndent(res, "", "  ")
	path := filepath.Join(*out, "bench-etcd.json")
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Println()
	printTable(os.Stdout, res)
	say("wrote %s", path)
	for _, impl := range impls {
		for i, n := range res.Impls[impl].Join64Owners {
			if n != 1 {
				return fmt.Errorf("%s: round %d of 64 simultaneous joins elected %d owners", impl, i, n)
			}
		}
	}
	return nil
}

func say(format string, args ...any) {
	fmt.Printf("%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// env is the workers' environment for impl.
func (o options) env(impl string) []string {
	env := []string{envEndpoints + "=" + o.endpoints, envRenewals + "=" + o.renewals}
	if impl == implElection {
		env = append(env, worker.EnvImpl+"="+baseline.Impl)
	}
	return env
}

// subdir names a new key, and holds the owners' output file.
func (o options) subdir(name string) (string, error) {
	d := filepath.Join(o.dir, name)
	return d, os.Mkdir(d, 0o700)
}

func measureImpl(o options, impl string) (*Impl, error) {
	r := &Impl{}
	name := strings.ReplaceAll(impl, ".", "-")
	dir, err := o.subdir(name + "-loaded")
	if err != nil {
		return nil, err
	}
	say("%s, loaded: %d processes, TTL %v, %d faults of each kind", impl, loadedProcesses, ttl, o.events)
	l, err := measure.RunLoaded(measure.LoadedConfig{
		Exe: o.exe, Env: o.env(impl), Renewal: lastRenewal(o.renewals), Dir: dir,
		Processes: loadedProcesses, TTL: ttl, Check: loadedCheck, Events: o.events, Warmup: o.warmup,
		Seed: o.seed, Progress: os.Stdout,
	})
	if err != nil {
		return nil, err
	}
	r.Figures = l.Figures()
	say("  crash %+v\n          graceful %+v\n          hang beyond the TTL %+v\n          %d acquisitions (%d no fault caused), %d worker errors",
		r.Crash, r.Graceful, r.HangBeyondTTL, r.Acquisitions, r.Unprovoked, len(r.WorkerErrors))

	for _, n := range []int{1, idleProcesses} {
		say("%s, idle: %d processes, %v window", impl, n, o.idle)
		d, err := o.subdir(fmt.Sprintf("%s-idle-%d", name, n))
		if err != nil {
			return nil, err
		}
		idle, err := idleCost(o, impl, d, n)
		if err != nil {
			return nil, err
		}
		say("  owner %.4f%%, followers max %.4f%% mean %.4f%%, etcd %.3f%%, %.2f requests/s %v",
			idle.OwnerCPU, idle.FollowerMaxCPU, idle.FollowerMeanCPU, idle.EtcdCPU, idle.RequestsPerSecond, idle.ByMethod)
		if n == 1 {
			r.IdleOwnerAlone = idle
		} else {
			r.Idle16 = idle
		}
	}
	r.FollowerRequestsPerSecond = (r.Idle16.RequestsPerSecond - r.IdleOwnerAlone.RequestsPerSecond) / float64(idleProcesses-1)

	if impl == implStore {
		var join1, join64 []time.Duration
		for i := range o.rounds {
			for _, n := range []int{1, 64} {
				d, err := o.subdir(fmt.Sprintf("%s-join%d-%d", name, n, i))
				if err != nil {
					return nil, err
				}
				j, err := measure.JoinBurst(o.exe, nil, d, n, ttl, o.env(impl)...)
				if err != nil {
					return nil, err
				}
				if n == 1 {
					join1 = append(join1, j.Slowest)
				} else {
					join64 = append(join64, j.Slowest)
					r.Join64Owners = append(r.Join64Owners, j.Owners)
				}
			}
		}
		j1, j64 := stats.Millis(join1), stats.Millis(join64)
		r.Join1, r.Join64 = &j1, &j64
		say("%s, joins: 1 %+v; 64, slowest %+v, owners per round %v", impl, j1, j64, r.Join64Owners)
	}
	return r, nil
}

// idleCost measures n idle workers of impl on a new key.
func idleCost(o options, impl, dir string, n int) (Idle, error) {
	f, err := fleet.Launch(o.exe, nil, dir, n, ttl, 0, append(o.env(impl), worker.EnvCheck+"=1s")...)
	if err != nil {
		return Idle{}, err
	}
	defer f.Close()
	var idle Idle
	var probeErr error
	probe := func() func() {
		start := time.Now()
		before, err := requests()
		self, err2 := measure.ReadUsage(os.Getpid())
		return func() {
			elapsed := time.Since(start).Seconds()
			after, err3 := requests()
			now, err4 := measure.ReadUsage(os.Getpid())
			if probeErr = errors.Join(err, err2, err3, err4); probeErr != nil {
				return
			}
			idle.EtcdCPU = measure.Between(self, now).Percent()
			idle.ByMethod = map[string]float64{}
			for m, v := range after {
				if d := v - before[m]; d > 0 {
					idle.ByMethod[m] = d / elapsed
					idle.RequestsPerSecond += d / elapsed
				}
			}
		}
	}
	c, err := measure.IdleCost(f, n, o.warmup, o.idle, probe)
	if err = errors.Join(err, probeErr); err != nil {
		return Idle{}, err
	}
	if idle.RequestsPerSecond == 0 {
		// The owner renews in the window: the count is missing.
		return Idle{}, errors.New("etcd counted no requests in the window: grpc_server_msg_received_total is not in the registry")
	}
	idle.OwnerCPU = c.Owner.Percent()
	for _, fc := range c.Followers {
		p := fc.Percent()
		idle.FollowerMaxCPU = max(idle.FollowerMaxCPU, p)
		idle.FollowerMeanCPU += p / float64(len(c.Followers))
	}
	return idle, nil
}

// requests returns the messages etcd's gRPC servers have received so far,
// by method: grpc_server_msg_received_total of the process's registry,
// which the members share.
func requests() (map[string]float64, error) {
	m := map[string]float64{}
	families, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		return nil, err
	}
	for _, fam := range families {
		if fam.GetName() != "grpc_server_msg_received_total" {
			continue
		}
		for _, s := range fam.GetMetric() {
			var method string
			for _, l := range s.GetLabel() {
				if l.GetName() == "grpc_method" {
					method = l.GetValue()
				}
			}
			m[method] += s.GetCounter().GetValue()
		}
	}
	return m, nil
}
