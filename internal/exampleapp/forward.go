package exampleapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.uber.org/fx"

	"github.com/leasehold/leasehold/owner"
)

// link is a follower's way to the owner: requests to the endpoint the
// holder advertises. When the holder changes, a request under way is
// cancelled and the connections to the old owner are closed, so that the
// next request reaches the new one.
type link struct {
	o         *owner.Owner
	transport *http.Transport
	client    *http.Client
	timeout   time.Duration

	mu   sync.Mutex
	last string // the holder of the last request
}

func newLink(lc fx.Lifecycle, o *owner.Owner) *link {
	t := http.DefaultTransport.(*http.Transport).Clone()
	l := &link{o: o, transport: t, client: &http.Client{Transport: t}, timeout: o.Config().TTL}
	lc.Append(fx.StopHook(t.CloseIdleConnections))
	return l
}

// errNoOwner is the error of a request when no owner is known to reach.
var errNoOwner = errors.New("no owner to reach")

// do sends a request to the holder's endpoint and reads the answer. It
// returns the holder's id, even with an error.
func (l *link) do(ctx context.Context, method, path, from string, body []byte) (status int, answer []byte, to string, err error) {
	changed := l.o.Changed() // before Holder, so that no change is missed
	h := l.o.Holder()
	to, endpoint := h.InstanceID, h.Meta[owner.EndpointMetaKey]
	switch {
	case to == "" || h.Released || to == l.o.ID():
		return 0, nil, to, errNoOwner
	case !strings.HasPrefix(endpoint, "http://"):
		return 0, nil, to, fmt.Errorf("the owner advertises no HTTP endpoint (%q)", endpoint)
	}
	l.reconnect(to)
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	go func() {
		select {
		case <-changed:
			cancel()
		case <-ctx.Done():
		}
	}()
	req, err := http.NewRequestWithContext(ctx, method, endpoint+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, to, err
	}
	req.Header.Set(headerFrom, from)
	req.Header.Set(headerForwarded, l.o.ID())
	resp, err := l.client.Do(req)
	if err != nil {
		return 0, nil, to, err
	}
	defer resp.Body.Close()
	answer, err = readBody(resp.Body)
	return resp.StatusCode, answer, to, err
}

// reconnect closes the connections to the previous holder when the
// holder has changed.
func (l *link) reconnect(to string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last != "" && l.last != to {
		l.transport.CloseIdleConnections()
	}
	l.last = to
}

// relay forwards r to the owner and copies its answer to w.
func (l *link) relay(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	from := r.Header.Get(headerFrom)
	if from == "" {
		from = "client"
	}
	code, answer, to, err := l.do(r.Context(), r.Method, r.URL.Path, from, body)
	if err != nil {
		http.Error(w, fmt.Sprintf("forwarding to the owner %s: %v", short(to), err), http.StatusBadGateway)
		return
	}
	w.Header().Set("Leasehold-Served-By", to)
	w.WriteHeader(code)
	_, _ = w.Write(answer)
}

// work asks the owner to write a line for this instance.
func (l *link) work(ctx context.Context) (workReply, string, error) {
	code, answer, to, err := l.do(ctx, http.MethodPost, "/work", l.o.ID(), nil)
	if err != nil {
		return workReply{}, to, err
	}
	if code != http.StatusOK {
		return workReply{}, to, fmt.Errorf("%d %s", code, strings.TrimSpace(string(answer)))
	}
	var reply workReply
	if err := json.Unmarshal(answer, &reply); err != nil {
		return workReply{}, to, fmt.Errorf("the owner's answer: %w", err)
	}
	return reply, to, nil
}

// forwardWork hands a line to the owner every period while this instance
// follows, and prints each answer; a failure to reach the holder is
// printed once for each holder. It stops when this instance becomes the owner, which then
// writes its own lines.
func forwardWork(lc fx.Lifecycle, o *owner.Owner, l *link, every forwardEvery) {
	if every <= 0 {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			go func() {
				defer close(done)
				t := time.NewTicker(time.Duration(every))
				defer t.Stop()
				failed := "" // the holder whose failure was printed
				for {
					select {
					case <-ctx.Done():
						return
					case <-o.Acquired():
						return
					case <-t.C:
					}
					select {
					case <-o.Acquired(): // meanwhile
						return
					default:
					}
					reply, to, err := l.work(ctx)
					switch {
					case err != nil && ctx.Err() != nil:
						return
					case errors.Is(err, errNoOwner), errors.Is(err, context.Canceled):
						// None to reach yet, or the holder changed during
						// the request: the next one goes to the new holder.
					case err != nil:
						if failed != to {
							say(o, "event=forward-failed to=%s cause=%q", short(to), err)
							failed = to
						}
					default:
						failed = ""
						say(o, "event=forwarded to=%s epoch=%d line=%d", short(reply.Owner), reply.Epoch, reply.Line)
					}
				}
			}()
			return nil
		},
		OnStop: func(context.Context) error {
			cancel()
			<-done
			return nil
		},
	})
}
