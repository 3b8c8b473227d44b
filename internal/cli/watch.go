package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/leasehold/leasehold/lease"
)

// retryRead is how long watch waits before it reads again a lease it
// could not read, once it has read it.
const retryRead = time.Second

// watch prints the lease now and at every change until ctx is done. A
// first reading that fails ends it with ExitError; a later one is said
// once on stderr, and the lease read again every retryRead until it can
// be: a record damaged under a live holder is whole again at its next
// renewal.
func watch(ctx context.Context, env Env, t target, asJSON bool) int {
	var last lease.Observation
	var lastErr string
	for first := true; ; first = false {
		if !first && lastErr == "" {
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
		switch {
		case err != nil && first:
			fmt.Fprintf(env.Stderr, "leasehold watch: %v\n", err)
			return ExitError
		case err != nil:
			if err.Error() != lastErr {
				lastErr = err.Error()
				fmt.Fprintf(env.Stderr, "leasehold watch: %v (reading it again every %v)\n", err, retryRead)
			}
			select {
			case <-ctx.Done():
				return ExitLive
			case <-time.After(retryRead):
			}
			continue
		}
		lastErr = ""
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
