package lease

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofrs/flock"

	"github.com/leasehold/leasehold/internal/clock"
)

// The power-loss test crashes the machine after every change that a
// scenario of acquisitions and takeovers makes to the lease's files, keeps
// of those files what the disk may hold after the crash, and checks that
// the epochs granted in the next boot are above every epoch granted before
// the crash.
//
// Every participant reports each change it made (File.oplog) to a model of
// the disk, as Pebble's strict in-memory file system keeps it: each file
// has its content now and its content as last fsynced (none if never:
// empty after a crash), each directory its entries now and its entries as
// of its last fsync. Nodes are inodes, so a link or a rename moves the
// same content. What is on disk when the scenario starts counts as
// durable. Locks and sockets are not in the model: after a crash every
// process is gone, and with them their locks; a live file that is missing
// reads as a holder gone, as a free lock does.
//
// After the k-th change (k from 0, nothing, to all of them) the directory
// is rebuilt on the real file system from what survives, in each crash
// mode below, and new participants, in a new boot, acquire the lease and
// take it over twice. Every epoch they are granted must be above
// every epoch granted (returned by TryAcquire) before the crash point,
// and above the ones granted before it since the crash; and they must be
// granted, since no holder outlives a crash. A crash state that came up
// before is not run again: what the next boot does depends only on it.
//
// The scenarios run in a boot with an id ("boot-A", then "boot-B" after
// the crash), where claims are durable by their block, in blocks of two
// epochs so that takeovers cross into new blocks; and with no boot id
// (before and after), where every claim is made durable itself. One of
// them crashes in its middle too (crashStrict), and goes on in a new
// boot, so that the crash points cover a boot that found an earlier
// boot's files.

// crashMode is what the disk keeps of the changes not yet fsynced.
type crashMode int

const (
	// crashStrict keeps only fsynced entries, with only fsynced content,
	// as vfs.NewStrictMem's ResetToSyncedState does.
	crashStrict crashMode = iota
	// crashEntries keeps every entry but only fsynced content: a file
	// system that commits metadata on its own but not data.
	crashEntries
	// crashNoLoss keeps everything: only the processes die.
	crashNoLoss
	// crashRemovals keeps the fsynced entries less those removed or
	// replaced since, with fsynced content: removals reached the disk,
	// additions did not.
	crashRemovals
	// crashAdditions keeps the fsynced entries and those added since,
	// with fsynced content: additions reached the disk, removals did not.
	crashAdditions
	// crashSubsets keeps each change of an entry since its directory's
	// fsync, and each file's content written since its fsync, or not,
	// independently: a directory entry may be durable while another is
	// not. Every combination is tried where there are few; else some,
	// at random.
	crashSubsets
)

var crashModes = []crashMode{crashStrict, crashEntries, crashNoLoss, crashRemovals, crashAdditions, crashSubsets}

func (m crashMode) String() string {
	return [...]string{"strict", "entries kept", "no loss", "removals kept", "additions kept", "subsets"}[m]
}

// plNode is a file or a directory of the model of the disk.
type plNode struct {
	dir     bool
	data    []byte             // a file's content now
	durable []byte             // its content as last fsynced; nil if never
	ents    map[string]*plNode // a directory's entries now
	durEnts map[string]*plNode // its entries as of its last fsync
}

func newDirNode() *plNode {
	return &plNode{dir: true, ents: map[string]*plNode{}, durEnts: map[string]*plNode{}}
}

// diskModel is what the disk holds under root, now and durably.
type diskModel struct {
	root  string
	top   *plNode
	alias map[string]string // the temporary files of blocks, by the order they were made
}

// newModel returns a model of the disk under root holding st, durably.
func newModel(root string, st plState) (*diskModel, error) {
	m := &diskModel{root: root, top: newDirNode(), alias: map[string]string{}}
	for _, e := range st { // parents come first
		d, name, err := m.parent(filepath.Join(root, e.rel))
		if err != nil {
			return nil, err
		}
		n := &plNode{data: bytes.Clone(e.data), durable: bytes.Clone(e.data)}
		if n.durable == nil {
			n.durable = []byte{}
		}
		if e.dir {
			n = newDirNode()
		}
		d.ents[name], d.durEnts[name] = n, n
	}
	return m, nil
}

