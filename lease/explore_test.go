package lease

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/leasehold/leasehold/internal/clock"
)

// The schedule explorer runs a few participants of one File lease on a
// real directory and a fake clock, and decides at every step of the
// protocol (every hook point: a read, a lock, a create, a rename...) who
// moves next, who freezes and for how long, who dies, releases or joins,
// and how far time moves. After every step it checks the guarantees of the
// package comment against the tenures as the owner package counts them
// (valid from the grant until a TTL after the start of the last successful
// acquisition or renewal):
//
//   - no two tenures valid at the same instant;
//   - no epoch granted twice, and every grant above all before it;
//   - no Check passing with an epoch below one that passed before;
//   - bounded liveness: in a phase where every other participant is frozen
//     or dead, a participant that keeps trying acquires by its first
//     attempt that comes one of its own TTLs after an attempt that came a
//     full TTL (the largest in use) after its first one.
//
// Schedules come from a seed, so any failure is reproduced by running
// again with -explore.seed and -explore.schedules=1. Half of them choose
// the next participant at random; the other half as PCT does (Burckhardt
// et al., ASPLOS 2010): by priorities, of which a few change at random
// points, so that rare orderings at a few points come up often.
//
// Wait only decides when to call TryAcquire again; every decision is taken
// in TryAcquire, Renew and Release, so the participants call those
// directly.
var (
	exploreSchedules = flag.Int("explore.schedules", 400, "schedules the explorer runs")
	exploreSeed      = flag.Uint64("explore.seed", 1, "seed of the first schedule; schedule i uses seed+i")
	exploreSteps     = flag.Int("explore.steps", 400, "protocol steps per schedule")
	exploreDuration  = flag.Duration("explore.duration", 0, "if set, run schedules until this much time has passed instead")
	exploreCrowd     = flag.Bool("explore.crowd", false, "after every reboot, two to four participants join at once, as the services of a machine start together (by default after half of them)")
	exploreMixedBoot = flag.Bool("explore.mixedboot", false, "in every schedule with a boot id, a quarter of the participants cannot read it, boot id \"\" (by default in a quarter of the schedules)")
)

func TestExplore(t *testing.T) {
	n, deadline := *exploreSchedules, time.Time{}
	if *exploreDuration > 0 {
		n, deadline = int(^uint(0)>>1), time.Now().Add(*exploreDuration)
	}
	if testing.Short() || raceEnabled {
		n = min(n, 50) // make test runs the full count without -race too
	}
	var sum exploreStats
	seen := map[uint64]bool{}
	for i := range n {
		if !deadline.IsZero() && time.Now().After(deadline) {
			break
		}
		seed := *exploreSeed + uint64(i)
		r := explore(t, seed, *exploreSteps, revertNone)
		sum.add(r.stats)
		seen[r.trace] = true
		if r.violation != "" {
			extra := ""
			if *exploreCrowd {
				extra += " -explore.crowd"
			}
			if *exploreMixedBoot {
				extra += " -explore.mixedboot"
			}
			t.Fatalf("seed %d: %s\nreproduce: go test ./lease -run '^TestExplore$' -explore.seed=%d -explore.schedules=1 -explore.steps=%d%s -v\nlast steps:\n%s",
				seed, r.violation, seed, *exploreSteps, extra, r.tail())
		}
	}
	t.Logf("explored %d schedules (%d distinct interleavings): %d steps, %d grants (%d by expiry), %d tombstones, %d freezes, %d deaths, %d joins, %d liveness phases, %d blocks reserved, %d reboots, %d renewals heard; 0 violations",
		sum.schedules, len(seen), sum.steps, sum.grants, sum.expiries, sum.tombs, sum.freezes, sum.deaths, sum.joins, sum.phases, sum.blocks, sum.reboots, sum.heard)
	if sum.schedules >= 100 && (sum.grants < sum.schedules || sum.tombs == 0 || sum.phases == 0 || sum.expiries == 0 || sum.blocks == 0 || sum.reboots == 0 || sum.heard == 0) {
		t.Fatalf("the schedules did not reach the protocol's corners: %+v", sum)
	}
}

