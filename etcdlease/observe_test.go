//go:build unix

package etcdlease_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/leasehold/leasehold/config"
	"github.com/leasehold/leasehold/etcdlease"
	"github.com/leasehold/leasehold/internal/cli"
)

// statusReport is the part of the command's JSON these tests read.
type statusReport struct {
	State  string
	Live   bool
	Store  string
	Lease  string
	Holder *struct {
		Epoch     uint64
		PID       int
		TTL       float64 `json:"ttl_seconds"`
		Remaining float64 `json:"remaining_seconds"`
	}
}

// The command, with the etcd store, reports the holder of a lease kept by
// worker processes on a real cluster, and watch sees a takeover after the
// holder is killed.
func TestCommandOnEtcd(t *testing.T) {
	c := startCluster(t, 3, nil)
	r := startFleet(t, c, 2)
	e := r.FirstOK(0, 0)
	holder := r.F.Workers()[e.Worker]
	environ := []string{
		"OWNER_STORE=etcd", "OWNER_ETCD_ENDPOINTS=" + strings.Join(c.endpoints(), ","),
		"OWNER_ETCD_KEY=" + key, "OWNER_TTL=" + procTTL.String(),
	}
	stores := map[string]cli.Store{config.StoreEtcd: {Observe: etcdlease.ObserverOpener, Open: etcdlease.Opener}}
	run := func(ctx context.Context, out io.Writer, args ...string) (int, string) {
		var errb bytes.Buffer
		code := cli.Main(ctx, cli.Env{Args: args, Stdout: out, Stderr: &errb, Environ: environ, Stores: stores})
		return code, errb.String()
	}

	var out bytes.Buffer
	code, errs := run(ctxT(t), &out, "status", "--json")
	var st statusReport
	if err := json.Unmarshal(out.Bytes(), &st); err != nil {
		t.Fatalf("status: exit %d, %s: %v\n%s", code, errs, err, out.String())
	}
	if code != cli.ExitLive || st.State != "live" || st.Store != "etcd" || st.Lease != key || st.Holder == nil ||
		st.Holder.Epoch != e.Epoch || st.Holder.PID != holder.Pid() || st.Holder.TTL != procTTL.Seconds() || st.Holder.Remaining <= 0 {
		t.Fatalf("status of a held key: exit %d, %+v (holder %+v); want the worker %d's epoch %d", code, st, st.Holder, holder.Pid(), e.Epoch)
	}
	out.Reset()
	if code, _ := run(ctxT(t), &out, "status", "/leasehold/no-such-key"); code != cli.ExitNone || !strings.Contains(out.String(), "free") {
		t.Fatalf("status of a key that does not exist: exit %d\n%s", code, out.String())
	}

	ctx, cancel := context.WithCancel(ctxT(t))
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		code, errs := run(ctx, pw, "watch", "--json")
		if errs != "" {
			t.Logf("watch: %s", errs)
		}
		pw.Close()
		done <- code
	}()
	lines := bufio.NewScanner(pr)
	next := func() statusReport {
		t.Helper()
		if !lines.Scan() {
			t.Fatal("watch ended")
		}
		var r statusReport
		if err := json.Unmarshal(lines.Bytes(), &r); err != nil {
			t.Fatalf("%v: %s", err, lines.Text())
		}
		return r
	}
	if w := next(); w.State != "live" || w.Holder.Epoch != e.Epoch {
		t.Fatalf("watch's first line %+v, want the holder", w)
	}
	if _, err := holder.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for {
		w := next()
		if w.State == "live" && w.Holder.Epoch > e.Epoch {
			if w.Holder.PID == holder.Pid() {
				t.Fatalf("taken over by the killed worker: %+v", w.Holder)
			}
			break
		}
		if w.State != "free" && w.State != "unrenewed" {
			t.Fatalf("after the SIGKILL: %+v", w)
		}
	}
	cancel()
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	select {
	case code := <-done:
		if code != cli.ExitLive {
			t.Fatalf("watch ended with %d, want 0", code)
		}
	case <-time.After(patience):
		t.Fatal("watch did not end with its context")
	}
}

// leasehold run, with the etcd store, campaigns on the key and runs its
// command once it owns it, naming the lease etcd:KEY, and exits with the
// command's code, the key released.
func TestRunOnEtcd(t *testing.T) {
	c := startCluster(t, 1, nil)
	const runKey = "/leasehold/run"
	environ := []string{
		"OWNER_STORE=etcd", "OWNER_ETCD_ENDPOINTS=" + strings.Join(c.endpoints(), ","),
		"OWNER_ETCD_KEY=" + runKey, "OWNER_TTL=" + procTTL.String(),
	}
	// The child writes its output from a goroutine of os/exec, and run
	// its messages from its own: the log is locked.
	var errb lockedBuffer
	code := cli.Main(ctxT(t), cli.Env{
		Args:   []string{"run", "--", "sh", "-c", `test "$LEASEHOLD_LEASE" = "etcd:` + runKey + `" && test "$LEASEHOLD_EPOCH" -gt 0 && exit 7`},
		Stdout: io.Discard, Stderr: &errb, Environ: environ,
		Stores: map[string]cli.Store{config.StoreEtcd: {Observe: etcdlease.ObserverOpener, Open: etcdlease.Opener}},
	})
	if code != 7 {
		t.Fatalf("leasehold run: exit %d, want the command's 7\n%s", code, errb.String())
	}
	g, err := c.client(t, c.endpoints(), nil).Get(ctxT(t), runKey)
	if err != nil || len(g.Kvs) != 0 {
		t.Fatalf("the key after run: %v, %v; want it released", g, err)
	}
}

// lockedBuffer is a bytes.Buffer for writers in several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
