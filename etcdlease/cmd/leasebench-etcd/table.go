//go:build unix

package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/leasehold/leasehold/internal/stats"
)

// printTable prints the figures of each implementation side by side.
func printTable(w io.Writer, res Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "figure")
	impls := []*Impl{}
	for _, name := range []string{implStore, implElection} {
		if r := res.Impls[name]; r != nil {
			fmt.Fprintf(tw, "\t%s", name)
			impls = append(impls, r)
		}
	}
	fmt.Fprintln(tw)
	row := func(what string, cell func(*Impl) string) {
		fmt.Fprint(tw, what)
		for _, r := range impls {
			fmt.Fprintf(tw, "\t%s", cell(r))
		}
		fmt.Fprintln(tw)
	}
	lat := func(l stats.Latency) string {
		return fmt.Sprintf("%.0f / %.0f / %.0f ms", l.P50, l.P99, l.Max)
	}
	row("crash, p50 / p99 / max", func(r *Impl) string { return lat(r.Crash) })
	row("graceful, p50 / p99 / max", func(r *Impl) string { return lat(r.Graceful) })
	row("hang beyond TTL, p50 / p99 / max", func(r *Impl) string { return lat(r.HangBeyondTTL) })
	row("Join alone, p50 / p99", func(r *Impl) string {
		if r.Join1 == nil {
			return "-"
		}
		return fmt.Sprintf("%.1f / %.1f ms", r.Join1.P50, r.Join1.P99)
	})
	row("64 Joins, slowest p50 / max", func(r *Impl) string {
		if r.Join64 == nil {
			return "-"
		}
		return fmt.Sprintf("%.1f / %.1f ms", r.Join64.P50, r.Join64.Max)
	})
	row("idle owner CPU (of 16)", func(r *Impl) string { return fmt.Sprintf("%.3f%%", r.Idle16.OwnerCPU) })
	row("idle follower CPU, max / mean", func(r *Impl) string {
		return fmt.Sprintf("%.4f%% / %.4f%%", r.Idle16.FollowerMaxCPU, r.Idle16.FollowerMeanCPU)
	})
	row("etcd requests/s: owner alone", func(r *Impl) string { return fmt.Sprintf("%.2f", r.IdleOwnerAlone.RequestsPerSecond) })
	row("etcd requests/s: each follower", func(r *Impl) string { return fmt.Sprintf("%.2f", r.FollowerRequestsPerSecond) })
	row("etcd CPU, owner + 15 followers", func(r *Impl) string { return fmt.Sprintf("%.2f%%", r.Idle16.EtcdCPU) })
	row("acquisitions no fault caused", func(r *Impl) string { return fmt.Sprint(r.Unprovoked) })
	tw.Flush()
}