// TestExploreFindsRevertedFaults shows that the explorer finds the faults
// the protocol once had, when they are brought back.
func TestExploreFindsRevertedFaults(t *testing.T) {
	for _, tc := range []struct {
		name   string
		revert revertKind
	}{
		{"lockNext without tombstones, patience restarting, no check below the claim", revertLockNext},
		{"renewal giving up on any later claim", revertContested},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const budget = 1000
			for i := range budget {
				seed := uint64(1_000_000 + i)
				if r := explore(t, seed, *exploreSteps, tc.revert); r.violation != "" {
					t.Logf("found at seed %d after %d schedules: %s", seed, i+1, r.violation)
					return
				}
			}
			t.Fatalf("not found in %d schedules", budget)
		})
	}
}

type revertKind int

const (
	revertNone revertKind = iota
	revertLockNext
	revertContested
)

type exploreStats struct {
	schedules, steps, grants, expiries, tombs, freezes, deaths, joins, phases int
	reboots, blocks, heard                                                    int
}

func (s *exploreStats) add(o exploreStats) {
	s.schedules += o.schedules
	s.steps += o.steps
	s.grants += o.grants
	s.expiries += o.expiries
	s.tombs += o.tombs
	s.freezes += o.freezes
	s.deaths += o.deaths
	s.joins += o.joins
	s.phases += o.phases
	s.reboots += o.reboots
	s.blocks += o.blocks
	s.heard += o.heard
}

type exploreResult struct {
	stats     exploreStats
	trace     uint64 // hash of the sequence of (participant, step)
	violation string
	log       []string
}

func (r exploreResult) tail() string {
	return strings.Join(r.log[max(0, len(r.log)-60):], "\n")
}

// participant is one process of the schedule: one File.
type participant struct {
	id     int
	f      *File
	ttl    time.Duration
	fds    []io.Closer
	dead   bool
	thawAt time.Time // frozen until then
	prio   int

	busy   bool        // an operation is under way, parked at a step
	op     string      // its name
	begin  time.Time   // when it began
	resume chan bool   // true: go on; false: die where parked
	lease  Lease       // granted and not closed
	tenure *tenureSpan // the tenure of lease
}

// tenureSpan is one grant, as the owner package counts its validity.
type tenureSpan struct {
	who      int
	epoch    uint64
	start    time.Time
	deadline time.Time
	ended    bool
}

func (s *tenureSpan) valid(now time.Time) bool {
	return s != nil && !s.ended && now.Before(s.deadline)
}

// event is what a participant's operation reports: a step it stopped at,
// or its end.
type event struct {
	p     *participant
	point string
	done  bool
	l     Lease
	err   error
}

type explorer struct {
	t           testing.TB
	rng         *rand.Rand
	clk         *clock.Fake
	path        string
	ttl         time.Duration
	maxTTL      time.Duration
	revert      revertKind
	msgs        []message // every message a holder sent to its followers
	boot        string    // the boot id participants run in; "" for durable claims
	boots       int       // reboots so far
	blockSize   uint64
	mixedBoot   bool // some participants have no boot id
	ps          []*participant
	ev          chan event
	tenures     []*tenureSpan
	granted     map[uint64]bool
	topEpoch    uint64            // highest granted
	topChecked  uint64            // highest epoch that passed Check
	published   uint64            // highest epoch whose claimant has published
	records     [][]byte          // valid records seen at the lease path, to copy back
	pendingLoss map[uint64]string // holders told ErrLost before any later epoch was published
	pct         bool
	changeAt    map[int]bool
	step        int
	res         exploreResult
}

func explore(t testing.TB, seed uint64, steps int, revert revertKind) exploreResult {
	dir := exploreDir(t)
	defer os.RemoveAll(dir)
	x := &explorer{
		t:           t,
		rng:         rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		clk:         clock.NewFake(time.Unix(1_000_000, 0)),
		path:        filepath.Join(dir, "owner.lease"),
		ttl:         time.Second,
		revert:      revert,
		ev:          make(chan event),
		granted:     map[uint64]bool{},
		pendingLoss: map[uint64]string{},
		pct:         seed%2 == 0,
		changeAt:    map[int]bool{},
	}
	x.maxTTL = x.ttl * 3 / 2
	// Epochs in blocks of 2 to 5, so that schedules cross into new blocks
	// often; a quarter of the schedules make every claim durable instead.
	x.blockSize = 2 + x.rng.Uint64N(4)
	if x.rng.IntN(4) > 0 {
		x.boot = "boot-0"
	}
	// The faults brought back are looked for among plain schedules.
	x.mixedBoot = *exploreMixedBoot || (revert == revertNone && x.rng.IntN(4) == 0)
	h := fnv.New64a()
	defer x.cleanup()
	for range 3 {
		x.join()
	}
	for range 3 {
		x.changeAt[x.rng.IntN(steps)] = true
	}
	for x.step = 0; x.step < steps && x.res.violation == ""; x.step++ {
		x.perturb()
		if x.res.violation != "" {
			break
		}
		p := x.pick()
		if p == nil {
			x.advance(x.nextThaw().Sub(x.clk.Now()))
			continue
		}
		if x.pct && x.changeAt[x.step] {
			p.prio = -x.step
		}
		e := x.run(p)
		if !e.done && x.rng.Float64() < 0.02 {
			x.freeze(p) // right at this step
		}
		fmt.Fprintf(h, "%d:%s;", p.id, e.point)
		x.res.stats.steps++
		x.check()
	}
	x.res.stats.schedules = 1
	x.res.trace = h.Sum64()
	return x.res
}

