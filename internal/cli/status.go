package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/leasehold/leasehold/lease"
	"github.com/leasehold/leasehold/owner"
)

// report is the JSON form of an Observation; see the package comment.
type report struct {
	Time   *time.Time `json:"time,omitempty"`
	Lease  string     `json:"lease"`
	Store  string     `json:"store"`
	State  string     `json:"state"`
	Live   bool       `json:"live"`
	Holder *holder    `json:"holder"`
}

type holder struct {
	InstanceID  string            `json:"instance_id"`
	PID         int               `json:"pid"`
	Host        string            `json:"host"`
	Epoch       uint64            `json:"epoch"`
	Endpoint    string            `json:"endpoint"`
	Backend     string            `json:"backend"`
	Meta        map[string]string `json:"meta"`
	AcquiredAt  time.Time         `json:"acquired_at"`
	RenewedAt   time.Time         `json:"renewed_at"`
	AcquiredAge float64           `json:"acquired_age_seconds"`
	RenewedAge  float64           `json:"renewed_age_seconds"`
	TTL         float64           `json:"ttl_seconds"`
	Remaining   float64           `json:"remaining_seconds"`
	Released    bool              `json:"released"`
}

func newReport(t target, obs lease.Observation, now time.Time) report {
	r := report{Lease: t.name, Store: t.store, State: obs.State.String(), Live: obs.State == lease.StateLive}
	rec := obs.Record
	if rec.InstanceID == "" {
		return r
	}
	meta := rec.Meta
	if meta == nil {
		meta = map[string]string{}
	}
	r.Holder = &holder{
		InstanceID:  rec.InstanceID,
		PID:         rec.PID,
		Host:        rec.Host,
		Epoch:       rec.Epoch,
		Endpoint:    meta[owner.EndpointMetaKey],
		Backend:     meta[owner.BackendMetaKey],
		Meta:        meta,
		AcquiredAt:  rec.AcquiredAt,
		RenewedAt:   obs.Renewed,
		AcquiredAge: seconds(now.Sub(rec.AcquiredAt)),
		RenewedAge:  seconds(now.Sub(obs.Renewed)),
		TTL:         seconds(rec.TTL),
		Remaining:   seconds(obs.Remaining),
		Released:    rec.Released,
	}
	return r
}

// seconds rounds d to milliseconds, in seconds.
func seconds(d time.Duration) float64 {
	return float64(d.Round(time.Millisecond)) / float64(time.Second)
}

// status prints the lease once; its exit code says whether a live owner
// holds it.
func status(ctx context.Context, env Env, t target, asJSON bool) int {
	obs, err := t.obs.Read(ctx)
	if err != nil {
		fmt.Fprintf(env.Stderr, "leasehold status: %v\n", err)
		return ExitError
	}
	if t.path != "" && obs.State == lease.StateFree {
		if _, err := os.Lstat(t.path); errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(env.Stderr, "leasehold status: no lease file at %s: no one has held it there\n", t.path)
		}
	}
	r := newReport(t, obs, time.Now())
	if asJSON {
		b, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			fmt.Fprintf(env.Stderr, "leasehold status: %v\n", err)
			return ExitError
		}
		fmt.Fprintf(env.Stdout, "%s\n", b)
	} else {
		printStatus(env.Stdout, r)
	}
	if r.Live {
		return ExitLive
	}
	return ExitNone
}

func printStatus(w io.Writer, r report) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "lease\t%s (%s)\n", r.Lease, r.Store)
	fmt.Fprintf(tw, "state\t%s\n", r.State)
	if h := r.Holder; h != nil {
		fmt.Fprintf(tw, "holder\t%s\n", h.InstanceID)
		fmt.Fprintf(tw, "pid\t%d on %s\n", h.PID, h.Host)
		fmt.Fprintf(tw, "epoch\t%d\n", h.Epoch)
		fmt.Fprintf(tw, "endpoint\t%s\n", or(h.Endpoint, "-"))
		fmt.Fprintf(tw, "backend\t%s\n", or(h.Backend, "-"))
		fmt.Fprintf(tw, "acquired\t%s ago\n", age(h.AcquiredAge))
		fmt.Fprintf(tw, "renewed\t%s ago\n", age(h.RenewedAge))
		fmt.Fprintf(tw, "ttl\t%s", age(h.TTL))
		if r.Live {
			fmt.Fprintf(tw, " (%s left)", age(h.Remaining))
		}
		fmt.Fprintln(tw)
	}
	_ = tw.Flush()
}

// line is the one-line form of a report, for watch.
func line(r report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", r.Time.Format("15:04:05.000"), r.State)
	if h := r.Holder; h != nil {
		fmt.Fprintf(&b, " epoch=%d holder=%s pid=%d host=%s endpoint=%s backend=%s renewed_ago=%s",
			h.Epoch, h.InstanceID, h.PID, h.Host, or(h.Endpoint, "-"), or(h.Backend, "-"), age(h.RenewedAge))
	}
	return b.String()
}

func age(s float64) string {
	return time.Duration(s * float64(time.Second)).Round(100 * time.Millisecond).String()
}

func or(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}
