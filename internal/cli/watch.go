package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/leasehold/leasehold/lease"
)

// watch prints the lease now and at every change until ctx is done.
func watch(ctx context.Context, env Env, t target, asJSON bool) int {
	var last lease.Observation
	for first := true; ; first = false {
		if !first {
			if err := t.obs.Wait(ctx); err != nil {
				if ctx.Err() != nil {
					return ExitLive
				}
				fmt.Fprintf(env.Stderr, "leasehold watch: %v\n", err)
				return ExitError
			}
		}
		obs, err := t.obs.Read(ctx)
		if ctx.Err() != nil {
			return ExitLive
		}
		if err != nil {
			fmt.Fprintf(env.Stderr, "leasehold watch: %v\n", err)
			return ExitError
		}
		if !first && !obs.Changed(last) {
			continue
		}
		last = obs
		now := time.Now()
		r := newReport(t, obs, now)
		r.Time = &now
		if asJSON {
			b, err := json.Marshal(r)
			if err != nil {
				fmt.Fprintf(env.Stderr, "leasehold watch: %v\n", err)
				return ExitError
			}
			fmt.Fprintf(env.Stdout, "%s\n", b)
		} else {
			fmt.Fprintln(env.Stdout, line(r))
		}
	}
}
