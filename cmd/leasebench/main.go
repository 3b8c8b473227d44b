//go:build unix

// Command leasebench measures failover between real processes and writes
// the results as JSON and plots. Its headline is the loaded scenario: six
// processes on one lease, the owner appending to a file beside the lease
// every 0.5 ms, faults at random (crash, graceful release, hang past the
// TTL, a follower killed) with a supervisor restarting what exits; the
// idle cost of an owner and 15 followers read from /proc; and 64
// simultaneous Joins beside a working fleet. Beside it, in a second
// column, the quiet-machine figures: one fault kind at a time, three
// followers, after a sync and a pause. Then the micro-benchmarks of go test
// -bench, and a chaos run of this library beside one of a naive lease
// under the same faults. make bench runs it.
//
// It exits 1 on an error, or when a round of simultaneous Joins did not
// elect exactly one owner (after writing the results); a latency or cost
// target not met is reported, not an error.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/leasehold/leasehold/internal/chaos"
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
type Latency = stats.Latency

func latency(ds []time.Duration) Latency { return stats.Millis(ds) }

// Result is what leasebench writes to bench.json: the loaded scenario,
// the headline, and the quiet machine, each present if it was run.
type Result struct {
	Machine map[string]string       `json:"machine"`
	Loaded  *Loaded                 `json:"loaded,omitempty"`
	Quiet   *Quiet                  `json:"quiet,omitempty"`
	Targets []Target                `json:"targets"`
	Micro   map[string]float64      `json:"micro_ns_per_op,omitempty"`
	Chaos   map[string]chaos.Report `json:"chaos,omitempty"`
}

// The sections of a run, for -only.
const (
	sectionLoaded = "loaded"
	sectionQuiet  = "quiet"
	sectionChaos  = "chaos"
)

// options are the command's flags.
type options struct {
	events int           // failover events of each kind, in each section
	rounds int           // rounds of 1 and of 64 simultaneous joins
	idle   time.Duration // idle window
	warmup time.Duration // before the loaded scenario and the idle window
	soak   time.Duration // chaos run of each implementation
	seed   uint64
	exe    string // the worker binary
	dir    string // where the leases are made
}