// exploreDir is a new directory for one schedule, on tmpfs where there is
// one so that the fsyncs cost nothing.
func exploreDir(t testing.TB) string {
	t.Helper()
	base := ""
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		base = "/dev/shm"
	}
	dir, err := os.MkdirTemp(base, "leasehold-explore-")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func (x *explorer) logf(format string, args ...any) {
	x.res.log = append(x.res.log, fmt.Sprintf("%6d %9.3fs ", x.step, x.clk.Now().Sub(time.Unix(1_000_000, 0)).Seconds())+fmt.Sprintf(format, args...))
}

func (x *explorer) fail(format string, args ...any) {
	if x.res.violation == "" {
		x.res.violation = fmt.Sprintf(format, args...)
		x.logf("VIOLATION: %s", x.res.violation)
	}
}

func (x *explorer) alive() []*participant {
	var ps []*participant
	for _, p := range x.ps {
		if !p.dead {
			ps = append(ps, p)
		}
	}
	return ps
}

func (x *explorer) join() {
	ttl := x.ttl
	if x.rng.IntN(3) == 0 {
		ttl = x.maxTTL
	}
	f, err := Open(x.path, Options{TTL: ttl, Clock: x.clk})
	if err != nil {
		x.t.Fatal(err)
	}
	p := &participant{id: len(x.ps), f: f, ttl: ttl, prio: 1 + x.rng.IntN(1000), resume: make(chan bool)}
	f.boot, f.blockSize = x.boot, x.blockSize
	if x.mixedBoot && x.boot != "" && x.rng.IntN(4) == 0 {
		f.boot = "" // as a process that cannot read the boot id
	}
	f.sent = func(m message) { x.msgs = append(x.msgs, m) }
	f.hook = func(point string) { x.park(p, point) }
	f.track = func(c io.Closer) { p.fds = append(p.fds, c) }
	f.revert.lockNext = x.revert == revertLockNext
	f.revert.contested = x.revert == revertContested
	x.ps = append(x.ps, p)
	x.res.stats.joins++
	x.logf("p%d joins (ttl %v, boot %q)", p.id, ttl, f.boot)
}

// park is the hook of every participant: it reports the step and waits to
// be let go on.
func (x *explorer) park(p *participant, point string) {
	switch point {
	case "mkdir:tomb":
		x.res.stats.tombs++ // counted when attempted
	case "link:block":
		x.res.stats.blocks++
	}
	x.ev <- event{p: p, point: point}
	if !<-p.resume {
		runtime.Goexit() // died here
	}
}

// perturb makes the random events of one step: time passes, a participant
// freezes, dies or joins, the record is damaged, or a liveness phase runs.
func (x *explorer) perturb() {
	r := x.rng.Float64()
	switch {
	case r < 0.25:
		x.advance(time.Duration(x.rng.Int64N(int64(x.ttl / 50))))
	case r < 0.33:
		x.advance(x.ttl/10 + time.Duration(x.rng.Int64N(int64(x.ttl/2))))
	case r < 0.36:
		x.advance(x.ttl + time.Duration(x.rng.Int64N(int64(2*x.ttl))))
	}
	alive := x.alive()
	r = x.rng.Float64()
	switch {
	case len(alive) == 0 || (len(alive) < 4 && r < 0.01):
		x.join()
	case !x.pct && r < 0.04:
		x.freeze(alive[x.rng.IntN(len(alive))])
	case r < 0.045:
		x.kill(alive[x.rng.IntN(len(alive))])
	case r < 0.055:
		x.damage()
	case r < 0.068:
		var idle []*participant
		for _, p := range alive {
			if !p.busy && p.lease == nil && !x.frozen(p) {
				idle = append(idle, p)
			}
		}
		if len(idle) > 0 {
			x.phase(idle[x.rng.IntN(len(idle))])
		}
	case r < 0.0695 && x.boot != "":
		x.reboot()
	case r < 0.15:
		x.deliver()
	}
}