// restart makes the model what a crash leaves in crashStrict: every
// directory's durable entries, with every file's durable content.
func (m *diskModel) restart(d *plNode) {
	d.ents = maps.Clone(d.durEnts)
	for _, n := range d.ents {
		if n.dir {
			m.restart(n)
			continue
		}
		if n.durable == nil {
			n.durable = []byte{}
		}
		n.data = n.durable
	}
}

// parent returns the directory holding path and the name in it.
func (m *diskModel) parent(path string) (*plNode, string, error) {
	rel, err := filepath.Rel(m.root, path)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return nil, "", fmt.Errorf("%s is not under %s", path, m.root)
	}
	parts := strings.Split(rel, string(filepath.Separator))
	d := m.top
	for _, p := range parts[:len(parts)-1] {
		if d = d.ents[p]; d == nil || !d.dir {
			return nil, "", fmt.Errorf("no directory %s on the way to %s", p, path)
		}
	}
	return d, parts[len(parts)-1], nil
}

func (m *diskModel) node(path string) (*plNode, error) {
	if filepath.Clean(path) == filepath.Clean(m.root) {
		return m.top, nil
	}
	d, name, err := m.parent(path)
	if err != nil {
		return nil, err
	}
	n := d.ents[name]
	if n == nil {
		return nil, fmt.Errorf("%s does not exist", path)
	}
	return n, nil
}

// opCrash, in a scenario's log, is a crash of the machine in crashStrict
// mode, after which the scenario goes on in a new boot.
const opCrash = "crash"

// apply makes one reported change to the model.
func (m *diskModel) apply(op fsOp) error {
	if op.Op == opCrash {
		m.restart(m.top)
		return nil
	}
	// A block's temporary file has a random name: name it by its order
	// instead, so that runs are alike and a crash state found once is
	// known again.
	if strings.HasPrefix(filepath.Base(op.Path), "blocktmp-") {
		if op.Op == opCreate {
			m.alias[op.Path] = filepath.Join(filepath.Dir(op.Path), fmt.Sprint("blocktmp-", len(m.alias)+1))
		}
		if a, ok := m.alias[op.Path]; ok {
			op.Path = a
		}
	}
	switch op.Op {
	case opSync, opWrite, opSyncDir:
		n, err := m.node(op.Path)
		if err != nil {
			return err
		}
		switch op.Op {
		case opSync:
			n.durable = bytes.Clone(n.data)
			if n.durable == nil {
				n.durable = []byte{}
			}
		case opWrite:
			n.data = bytes.Clone(op.Data)
		case opSyncDir:
			if !n.dir {
				return fmt.Errorf("%s is not a directory", op.Path)
			}
			n.durEnts = maps.Clone(n.ents)
		}
		return nil
	}
	d, name, err := m.parent(op.Path)
	if err != nil {
		return err
	}
	switch op.Op {
	case opCreate:
		if n := d.ents[name]; n != nil && !n.dir {
			n.data = nil // truncated
		} else {
			d.ents[name] = &plNode{}
		}
	case opMkdir:
		d.ents[name] = newDirNode()
	case opRemove:
		// Live files and sockets, removed with old epochs, are not in
		// the model.
		delete(d.ents, name)
	case opRename, opLink:
		n := d.ents[name]
		if n == nil {
			return fmt.Errorf("%s %s: no such file", op.Op, op.Path)
		}
		to, toName, err := m.parent(op.To)
		if err != nil {
			return err
		}
		to.ents[toName] = n
		if op.Op == opRename {
			delete(d.ents, name)
		}
	default:
		return fmt.Errorf("unknown op %q", op.Op)
	}
	return nil
}

// plEntry is one file or directory that survives a crash.
type plEntry struct {
	rel  string
	dir  bool
	data []byte
}

type plState []plEntry

// key identifies the state, so that a state that came up before need not
// be run again.
func (s plState) key() string {
	var b strings.Builder
	for _, e := range s {
		fmt.Fprintf(&b, "%q %v %q\n", e.rel, e.dir, e.data)
	}
	return b.String()
}

func (s plState) String() string {
	var b strings.Builder
	for _, e := range s {
		if e.dir {
			fmt.Fprintf(&b, "  %s/\n", e.rel)
		} else {
			fmt.Fprintf(&b, "  %s %q\n", e.rel, trimForLog(e.data))
		}
	}
	return b.String()
}

func trimForLog(b []byte) []byte {
	if len(b) > 40 {
		return append(b[:40:40], "..."...)
	}
	return b
}