func run() error {
	var o options
	flag.IntVar(&o.events, "events", 100, "failover events of each kind, in each section (and as many follower kills in the loaded one)")
	flag.IntVar(&o.rounds, "joins", 20, "rounds of 1 and of 64 simultaneous joins, in each section")
	flag.DurationVar(&o.idle, "idle", 30*time.Second, "idle CPU window")
	flag.DurationVar(&o.warmup, "warmup", 5*time.Second, "warm-up before the loaded faults and before the idle window")
	flag.DurationVar(&o.soak, "chaos", time.Minute, "chaos run of each implementation")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the loaded scenario's faults and of the chaos runs")
	only := flag.String("only", "", "comma-separated sections to run: loaded, quiet, chaos (default all)")
	out := flag.String("out", "docs/bench", "directory for bench.json and the plots")
	logs := flag.String("logs", "out/bench", "directory for the chaos runs' events")
	micro := flag.String("micro", "", "output of go test -bench to include")
	workerBin := flag.String("worker", "", "the worker binary (cmd/leaseworker); default: this binary")
	flag.StringVar(&o.dir, "dir", os.TempDir(), "directory in which to make the leases: its file system is the one measured")
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
	sections, err := parseOnly(*only)
	if err != nil {
		return err
	}
	for _, d := range []string{*out, *logs} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if o.exe, err = os.Executable(); err != nil {
		return err
	}
	if *workerBin != "" {
		o.exe = *workerBin
	}
	tmp, err := os.MkdirTemp(o.dir, "leasebench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	o.dir = tmp

	res := Result{Machine: machine(tmp)}
	plots := map[string][]time.Duration{}
	var failures []error // rounds of joins that elected other than one owner
	if sections[sectionLoaded] {
		l, sets, err := runLoaded(o)
		if err != nil {
			return err
		}
		res.Loaded = l
		for k, v := range sets {
			plots["loaded: "+k] = v
		}
		if err := oneOwnerEach("loaded", l.Join64Owners); err != nil {
			failures = append(failures, err)
		}
	}
	if sections[sectionQuiet] {
		q, sets, err := runQuiet(o)
		if err != nil {
			return err
		}
		res.Quiet = q
		for k, v := range sets {
			plots["quiet: "+k] = v
		}
		if err := oneOwnerEach("quiet", q.Join64Owners); err != nil {
			failures = append(failures, err)
		}
	}
	if *micro != "" {
		if res.Micro, err = parseMicro(*micro); err != nil {
			return err
		}
	}
	var runs map[string]*chaos.Result
	if sections[sectionChaos] {
		if res.Chaos, runs, err = runChaos(o, *logs); err != nil {
			return err
		}
	}
	res.Targets = judge(res.Loaded, res.Quiet)

	b, _ := json.MarshalIndent(res, "", "  ")
	if err := os.WriteFile(filepath.Join(*out, "bench.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	wrote := []string{"bench.json"}
	if len(plots) > 0 {
		if err := plotLatency(filepath.Join(*out, "latency.png"), plots); err != nil {
			return err
		}
		wrote = append(wrote, "latency.png")
	}
	if runs != nil {
		if err := plotTimeline(filepath.Join(*out, "timeline.png"), runs, 20*time.Second); err != nil {
			return err
		}
		wrote = append(wrote, "timeline.png")
	}
	fmt.Println()
	printTable(os.Stdout, res.Loaded, res.Quiet, res.Targets)
	say("wrote %s to %s", strings.Join(wrote, ", "), *out)
	return errors.Join(failures...)
}

// parseOnly reads -only: the set of sections to run.
func parseOnly(only string) (map[string]bool, error) {
	all := []string{sectionLoaded, sectionQuiet, sectionChaos}
	m := map[string]bool{}
	if only == "" {
		for _, s := range all {
			m[s] = true
		}
		return m, nil
	}
	for _, s := range strings.Split(only, ",") {
		s = strings.TrimSpace(s)
		if !slices.Contains(all, s) {
			return nil, fmt.Errorf("-only %q: unknown section %q (want %s)", only, s, strings.Join(all, ", "))
		}
		m[s] = true
	}
	return m, nil
}

// oneOwnerEach fails unless every round of joins elected exactly one owner.
func oneOwnerEach(section string, owners []int) error {
	for i, n := range owners {
		if n != 1 {
			return fmt.Errorf("%s: round %d of 64 simultaneous joins elected %d owners: %v", section, i, n, owners)
		}
	}
	return nil
}

func say(format string, args ...any) {
	fmt.Printf("%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func runChaos(o options, logs string) (map[string]chaos.Report, map[string]*chaos.Result, error) {
	reports := map[string]chaos.Report{}
	runs := map[string]*chaos.Result{}
	for _, impl := range []string{"owner", "naive"} {
		quietPhase("chaos: %v of %s, 8 workers, TTL 400ms", o.soak, impl)
		cr, err := chaos.Run(context.Background(), chaos.Config{
			Exe: o.exe, Workers: 8, Duration: o.soak, TTL: 400 * time.Millisecond, Renew: 100 * time.Millisecond,
			Impl: impl, Seed: o.seed,
		})
		if err != nil {
			return nil, nil, err
		}
		runs[impl] = cr
		rep := chaos.Judge(cr, 900*time.Millisecond)
		reports[impl] = rep
		say("  %s: %d safety violations, %d epochs", impl, len(rep.Violations), rep.Epochs)
		if err := cr.Save(filepath.Join(logs, "chaos-"+impl+".jsonl")); err != nil {
			return nil, nil, err
		}
	}
	return reports, runs, nil
}

func machine(dir string) map[string]string {
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
	m["lease_dir"] = dir
	m["lease_fs"] = fsType(dir)
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
