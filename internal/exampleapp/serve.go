package exampleapp

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"go.uber.org/fx"

	"github.com/leasehold/leasehold/owner"
	"github.com/leasehold/leasehold/ownerfx"
)

// The endpoint every copy serves; the owner's is the one it advertises:
//
//	GET  /         the owner answers with its id and epoch
//	POST /work     the owner appends a line to the state file for the caller
//	GET  /status   this copy's owner.Stats, with its own id, as JSON
//	GET  /healthz  ownerfx.HealthCheck: 200, or 503 with the reason
//
// A follower forwards / and /work to the owner and relays the answer.
const (
	// headerFrom is the id of the instance a line of /work is written for.
	headerFrom = "Leasehold-From"
	// headerForwarded marks a request a follower forwarded, with its id; a
	// copy that no longer owns answers it 503 rather than forward it again.
	headerForwarded = "Leasehold-Forwarded-By"
)

// workReply is the owner's answer to POST /work.
type workReply struct {
	Owner string `json:"owner"`
	Epoch uint64 `json:"epoch"`
	Line  int    `json:"line"`
}

// status is the answer to GET /status.
type status struct {
	ID string `json:"id"`
	owner.Stats
}

// serve answers on the listener from start to stop.
func serve(lc fx.Lifecycle, ln listener, o *owner.Owner, s *state, l *link, health *ownerfx.HealthCheck) {
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", owned(o, l, func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "owner %s epoch %d\n", o.ID(), o.Epoch())
	}))
	mux.Handle("POST /work", owned(o, l, func(w http.ResponseWriter, r *http.Request) {
		from := r.Header.Get(headerFrom)
		if from == "" {
			from = "client"
		}
		n, err := s.write(o, from)
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		say(o, "event=served from=%s epoch=%d line=%d", short(from), o.Epoch(), n)
		writeJSON(w, workReply{Owner: o.ID(), Epoch: o.Epoch(), Line: n})
	}))
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, status{ID: o.ID(), Stats: o.Stats()})
	})
	mux.Handle("GET /healthz", health)
	srv := &http.Server{ReadHeaderTimeout: time.Second, Handler: mux}
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			go func() { _ = srv.Serve(ln) }()
			return nil
		},
		OnStop: srv.Shutdown,
	})
}

// owned runs serve while this instance owns the lease, and forwards the
// request to the owner otherwise.
func owned(o *owner.Owner, l *link, serve http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := o.Check()
		switch {
		case err == nil:
			serve(w, r)
		case r.Header.Get(headerForwarded) != "":
			// The forwarder's view of the holder is out of date; one hop only.
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
		default:
			l.relay(w, r)
		}
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(append(b, '\n'))
}

// readBody reads a request's body, up to a limit that this example's
// requests never reach.
func readBody(r io.Reader) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r, 1<<20))
}
