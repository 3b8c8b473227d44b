//go:build unix

package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// get fetches url and returns the status code, the body and the header
// naming the owner that served a forwarded request.
func get(t *testing.T, url string) (int, string, string) {
	t.Helper()
	c := &http.Client{Timeout: patience, Transport: &http.Transport{DisableKeepAlives: true}} // no connection outlives the test
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b), resp.Header.Get("Leasehold-Served-By")
}

// short is the app's short form of an id.
func short(id string) string { return id[:min(len(id), 8)] }

// Three copies: the owner serves, the followers reach it through the
// endpoint it advertises and hand it their lines, which it writes; a
// follower's / is answered by the owner, and its /status and /healthz by
// itself. When the owner is killed, a follower takes over and the other
// reaches the new owner.
func TestFollowersReachTheOwner(t *testing.T) {
	root := tempRoot(t)
	writeConfig(t, filepath.Join(root, "owner.yaml"), "owner:\n  lease_path: owner.lease\n  ttl: 2s\n")
	args := []string{"-config", "owner.yaml", "-work", "100ms", "-forward", "100ms"}
	apps := []*app{start(t, "A", root, nil, args...)}
	first := apps[0].await("join", event("joined"))
	if first["role"] != "owner" {
		t.Fatalf("the first copy joined as %s", first["role"])
	}
	ownerApp, ownerID := apps[0], first["id"]
	var followers []*app
	var statusURL string
	for _, name := range []string{"B", "C"} {
		f := start(t, name, root, nil, args...)
		j := f.await("join", event("joined"))
		statusURL = j["status"]
		followers = append(followers, f)
	}
	for _, f := range followers {
		fw := f.await("a forwarded line", event("forwarded"))
		if fw["to"] != ownerID || fw["epoch"] != "1" {
			t.Fatalf("%s forwarded to %s at epoch %s, want %s at 1", f.name, fw["to"], fw["epoch"], ownerID)
		}
		id := f.seen[0]["id"]
		ownerApp.await("a line served for "+f.name, func(l line) bool { return l["event"] == "served" && l["from"] == id })
	}

	// The follower's own view, and the owner's answer through it.
	code, body, _ := get(t, statusURL)
	var st struct {
		ID, Role, Holder string
		Epoch            uint64
	}
	if err := json.Unmarshal([]byte(body), &st); code != 200 || err != nil {
		t.Fatalf("GET /status: %d %q (%v)", code, body, err)
	}
	if st.Role != "follower" || short(st.Holder) != ownerID || st.Epoch != 1 || short(st.ID) != followers[1].seen[0]["id"] {
		t.Fatalf("GET /status of a follower: %+v", st)
	}
	base := strings.TrimSuffix(statusURL, "/status")
	if code, body, servedBy := get(t, base+"/"); code != 200 || !strings.HasPrefix(body, "owner ") || short(servedBy) != ownerID {
		t.Fatalf("GET / of a follower: %d %q served by %q, want the owner %s's answer", code, body, servedBy, ownerID)
	}
	if code, body, _ := get(t, base+"/healthz"); code != 200 {
		t.Fatalf("GET /healthz of a follower: %d %q", code, body)
	}

	// The state file: the owner's process wrote every line, some of them
	// for the followers.
	raw, err := os.ReadFile(filepath.Join(root, "example-state.log"))
	if err != nil {
		t.Fatal(err)
	}
	from := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		f := parse(l)
		if f["pid"] != first["pid"] {
			t.Fatalf("a line not written by the owner's process %s: %q", first["pid"], l)
		}
		from[f["from"]] = true
	}
	for _, f := range followers {
		if !from[f.seen[0]["id"]] {
			t.Errorf("no line for %s in the state file", f.name)
		}
	}

	// Kill the owner: one follower takes over, the other reaches it.
	if err := ownerApp.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	ownerApp.wait()
	var next, other *app
	for next == nil {
		select {
		case l, ok := <-followers[0].lines:
			if !ok {
				t.Fatalf("%s exited; stderr: %s", followers[0].name, followers[0].stderr.String())
			}
			followers[0].seen = append(followers[0].seen, l)
			if l["event"] == "owner" {
				next, other = followers[0], followers[1]
			}
		case l, ok := <-followers[1].lines:
			if !ok {
				t.Fatalf("%s exited; stderr: %s", followers[1].name, followers[1].stderr.String())
			}
			followers[1].seen = append(followers[1].seen, l)
			if l["event"] == "owner" {
				next, other = followers[1], followers[0]
			}
		case <-time.After(patience):
			t.Fatal("no takeover after the owner was killed")
		}
	}
	nextID := next.seen[0]["id"]
	defer func() {
		if t.Failed() { // what the other follower printed last
			for _, l := range other.seen[max(0, len(other.seen)-10):] {
				t.Logf("%s: %v", other.name, l)
			}
		}
	}()
	fw := other.await("a line forwarded to the new owner", func(l line) bool { return l["event"] == "forwarded" && l["to"] == nextID })
	if fw["epoch"] != "2" {
		t.Fatalf("forwarded to the new owner at epoch %s, want 2", fw["epoch"])
	}
	next.await("a line served for "+other.name, func(l line) bool { return l["event"] == "served" && l["from"] == other.seen[0]["id"] })
	other.stop()
	next.stop()
}

// A lease directory that group or others may write stops the app with one
// line naming it, the error of the lease store, not fx's chain of the
// graph.
func TestStartErrorIsOneLine(t *testing.T) {
	root := tempRoot(t)
	dir := filepath.Join(root, "run")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o770); err != nil {
		t.Fatal(err)
	}
	writeConfig(t, filepath.Join(root, "owner.yaml"), "owner:\n  lease_path: run/owner.lease\n")
	a := start(t, "app", root, nil, "-config", "owner.yaml")
	if code := a.wait(); code != 2 {
		t.Fatalf("exit code %d, want 2; stderr: %s", code, a.stderr.String())
	}
	stderr := a.stderr.String()
	want := "lease: " + dir + " is writable by group or others"
	if !strings.HasPrefix(stderr, want) || strings.Count(stderr, "\n") != 1 || strings.Contains(stderr, "function") {
		t.Fatalf("stderr %q, want one line starting %q", stderr, want)
	}
}