// deliver hands an idle follower a message some holder sent, as its
// connection would: usually the latest, but any of them, late, again or
// out of order, since the network of a machine under load delays as it
// pleases.
func (x *explorer) deliver() {
	var idle []*participant
	for _, p := range x.alive() {
		if !p.busy && p.lease == nil && !x.frozen(p) {
			idle = append(idle, p)
		}
	}
	if len(idle) == 0 || len(x.msgs) == 0 {
		return
	}
	p := idle[x.rng.IntN(len(idle))]
	m := x.msgs[len(x.msgs)-1]
	if x.rng.IntN(3) == 0 {
		m = x.msgs[x.rng.IntN(len(x.msgs))]
	}
	p.f.mu.Lock()
	heard := p.f.heard(m)
	p.f.mu.Unlock()
	if heard {
		x.res.stats.heard++
		x.logf("p%d hears epoch %d seq %d", p.id, m.epoch, m.seq)
	}
}

// reboot ends every participant, as a restart of the machine that lost
// nothing: the next ones run in a new boot, so they must go above the
// blocks of epochs reserved before.
func (x *explorer) reboot() {
	for _, p := range x.alive() {
		x.kill(p)
	}
	x.boots++
	x.boot = fmt.Sprint("boot-", x.boots)
	x.res.stats.reboots++
	x.logf("reboot")
	if *exploreCrowd || (x.revert == revertNone && x.rng.IntN(2) == 0) {
		for range 2 + x.rng.IntN(3) {
			x.join()
		}
	}
}

// freeze stops p, wherever it is, for up to three TTLs.
func (x *explorer) freeze(p *participant) {
	p.thawAt = x.clk.Now().Add(x.ttl/10 + time.Duration(x.rng.Int64N(int64(3*x.ttl))))
	x.res.stats.freezes++
	x.logf("p%d freezes until +%v (in %s)", p.id, p.thawAt.Sub(x.clk.Now()), p.op)
}

func (x *explorer) advance(d time.Duration) {
	if d > 0 {
		x.clk.Advance(d)
	}
}

func (x *explorer) frozen(p *participant) bool { return x.clk.Now().Before(p.thawAt) }

func (x *explorer) nextThaw() time.Time {
	var at time.Time
	for _, p := range x.alive() {
		if at.IsZero() || p.thawAt.Before(at) {
			at = p.thawAt
		}
	}
	return at
}

// pick chooses who moves next among the live participants that are not
// frozen: at random, or the one of highest priority.
func (x *explorer) pick() *participant {
	var ready []*participant
	for _, p := range x.alive() {
		if !x.frozen(p) {
			ready = append(ready, p)
		}
	}
	if len(ready) == 0 {
		return nil
	}
	if !x.pct {
		return ready[x.rng.IntN(len(ready))]
	}
	best := ready[0]
	for _, p := range ready[1:] {
		if p.prio > best.prio {
			best = p
		}
	}
	return best
}

// run lets p take one step: it starts an operation if p has none under
// way, or lets the one under way go on to its next step or its end.
func (x *explorer) run(p *participant) event {
	if p.busy {
		p.resume <- true
	} else {
		x.start(p)
	}
	e := <-x.ev
	if e.done {
		p.busy = false
		x.finish(p, e)
	} else {
		x.logf("p%d %s: %s", p.id, p.op, e.point)
	}
	return e
}

// start begins p's next operation, as an owner would do it.
func (x *explorer) start(p *participant) {
	now := x.clk.Now()
	p.busy, p.begin = true, now
	var fn func() (Lease, error)
	switch {
	case p.lease == nil:
		p.op = "acquire"
		fn = func() (Lease, error) {
			l, _, err := p.f.TryAcquire(ctx, Candidate{InstanceID: fmt.Sprint("p", p.id)})
			return l, err
		}
	case !p.tenure.valid(now):
		p.op = "close" // the owner closes the lease once its tenure is over
	default:
		switch r := x.rng.Float64(); {
		case r < 0.55:
			p.op = "renew"
		case r < 0.9:
			p.op = "check"
		case r < 0.97:
			p.op = "release"
		default:
			p.op = "close"
		}
	}
	l := p.lease
	switch p.op {
	case "renew":
		fn = func() (Lease, error) { return nil, l.Renew(ctx) }
	case "check":
		fn = func() (Lease, error) { return nil, nil }
	case "release":
		x.end(p, "released")
		fn = func() (Lease, error) { return nil, l.Release(ctx) }
	case "close":
		x.end(p, "closed")
		fn = func() (Lease, error) { return nil, l.Close() }
	}
	x.logf("p%d starts %s", p.id, p.op)
	go func() {
		l, err := fn()
		x.ev <- event{p: p, done: true, l: l, err: err}
	}()
}