// crash returns what survives a crash now in mode; in crashSubsets, keep
// tells, for each change not yet durable in turn, whether it survives.
func (m *diskModel) crash(mode crashMode, keep func() bool) plState {
	var s plState
	content := map[*plNode][]byte{} // one choice per inode, for its every name
	var walk func(d *plNode, rel string)
	walk = func(d *plNode, rel string) {
		names := make([]string, 0, len(d.ents)+len(d.durEnts))
		for n := range d.ents {
			names = append(names, n)
		}
		for n := range d.durEnts {
			if d.ents[n] == nil {
				names = append(names, n)
			}
		}
		slices.Sort(names)
		for _, name := range names {
			cur, dur := d.ents[name], d.durEnts[name]
			var n *plNode
			switch mode {
			case crashStrict:
				n = dur
			case crashEntries, crashNoLoss:
				n = cur
			case crashRemovals:
				if cur == dur {
					n = dur
				}
			case crashAdditions:
				if n = cur; n == nil {
					n = dur
				}
			case crashSubsets:
				if n = dur; cur != dur && keep() {
					n = cur
				}
			}
			if n == nil {
				continue
			}
			path := filepath.Join(rel, name)
			if n.dir {
				s = append(s, plEntry{rel: path, dir: true})
				walk(n, path)
				continue
			}
			b, ok := content[n]
			if !ok {
				b = n.durable
				if mode == crashNoLoss || (mode == crashSubsets && !bytes.Equal(n.data, n.durable) && keep()) {
					b = n.data
				}
				content[n] = b
			}
			s = append(s, plEntry{rel: path, data: b})
		}
	}
	walk(m.top, "")
	return s
}

// Each change not yet durable may survive or not, independently: where
// there are at most maxSubsets combinations, every one is tried; else
// randomSubsets of them, drawn at random. Fewer with the race detector,
// which makes each run after a crash four times slower.
var maxSubsets, randomSubsets = 64, 16

func init() {
	if raceEnabled {
		maxSubsets, randomSubsets = 16, 4
	}
}

