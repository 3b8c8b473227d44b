package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/leasehold/leasehold/internal/cli"
	"github.com/leasehold/leasehold/internal/dirtree"
)

// run runs the command as a process of its own, as a user would, with
// environ added to an environment without OWNER_ variables.
func run(t *testing.T, environ []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(cleanEnv(), envRole+"=cli")
	cmd.Env = append(cmd.Env, environ...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), errb.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), 0
}

// cleanEnv is the test's environment without OWNER_ variables.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OWNER_") {
			env = append(env, kv)
		}
	}
	return env
}

// snapshot returns every entry under dir with its content, to show that
// the command changed nothing.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m, err := dirtree.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The documented keys of status --json, and of its holder.
var (
	reportKeys = []string{"holder", "lease", "live", "state", "store"}
	holderKeys = []string{
		"acquired_age_seconds", "acquired_at", "backend", "endpoint", "epoch", "host", "instance_id",
		"meta", "pid", "released", "remaining_seconds", "renewed_age_seconds", "renewed_at", "ttl_seconds",
	}
)

// decodeReport parses one report, failing t unless it has exactly the
// documented keys (and "time" when watch printed it).
func decodeReport(t *testing.T, b []byte, watch bool) report {
	t.Helper()
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatalf("not JSON: %v: %s", err, b)
	}
	want := slices.Clone(reportKeys)
	if watch {
		want = append(want, "time")
	}
	checkKeys(t, raw, want)
	if string(raw["holder"]) != "null" {
		var h map[string]json.RawMessage
		if err := json.Unmarshal(raw["holder"], &h); err != nil {
			t.Fatal(err)
		}
		checkKeys(t, h, holderKeys)
	}
	var r report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func checkKeys(t *testing.T, m map[string]json.RawMessage, want []string) {
	t.Helper()
	var got []string
	for k := range m {
		got = append(got, k)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("keys %v, want %v", got, want)
	}
}

type report struct {
	Lease, Store, State string
	Live                bool
	Holder              *struct {
		InstanceID string `json:"instance_id"`
		PID        int
		Epoch      uint64
		Endpoint   string
		TTL        float64 `json:"ttl_seconds"`
		Remaining  float64 `json:"remaining_seconds"`
		Released   bool
	}
}

// A lease that is not there, or is not a lease, gives a clear message and
// its exit code, and stays as it was: nothing is created or changed.
func TestStatusOnWhatIsNotALease(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.lease")
	if err := os.WriteFile(garbage, []byte("{\"epoch\": \"no\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	asDir := filepath.Join(dir, "dir.lease")
	if err := os.Mkdir(asDir, 0o700); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "no", "such", "owner.lease")
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string // in the diagnostics
		state  string // with --json; "" for none
	}{
		{"missing path", []string{"status", missing}, cli.ExitNone, "no lease file at " + missing, ""},
		{"missing path json", []string{"status", "--json", missing}, cli.ExitNone, "no lease file at", "free"},
		{"garbage record", []string{"status", garbage}, cli.ExitError, "lease: corrupt record in " + garbage + ": ", ""},
		{"garbage record json", []string{"status", garbage, "--json"}, cli.ExitError, "corrupt record", ""},
		{"directory", []string{"status", asDir}, cli.ExitError, asDir + " is a directory", ""},
		{"watch garbage record", []string{"watch", garbage}, cli.ExitError, "corrupt record", ""},
		{"watch directory", []string{"watch", "--json", asDir}, cli.ExitError, "is a directory", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot(t, dir)
			out, errs, code := run(t, nil, tc.args...)
			if code != tc.code || !strings.Contains(errs, tc.stderr) {
				t.Fatalf("exit %d, stderr %q; want %d with %q (stdout %q)", code, errs, tc.code, tc.stderr, out)
			}
			if tc.state != "" {
				if r := decodeReport(t, []byte(out), false); r.State != tc.state || r.Live || r.Holder != nil || r.Lease != missing {
					t.Fatalf("report %+v, want %s, no holder, lease %s", r, tc.state, missing)
				}
			}
			for _, d := range dirtree.Diff(before, snapshot(t, dir)) {
				t.Error(d)
			}
		})
	}
}

// The command line: its errors name what is wrong and exit 2.
func TestCommandLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "owner.lease")
	yaml := filepath.Join(dir, "owner.yaml")
	if err := os.WriteFile(yaml, []byte("owner:\n  lease_path: relative.lease\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		environ []string
		args    []string
		code    int
		stderr  string
	}{
		{"no command", nil, nil, cli.ExitError, "Usage:"},
		{"help", nil, []string{"help"}, 0, ""},
		{"unknown command", nil, []string{"frobnicate"}, cli.ExitError, `no command "frobnicate"`},
		{"unknown flag", nil, []string{"status", "--bogus", path}, cli.ExitError, "-bogus"},
		{"two leases", nil, []string{"status", path, path + "2"}, cli.ExitError, "one LEASE at most"},
		{"no lease named", nil, []string{"status"}, cli.ExitError, "name the lease"},
		{"missing config file", nil, []string{"status", "--config", path + ".yaml"}, cli.ExitError, path + ".yaml"},
		{"bad environment", []string{"OWNER_LEASE_PATH=" + path, "OWNER_TTL=5"}, []string{"status"}, cli.ExitError, "OWNER_TTL"},
		{"etcd in a file-only build", []string{"OWNER_STORE=etcd", "OWNER_ETCD_ENDPOINTS=127.0.0.1:2379", "OWNER_ETCD_KEY=/k"}, []string{"status"}, cli.ExitError, "etcdlease/cmd/leasehold"},
		{"environment names the lease", []string{"OWNER_LEASE_PATH=" + path}, []string{"status"}, cli.ExitNone, "no lease file at " + path},
		{"config file names the lease", nil, []string{"status", "--config", yaml}, cli.ExitNone, "no lease file at " + filepath.Join(dir, "relative.lease")},
		{"argument over the environment", []string{"OWNER_LEASE_PATH=" + path}, []string{"status", path + ".arg"}, cli.ExitNone, "no lease file at " + path + ".arg"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := cli.Main(context.Background(), cli.Env{Args: tc.args, Stdout: &out, Stderr: &errb, Environ: append([]string{}, tc.environ...)})
			if code != tc.code || !strings.Contains(errb.String(), tc.stderr) {
				t.Fatalf("exit %d, stderr %q; want %d with %q", code, errb.String(), tc.code, tc.stderr)
			}
			if tc.name == "help" && !strings.Contains(out.String(), "leasehold status") {
				t.Fatalf("help on stdout: %q", out.String())
			}
		})
	}
}