// end ends p's tenure at this instant.
func (x *explorer) end(p *participant, why string) {
	if p.tenure != nil && !p.tenure.ended {
		p.tenure.ended = true
		x.logf("p%d tenure of epoch %d ends: %s", p.id, p.tenure.epoch, why)
	}
}

// finish applies the outcome of p's operation to the model.
func (x *explorer) finish(p *participant, e event) {
	now := x.clk.Now()
	switch p.op {
	case "acquire":
		switch {
		case e.err == nil:
			x.grant(p, e.l)
		case !errors.Is(e.err, ErrHeld):
			x.fail("p%d: TryAcquire: %v", p.id, e.err)
		}
	case "renew":
		switch {
		case e.err == nil:
			if now.Before(p.tenure.deadline) {
				p.tenure.deadline = p.begin.Add(p.ttl)
			} else {
				x.end(p, "renewed after its deadline")
			}
		case errors.Is(e.err, ErrLost):
			x.end(p, "lost")
			if x.published <= p.tenure.epoch {
				x.pendingLoss[p.tenure.epoch] = fmt.Sprintf("p%d", p.id)
			}
		}
	case "check":
		if p.tenure.valid(now) {
			if p.tenure.epoch < x.topChecked {
				x.fail("p%d passed Check with epoch %d after epoch %d did", p.id, p.tenure.epoch, x.topChecked)
			}
			x.topChecked = max(x.topChecked, p.tenure.epoch)
		}
	case "release", "close":
		p.lease, p.tenure = nil, nil
		if e.err != nil {
			x.fail("p%d: %s: %v", p.id, p.op, e.err)
		}
	}
	x.logf("p%d %s -> %v", p.id, p.op, e.err)
}

func (x *explorer) grant(p *participant, l Lease) {
	now := x.clk.Now()
	epoch := l.Record().Epoch
	if x.granted[epoch] {
		x.fail("epoch %d granted twice (now to p%d)", epoch, p.id)
	}
	if epoch <= x.topEpoch && now.Before(p.begin.Add(p.ttl)) {
		// An attempt frozen after publishing may return after a later
		// grant; its tenure is over by then, or this is a fault.
		x.fail("p%d granted epoch %d, valid, after epoch %d", p.id, epoch, x.topEpoch)
	}
	x.granted[epoch], x.topEpoch = true, max(x.topEpoch, epoch)
	s := &tenureSpan{who: p.id, epoch: epoch, start: now, deadline: p.begin.Add(p.ttl)}
	p.lease, p.tenure = l, s
	x.tenures = append(x.tenures, s)
	x.res.stats.grants++
	if p.f.expireTTL > 0 && now.Sub(p.f.seenAt) >= p.f.expireTTL {
		x.res.stats.expiries++
	}
	x.logf("p%d granted epoch %d, valid for %v", p.id, epoch, s.deadline.Sub(now))
}

// check asserts that no two tenures are valid at this instant, and that a
// holder told its lease was lost lost it to a successor that publishes:
// a takeover that is withdrawn must not cost the holder its lease.
func (x *explorer) check() {
	if b, err := os.ReadFile(x.path); err == nil {
		if _, err := DecodeRecord(b); err == nil && (len(x.records) == 0 || !bytes.Equal(x.records[len(x.records)-1], b)) {
			x.records = append(x.records, b)
		}
	}
	if len(x.pendingLoss) > 0 {
		// A claimant has published once its record was renamed into place,
		// which its beat, written right after, shows; the record itself
		// may be damaged.
		side := &File{side: x.path + ".d"}
		ls, err := side.list()
		if err != nil {
			x.t.Fatal(err)
		}
		for _, n := range ls.claims {
			if len(side.readBeat(n)) > 0 {
				x.published = max(x.published, n)
			}
		}
		for e, who := range x.pendingLoss {
			switch {
			case x.published > e:
				delete(x.pendingLoss, e)
			case ls.topClaim() <= e:
				x.fail("%s lost its lease at epoch %d, yet no later epoch was published and no later claim is left", who, e)
			}
		}
	}
	now := x.clk.Now()
	var valid []*tenureSpan
	for _, s := range x.tenures {
		if s.valid(now) {
			valid = append(valid, s)
		}
	}
	if len(valid) > 1 {
		var b strings.Builder
		for _, s := range valid {
			fmt.Fprintf(&b, " p%d epoch %d (granted %v ago, valid %v more);", s.who, s.epoch, now.Sub(s.start), s.deadline.Sub(now))
		}
		x.fail("two tenures valid at once:%s", b.String())
	}
}