// subsets returns the states that a crash now may leave where each change
// of an entry, and each file's content, survives or not independently, as
// crashSubsets; all reports whether they are all of them.
func (m *diskModel) subsets(seed uint64) (sts []plState, all bool) {
	// Walk the tree of choices depth first: each walk follows prefix, and
	// chooses false past its end; the next prefix flips the last false.
	var prefix []bool
	for len(sts) < maxSubsets {
		i := 0
		st := m.crash(crashSubsets, func() bool {
			if i == len(prefix) {
				prefix = append(prefix, false)
			}
			i++
			return prefix[i-1]
		})
		sts = append(sts, st)
		prefix = prefix[:i]
		for len(prefix) > 0 && prefix[len(prefix)-1] {
			prefix = prefix[:len(prefix)-1]
		}
		if len(prefix) == 0 {
			return sts, true
		}
		prefix[len(prefix)-1] = true
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	sts = sts[:0]
	for range randomSubsets {
		sts = append(sts, m.crash(crashSubsets, func() bool { return rng.IntN(2) == 0 }))
	}
	return sts, false
}

// readState reads the tree under root as plState, less the live files
// and sockets, which the model does not hold.
func readState(root string) (plState, error) {
	var s plState
	var walk func(dir, rel string) error
	walk = func(dir, rel string) error {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		for _, e := range ents {
			path, r := filepath.Join(dir, e.Name()), filepath.Join(rel, e.Name())
			switch {
			case e.IsDir():
				s = append(s, plEntry{rel: r, dir: true})
				if err := walk(path, r); err != nil {
					return err
				}
			case e.Type().IsRegular() && !strings.HasPrefix(e.Name(), kindLive+"."):
				b, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				s = append(s, plEntry{rel: r, data: b})
			}
		}
		return nil
	}
	return s, walk(root, "")
}

// rebuild makes the tree under root what s says.
func rebuild(root string, s plState) error {
	ents, err := os.ReadDir(root)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if err := os.RemoveAll(filepath.Join(root, e.Name())); err != nil {
			return err
		}
	}
	for _, e := range s { // parents come first: s is in the order of a walk
		path := filepath.Join(root, e.rel)
		if e.dir {
			err = os.Mkdir(path, 0o700)
		} else {
			err = os.WriteFile(path, e.data, 0o600)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// plConfig is how the participants run before and after the crash.
type plConfig struct {
	name        string
	boot, after string // boot ids before and after the crash; "" for none
	blockSize   uint64
	revert      func(f *File) // brings a fault back, in every participant
}

var plConfigs = []plConfig{
	{name: "blocks", boot: "boot-A", after: "boot-B", blockSize: 2},
	{name: "durable claims", boot: "", after: "", blockSize: 2},
}

// plWorld runs participants of one lease: those of a scenario before the
// crash, whose changes it logs, or those of the boot after it.
type plWorld struct {
	t     testing.TB
	path  string
	clk   *clock.Fake
	boot  string
	cfg   plConfig
	mu    sync.Mutex
	log   []plOp   // the changes, in order, if logOn
	logOn bool     // whether to log them: before the crash
	grant []plGive // the grants, in order
	procs []*plProc
	// initial is what the disk held before the first change, for
	// crashNow.
	initial plState
}

type plOp struct {
	who string
	fsOp
}

func (o plOp) String() string {
	if o.Op == opCrash {
		return "the machine crashes"
	}
	s := fmt.Sprintf("%s: %s %s", o.who, o.Op, filepath.Base(o.Path))
	if o.To != "" {
		s += " -> " + filepath.Base(o.To)
	}
	if o.Op == opWrite {
		s += fmt.Sprintf(" %q", trimForLog(o.Data))
	}
	return s
}

// plGive is one grant: who was granted which epoch, and how many changes
// had been made when TryAcquire returned.
type plGive struct {
	who   string
	epoch uint64
	at    int
}

// plProc is one participant: one process with its own File.
type plProc struct {
	name   string
	f      *File
	fds    []io.Closer
	leases []Lease
	dead   bool
}

func (w *plWorld) open(name string) *plProc {
	w.t.Helper()
	f, err := Open(w.path, Options{TTL: ttl, Clock: w.clk})
	if err != nil {
		w.t.Fatal(err)
	}
	p := &plProc{name: name, f: f}
	f.boot, f.blockSize = w.boot, w.cfg.blockSize
	// With a hook set, the holder's tidying after its first renewal runs
	// inline, so that every change is in the log in its order.
	f.hook = func(string) {}
	f.track = func(c io.Closer) { p.fds = append(p.fds, c) }
	f.oplog = func(op fsOp) {
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.logOn {
			w.log = append(w.log, plOp{who: name, fsOp: op})
		}
	}
	if w.cfg.revert != nil {
		w.cfg.revert(f)
	}
	w.procs = append(w.procs, p)
	return p
}

// tryAcquire lets p try to acquire the lease, and notes the grant.
func (w *plWorld) tryAcquire(p *plProc) (Lease, error) {
	l, _, err := p.f.TryAcquire(ctx, Candidate{InstanceID: p.name})
	if err != nil {
		return nil, err
	}
	p.leases = append(p.leases, l)
	w.mu.Lock()
	w.grant = append(w.grant, plGive{who: p.name, epoch: l.Record().Epoch, at: len(w.log)})
	w.mu.Unlock()
	return l, nil
}

func (w *plWorld) acquire(p *plProc) Lease {
	w.t.Helper()
	l, err := w.tryAcquire(p)
	if err != nil {
		w.t.Fatalf("%s: TryAcquire: %v", p.name, err)
	}
	return l
}

func (w *plWorld) held(p *plProc) {
	w.t.Helper()
	if l, err := w.tryAcquire(p); !errors.Is(err, ErrHeld) {
		w.t.Fatalf("%s: TryAcquire = %v, %v; want ErrHeld", p.name, l, err)
	}
}

func (w *plWorld) renew(l Lease, want error) {
	w.t.Helper()
	if err := l.Renew(ctx); !errors.Is(err, want) {
		w.t.Fatalf("Renew of epoch %d = %v, want %v", l.Record().Epoch, err, want)
	}
}

// kill ends p as the kernel ends a process: its locks, sockets and files
// are closed, and it takes no other step.
func (w *plWorld) kill(p *plProc) {
	if p.dead {
		return
	}
	p.dead = true
	for _, c := range p.fds {
		if ln, ok := c.(*net.UnixListener); ok {
			ln.SetUnlinkOnClose(false) // a dead process leaves its socket file
		}
		_ = c.Close()
	}
	for _, l := range p.leases {
		if fl, ok := l.(*fileLease); ok && fl.beat != nil {
			_ = fl.beat.Close()
		}
	}
}

// crashNow crashes the machine in the middle of a scenario, in
// crashStrict mode: every participant dies, the disk keeps only what was
// durable, and the scenario goes on in a new boot.
func (w *plWorld) crashNow() {
	w.t.Helper()
	for _, p := range w.procs {
		w.kill(p)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.log = append(w.log, plOp{who: "machine", fsOp: fsOp{Op: opCrash}})
	m, err := newModel(filepath.Dir(w.path), w.initial)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, op := range w.log {
		if err := m.apply(op.fsOp); err != nil {
			w.t.Fatal(err)
		}
	}
	if err := rebuild(filepath.Dir(w.path), m.crash(crashNoLoss, nil)); err != nil {
		w.t.Fatal(err)
	}
	if w.boot != "" {
		w.boot += "2"
	}
}

// end kills every participant and closes its File.
func (w *plWorld) end() {
	for _, p := range w.procs {
		w.kill(p)
		p.f.Close()
	}
}

// A plScenario runs participants in one boot, before the crash.
type plScenario struct {
	name string
	run  func(w *plWorld)
}

var plScenarios = []plScenario{
	{"first acquisition", func(w *plWorld) {
		w.acquire(w.open("a"))
	}},
	{"renewal, death, takeover, release", func(w *plWorld) {
		a, b, c := w.open("a"), w.open("b"), w.open("c")
		la := w.acquire(a)
		w.renew(la, nil) // reserves the next block
		w.held(b)
		w.kill(a)
		lb := w.acquire(b) // a is gone: at once
		w.renew(lb, nil)
		if err := lb.Release(ctx); err != nil {
			w.t.Fatal(err)
		}
		lc := w.acquire(c)
		w.renew(lc, nil)
	}},
	{"takeovers across blocks", func(w *plWorld) {
		// Holders that die or release before renewing: each successor
		// that crosses into a new block reserves it, and a release tidies
		// old epochs and blocks away.
		for i := range 11 {
			p := w.open(fmt.Sprint("p", i))
			l := w.acquire(p)
			if i%3 == 2 {
				if err := l.Release(ctx); err != nil {
					w.t.Fatal(err)
				}
			} else {
				w.kill(p)
			}
		}
	}},
	{"takeover by expiry", func(w *plWorld) {
		a, b, c := w.open("a"), w.open("b"), w.open("c")
		la := w.acquire(a)
		w.renew(la, nil)
		w.held(b)
		w.clk.Advance(ttl) // a is frozen, alive
		lb := w.acquire(b)
		w.renew(la, ErrLost)
		w.held(c)
		w.clk.Advance(ttl) // so is b
		w.acquire(c)
		w.renew(lb, ErrLost)
	}},
	{"takeover withdrawn", func(w *plWorld) {
		// A renewal that passed its check before a takeover by expiry
		// claimed renames after the claim: the successor withdraws, its
		// epoch voided, and the next takeover goes above it.
		a, b := w.open("a"), w.open("b")
		la := w.acquire(a)
		w.held(b)
		w.clk.Advance(ttl)
		renewing, proceed := make(chan struct{}), make(chan struct{})
		renewed := make(chan error, 1)
		a.f.hook = func(point string) {
			if point == "rename:record" {
				close(renewing)
				<-proceed
			}
		}
		b.f.hook = func(point string) {
			if point == "create:beat" { // claim.2 is made
				close(proceed)
				<-renewed
				a.f.hook = func(string) {}
				b.f.hook = func(string) {}
			}
		}
		go func() { renewed <- la.Renew(ctx) }()
		<-renewing
		w.held(b)
		w.renew(la, nil)
		w.kill(a)
		w.acquire(b)
	}},
	{"frozen candidate skipped", func(w *plWorld) {
		// A candidate froze holding the lock of epoch 2 unclaimed: the
		// follower makes its tombstone and claims 3, in the next block.
		a, b := w.open("a"), w.open("b")
		w.acquire(a)
		w.kill(a)
		frozen := flock.New(filepath.Join(w.path+".d", "live.2"))
		if ok, err := frozen.TryLock(); !ok || err != nil {
			w.t.Fatal(ok, err)
		}
		defer frozen.Unlock()
		w.held(b)
		w.clk.Advance(ttl)
		w.acquire(b)
	}},
	{"second crash", func(w *plWorld) {
		// The boot after a crash goes above the blocks of the one before,
		// and makes changes that a second crash may lose.
		a, b := w.open("a"), w.open("b")
		la := w.acquire(a)
		w.renew(la, nil)
		w.kill(a)
		w.acquire(b)
		w.crashNow()
		c, d, e := w.open("c"), w.open("d"), w.open("e")
		lc := w.acquire(c)
		w.renew(lc, nil)
		w.kill(c)
		ld := w.acquire(d)
		if err := ld.Release(ctx); err != nil {
			w.t.Fatal(err)
		}
		w.acquire(e)
	}},
	{"reservation ahead", func(w *plWorld) {
		// The holder reserves the next block at its first renewal; its
		// successors claim in it without waiting for the disk.
		a, b, c, d := w.open("a"), w.open("b"), w.open("c"), w.open("d")
		la := w.acquire(a)
		w.renew(la, nil)
		w.renew(la, nil)
		w.kill(a)
		lb := w.acquire(b)
		w.renew(lb, nil)
		w.kill(b)
		lc := w.acquire(c) // in the block a reserved
		w.renew(lc, nil)   // reserves the one after
		if err := lc.Release(ctx); err != nil {
			w.t.Fatal(err)
		}
		w.acquire(d)
	}},
}

// afterCrash runs the next boot on the lease as it is: every participant
// of the last one is gone. It returns the epochs granted: a new holder,
// which renews (and so reserves the next block); a takeover of it when it
// dies; and a handover by release, which crosses into the next block.
func afterCrash(t testing.TB, path string, cfg plConfig) (epochs []uint64, err error) {
	w := &plWorld{t: t, path: path, clk: newClock(), boot: cfg.after, cfg: cfg}
	defer w.end()
	acquire := func(p *plProc) (Lease, error) {
		l, err := w.tryAcquire(p)
		if err != nil {
			return nil, fmt.Errorf("%s: TryAcquire: %w", p.name, err)
		}
		epochs = append(epochs, l.Record().Epoch)
		return l, nil
	}
	q1, q2, q3 := w.open("q1"), w.open("q2"), w.open("q3")
	l1, err := acquire(q1)
	if err != nil {
		return epochs, err
	}
	if err := l1.Renew(ctx); err != nil {
		return epochs, fmt.Errorf("q1: Renew: %w", err)
	}
	w.kill(q1)
	l2, err := acquire(q2)
	if err != nil {
		return epochs, err
	}
	if err := l2.Release(ctx); err != nil {
		return epochs, fmt.Errorf("q2: Release: %w", err)
	}
	_, err = acquire(q3)
	return epochs, err
}

// plResult is what powerLoss found.
type plResult struct {
	ops, grants int
	epochs      []uint64 // granted before the crash, in order
	points      int      // crash states checked, over every crash point and mode
	exhaustive  int      // crash points where every subset was tried
	states      int      // distinct ones, each run once
	violations  []string
}

// plDir is a new directory for one run, on tmpfs where there is one.
func plDir(t testing.TB) string {
	t.Helper()
	base := ""
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		base = "/dev/shm"
	}
	dir, err := os.MkdirTemp(base, "leasehold-powerloss-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// powerLoss runs sc before a crash, crashes after each of its changes in
// every mode and checks the epochs granted after each crash.
func powerLoss(t testing.TB, sc plScenario, cfg plConfig) plResult {
	root := plDir(t)
	path := filepath.Join(root, "owner.lease")
	// The lease as Open leaves it is the durable state to start from.
	f, err := Open(path, Options{TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	initial, err := readState(root)
	if err != nil {
		t.Fatal(err)
	}
	model, err := newModel(root, initial)
	if err != nil {
		t.Fatal(err)
	}

	w := &plWorld{t: t, path: path, clk: newClock(), boot: cfg.boot, cfg: cfg, logOn: true, initial: initial}
	sc.run(w)
	w.end()
	w.mu.Lock()
	log, grants := w.log, w.grant
	w.mu.Unlock()
	final, err := readState(root)
	if err != nil {
		t.Fatal(err)
	}
	res := plResult{ops: len(log), grants: len(grants)}
	for _, g := range grants {
		res.epochs = append(res.epochs, g.epoch)
	}
	for i := 1; i < len(grants); i++ {
		if g := grants[i]; g.epoch <= grants[i-1].epoch {
			res.violations = append(res.violations, fmt.Sprintf("%s: %s granted epoch %d after epoch %d, after change %d of %d",
				sc.name, g.who, g.epoch, grants[i-1].epoch, g.at, len(log)))
		}
	}

	type outcome struct {
		epochs []uint64
		err    error
	}
	seen := map[string]outcome{}
	for k := 0; k <= len(log); k++ {
		if k > 0 {
			if err := model.apply(log[k-1].fsOp); err != nil {
				t.Fatalf("op %d (%v): %v", k, log[k-1], err)
			}
		}
		if k == len(log) {
			// The model must hold what the scenario left, or the log
			// misses a change.
			if got := model.crash(crashNoLoss, nil); got.key() != final.key() {
				t.Fatalf("the model of the disk does not match it after the scenario\nmodel:\n%s\ndisk:\n%s", got, final)
			}
		}
		var before []uint64 // the epochs granted before the crash
		var top uint64
		for _, g := range grants {
			if g.at <= k {
				before = append(before, g.epoch)
				top = max(top, g.epoch)
			}
		}
		for _, mode := range crashModes {
			var sts []plState
			if mode == crashSubsets {
				var all bool
				sts, all = model.subsets(uint64(k))
				if all {
					res.exhaustive++
				}
			} else {
				sts = []plState{model.crash(mode, nil)}
			}
			for _, st := range sts {
				res.points++
				key := st.key()
				o, ok := seen[key]
				if !ok {
					if err := rebuild(root, st); err != nil {
						t.Fatal(err)
					}
					o.epochs, o.err = afterCrash(t, path, cfg)
					seen[key] = o
				}
				if v := judge(top, o.epochs, o.err); v != "" {
					at := "before any change"
					if k > 0 {
						at = fmt.Sprintf("after change %d of %d (%v)", k, len(log), log[k-1])
					}
					res.violations = append(res.violations, fmt.Sprintf(
						"%s, crash %s, %s: granted before the crash %v; after it %v: %s\nwhat survived:\n%s",
						sc.name, at, mode, before, o.epochs, v, st))
				}
			}
		}
	}
	res.states = len(seen)
	return res
}

// judge tells what is wrong with the epochs granted after a crash, given
// the top epoch granted before it; "" if nothing.
func judge(top uint64, after []uint64, err error) string {
	last := top
	for _, e := range after {
		if e <= last {
			if last == top {
				return fmt.Sprintf("epoch %d granted again or below, after %d before the crash", e, top)
			}
			return fmt.Sprintf("epoch %d granted after %d", e, last)
		}
		last = e
	}
	if err != nil {
		return fmt.Sprintf("no grant after the crash: %v", err)
	}
	return ""
}

func TestPowerLoss(t *testing.T) {
	start := time.Now()
	var points, states int
	for _, cfg := range plConfigs {
		for _, sc := range plScenarios {
			t.Run(cfg.name+"/"+sc.name, func(t *testing.T) {
				r := powerLoss(t, sc, cfg)
				points += r.points
				states += r.states
				for i, v := range r.violations {
					if i == 5 {
						t.Errorf("... and %d more", len(r.violations)-i)
						break
					}
					t.Error(v)
				}
				t.Logf("%d changes, epochs %v granted; %d crash points x %d modes, every subset at %d of them: %d crash states, %d distinct",
					r.ops, r.epochs, r.ops+1, len(crashModes), r.exhaustive, r.points, r.states)
			})
		}
	}
	t.Logf("%d crash states checked, %d distinct, in %v", points, states, time.Since(start).Round(time.Millisecond))
}

// TestPowerLossFindsRevertedFaults shows that the power-loss test finds a
// repeated epoch where the reservation of blocks or the claims lose their
// fsyncs, or where a block of an earlier boot is taken for this one's.
func TestPowerLossFindsRevertedFaults(t *testing.T) {
	blocks, durable := plConfigs[0], plConfigs[1]
	for _, tc := range []struct {
		name   string
		cfg    plConfig
		revert func(f *File)
	}{
		{"block reserved without fsync", blocks, func(f *File) { f.revert.unsyncedBlock = true }},
		{"block of an earlier boot taken", blocks, func(f *File) { f.revert.sameBlock = true }},
		{"claim not made durable", durable, func(f *File) { f.revert.unsyncedClaim = true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.revert = tc.revert
			for _, sc := range plScenarios {
				if r := powerLoss(t, sc, cfg); len(r.violations) > 0 {
					t.Logf("found in %q, %d of %d crash states: %s", sc.name, len(r.violations), r.points, r.violations[0])
					return
				}
			}
			t.Fatal("not found")
		})
	}
}