// kill ends p as the kernel ends a process: its locks and sockets are
// dropped, its files stay as they are, and it never takes another step.
func (x *explorer) kill(p *participant) {
	p.dead = true
	x.end(p, "died")
	dropFDs(p)
	x.res.stats.deaths++
	x.logf("p%d dies (in %s)", p.id, p.op)
}

func dropFDs(p *participant) {
	for _, c := range p.fds {
		if ln, ok := c.(*net.UnixListener); ok {
			ln.SetUnlinkOnClose(false) // a dead process leaves its socket file
		}
		_ = c.Close()
	}
}

// damage deletes the record, writes garbage over it or forges a valid
// record naming some epoch, as a user or a tool might: always the same
// bytes for the same damage, so that a record damaged again to the state a
// follower saw before comes up.
func (x *explorer) damage() {
	clear(x.pendingLoss) // a damaged record may make a takeover withdraw
	switch x.rng.IntN(4) {
	case 3: // an earlier record of the protocol's, or a claim, copied back
		var b []byte
		if ents, _ := os.ReadDir(x.path + ".d"); x.rng.IntN(2) == 0 || len(x.records) == 0 {
			for _, e := range ents {
				if strings.HasPrefix(e.Name(), "claim.") && !e.IsDir() && x.rng.IntN(2) == 0 {
					b, _ = os.ReadFile(filepath.Join(x.path+".d", e.Name()))
				}
			}
		} else {
			b = x.records[x.rng.IntN(len(x.records))]
		}
		if b != nil {
			_ = os.WriteFile(x.path, b, 0o600)
			x.logf("record copied back")
		}
	case 0:
		_ = os.Remove(x.path)
		x.logf("record deleted")
	case 1:
		epoch := 1 + x.rng.Uint64N(x.topEpoch+3)
		b, err := EncodeRecord(Record{Version: 1, InstanceID: "forged", Epoch: epoch, TTL: x.ttl, AcquiredAt: time.Unix(0, 0), RenewedAt: time.Unix(0, 0)})
		if err != nil {
			x.t.Fatal(err)
		}
		_ = os.WriteFile(x.path, b, 0o600)
		x.logf("record forged at epoch %d", epoch)
	default:
		_ = os.WriteFile(x.path, []byte(`{"epoch": 1, "inst`), 0o600)
		x.logf("record garbled")
	}
}

// phase freezes everyone but p, lets p try again and again as time
// passes, and checks that it acquires within the documented bound.
func (x *explorer) phase(p *participant) {
	x.res.stats.phases++
	x.logf("p%d alone: liveness phase", p.id)
	var first time.Time
	var attempts []time.Time
	gap := x.ttl / 3
	for x.res.violation == "" {
		at := x.clk.Now()
		e := x.run(p)
		x.check()
		for !e.done {
			e = x.run(p)
			x.check()
		}
		if p.lease != nil {
			return
		}
		if first.IsZero() {
			first = at
		}
		for _, b := range attempts {
			if !b.Before(first.Add(x.maxTTL)) && !b.After(at.Add(-p.ttl)) {
				x.fail("liveness: p%d, alone since %v ago, still held off (first attempt %v ago, attempt at %v after it)",
					p.id, at.Sub(first), at.Sub(first), b.Sub(first))
				return
			}
		}
		attempts = append(attempts, at)
		x.advance(time.Millisecond + time.Duration(x.rng.Int64N(int64(gap))))
	}
}

// cleanup drops every participant's locks and ends their goroutines.
func (x *explorer) cleanup() {
	for _, p := range x.ps {
		dropFDs(p)
		if p.busy {
			p.resume <- false
		}
		p.f.hook = nil
		p.f.Close()
	}
}
