package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leasehold/leasehold/owner"
)

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadLayers(t *testing.T) {
	yml := writeFile(t, "owner.yaml", `
other_app_key: 1
owner:
  lease_path: /tmp/x/owner.lease
  ttl: 10s
  endpoint: unix:///run/a.sock
`)
	dotenv := writeFile(t, "owner.env", "OWNER_TTL=3s\nOWNER_RENEW_INTERVAL=1s\nUNRELATED=1\n")
	allowYAML := writeFile(t, "allow.yaml", "owner:\n  lease_path: /tmp/x/owner.lease\n  allow_network_fs: true\n")
	allowQuoted := writeFile(t, "quoted.yaml", "owner:\n  lease_path: /tmp/x/owner.lease\n  allow_network_fs: \"true\"\n")
	for _, tc := range []struct {
		name string
		opts Options
		want owner.Config
	}{
		{"defaults", Options{Environ: []string{}, App: "app"}, owner.Config{TTL: DefaultTTL, RenewInterval: DefaultTTL / 3}},
		{"yaml", Options{File: yml, Environ: []string{}}, owner.Config{LeasePath: "/tmp/x/owner.lease", TTL: 10 * time.Second, RenewInterval: 10 * time.Second / 3, Endpoint: "unix:///run/a.sock"}},
		{"environment wins over yaml", Options{File: yml, Environ: []string{"OWNER_TTL=30s", "OWNER_BACKEND=llama", "PATH=/bin"}},
			owner.Config{LeasePath: "/tmp/x/owner.lease", TTL: 30 * time.Second, RenewInterval: 10 * time.Second, Endpoint: "unix:///run/a.sock", Backend: "llama"}},
		{"dotenv, RENEW_INTERVAL stays one key", Options{File: dotenv, Environ: []string{"OWNER_LEASE_PATH=/l"}},
			owner.Config{LeasePath: "/l", TTL: 3 * time.Second, RenewInterval: time.Second}},
		{"network file system allowed in yaml", Options{File: allowYAML, Environ: []string{}},
			owner.Config{LeasePath: "/tmp/x/owner.lease", TTL: DefaultTTL, RenewInterval: DefaultTTL / 3, AllowNetworkFS: true}},
		{"quoted in yaml, overridden by the environment", Options{File: allowQuoted, Environ: []string{"OWNER_ALLOW_NETWORK_FS=0"}},
			owner.Config{LeasePath: "/tmp/x/owner.lease", TTL: DefaultTTL, RenewInterval: DefaultTTL / 3}},
		{"network file system allowed in the environment", Options{Environ: []string{"OWNER_ALLOW_NETWORK_FS=true"}, App: "app"},
			owner.Config{TTL: DefaultTTL, RenewInterval: DefaultTTL / 3, AllowNetworkFS: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Load(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want.LeasePath == "" {
				def, _ := DefaultLeasePath("app", "")
				tc.want.LeasePath = def
			}
			if got != tc.want {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		file    string // YAML body, or "" for none
		ext     string
		environ []string
		want    []string // all must appear in the error
	}{
		{"bare number", "owner:\n  ttl: 10\n", ".yaml", nil, []string{"owner.yaml", "owner.ttl = 10 is a number", "unit"}},
		{"boolean", "owner:\n  endpoint: true\n", ".yaml", nil, []string{"owner.endpoint = true is a boolean"}},
		{"number for a boolean", "owner:\n  allow_network_fs: 1\n", ".yaml", nil, []string{"owner.allow_network_fs = 1 is a number; write true or false"}},
		{"not a boolean", "owner:\n  allow_network_fs: sometimes\n", ".yaml", nil, []string{`owner.allow_network_fs = "sometimes" is not true or false`}},
		{"env not a boolean", "", "", []string{"OWNER_ALLOW_NETWORK_FS=yes"}, []string{"environment", `OWNER_ALLOW_NETWORK_FS = "yes" is not true or false`}},
		{"typo in yaml", "owner:\n  ttll: 10s\n", ".yml", nil, []string{"owner.yml", "unknown key owner.ttll"}},
		{"nested unknown", "owner:\n  ttl:\n    x: 1\n", ".yaml", nil, []string{"unknown key owner.ttl.x"}},
		{"owner not a mapping", "owner: 5\n", ".yaml", nil, []string{"owner must be a mapping"}},
		{"bad yaml", "owner: [\n", ".yaml", nil, []string{"owner.yaml"}},
		{"bad duration", "owner:\n  ttl: soon\n", ".yaml", nil, []string{"owner.ttl = \"soon\"", "not a duration"}},
		{"env bare number", "", "", []string{"OWNER_TTL=10"}, []string{"environment", "OWNER_TTL = \"10\"", "unit"}},
		{"env typo and bad value", "", "", []string{"OWNER_TLL=1s", "OWNER_ENDPOINT=x", "OWNER_RENEW_INTERVAL=often"}, []string{"environment", `OWNER_RENEW_INTERVAL = "often"`, "not a duration"}},
		{"negative ttl", "", "", []string{"OWNER_TTL=-1s"}, []string{"OWNER_TTL = \"-1s\" must be positive"}},
		{"empty path", "", "", []string{"OWNER_LEASE_PATH="}, []string{"OWNER_LEASE_PATH = \"\" must not be empty"}},
		{"renew not below ttl", "owner:\n  ttl: 2s\n", ".yaml", []string{"OWNER_RENEW_INTERVAL=2s"}, []string{"OWNER_RENEW_INTERVAL = 2s (environment) must be shorter than owner.ttl = 2s", "owner.yaml"}},
		{"dotenv typo", "OWNER_TIMEOUT=1s\n", ".env", nil, []string{"owner.env", "unknown variable OWNER_TIMEOUT"}},
		{"dotenv near miss", "OWNER_TLL=1s\n", ".env", nil, []string{"owner.env", "unknown variable OWNER_TLL", "known: OWNER_LEASE_PATH, OWNER_TTL"}},
		{"dotenv unrelated", "OWNER_EMAIL=me@example.com\n", ".env", nil, []string{"owner.env", "unknown variable OWNER_EMAIL"}},
		{"unknown file type", "x", ".toml", nil, []string{"owner.toml", "unknown file type"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := Options{Environ: tc.environ, App: "app"}
			if opts.Environ == nil {
				opts.Environ = []string{}
			}
			if tc.ext != "" {
				opts.File = writeFile(t, "owner"+tc.ext, tc.file)
			}
			loadFails(t, opts, tc.want...)
		})
	}
	if _, err := Load(Options{File: "/nonexistent/owner.yaml", Environ: []string{}}); err == nil || !strings.Contains(err.Error(), "/nonexistent/owner.yaml") {
		t.Errorf("missing file: %v", err)
	}
}

// A relative lease path in a file is taken from the file's directory: the
// same lease from any working directory, however the file is reached.
func TestRelativeLeasePathInFile(t *testing.T) {
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"a", "b", "links"} {
		if err := os.Mkdir(filepath.Join(root, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	write := func(name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(root, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("owner.yaml", "owner:\n  lease_path: run/owner.lease\n")
	write("owner.env", "OWNER_LEASE_PATH=./run/../run/env.lease\n")
	if err := os.Symlink(filepath.Join(root, "owner.yaml"), filepath.Join(root, "links", "owner.yaml")); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(root, "run", "owner.lease")
	for _, tc := range []struct {
		name, cwd, file, want string
	}{
		{"from a", "a", filepath.Join("..", "owner.yaml"), want},
		{"from b", "b", filepath.Join("..", "owner.yaml"), want},
		{"from the file's directory", ".", "owner.yaml", want},
		{"absolute file name", "a", filepath.Join(root, "owner.yaml"), want},
		{"through a symbolic link", "a", filepath.Join("..", "links", "owner.yaml"), want},
		{"dotenv", "b", filepath.Join("..", "owner.env"), filepath.Join(root, "run", "env.lease")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(filepath.Join(root, tc.cwd))
			got, err := Load(Options{File: tc.file, Environ: []string{}})
			if err != nil {
				t.Fatal(err)
			}
			if got.LeasePath != tc.want {
				t.Fatalf("LeasePath %q, want %q", got.LeasePath, tc.want)
			}
		})
	}
}

func TestLeasePathIsAbsoluteAndClean(t *testing.T) {
	dir := t.TempDir()
	abs := filepath.Join(dir, "x", "owner.lease")
	messy := strings.Join([]string{dir, "y", "..", "x", ".", "owner.lease"}, string(filepath.Separator))
	yml := writeFile(t, "owner.yaml", "owner:\n  lease_path: "+messy+"\n")
	got, err := Load(Options{File: yml, Environ: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if got.LeasePath != abs {
		t.Fatalf("LeasePath %q, want %q", got.LeasePath, abs)
	}
	for _, opts := range []Options{{Environ: []string{}, App: "app"}, {Environ: []string{}, App: "app", DataRoot: "data"}} {
		got, err := Load(opts)
		if err != nil {
			t.Fatal(err)
		}
		if !filepath.IsAbs(got.LeasePath) || filepath.Clean(got.LeasePath) != got.LeasePath {
			t.Errorf("default LeasePath %q is not absolute and clean", got.LeasePath)
		}
	}
}

// The environment has no directory, so a relative path there is an error
// that shows the absolute path to write instead.
func TestRelativeLeasePathInEnvironment(t *testing.T) {
	abs, err := filepath.Abs(filepath.Join("run", "owner.lease"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Load(Options{Environ: []string{"OWNER_LEASE_PATH=" + filepath.Join("run", "owner.lease")}, App: "app"})
	if err == nil {
		t.Fatal("Load accepted a relative path from the environment")
	}
	for _, w := range []string{"environment", `OWNER_LEASE_PATH = "` + filepath.Join("run", "owner.lease") + `"`, "is relative", "absolute path", abs} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
}

// The environment is the machine's: an unknown OWNER_ variable there is
// ignored, with a warning only when it looks like a typo of a known one.
func TestUnknownVariablesInEnvironment(t *testing.T) {
	for _, tc := range []struct {
		name    string
		environ []string
		want    []Warning
	}{
		{"unrelated", []string{"OWNER_EMAIL=me@example.com", "OWNER_ID=7", "OWNER_NAME=me", "OWNER_=x", "OWNER_HOME=/home/me"}, nil},
		{"transposed", []string{"OWNER_TLL=1s"}, []Warning{{"OWNER_TLL", "OWNER_TTL"}}},
		{"lower case", []string{"OWNER_ttl=1s"}, []Warning{{"OWNER_ttl", "OWNER_TTL"}}},
		{"missing underscore", []string{"OWNER_RENEWINTERVAL=1s"}, []Warning{{"OWNER_RENEWINTERVAL", "OWNER_RENEW_INTERVAL"}}},
		{"swapped letters", []string{"OWNER_LEASE_PAHT=/x"}, []Warning{{"OWNER_LEASE_PAHT", "OWNER_LEASE_PATH"}}},
		{"plural", []string{"OWNER_ENDPOINTS=x"}, []Warning{{"OWNER_ENDPOINTS", "OWNER_ENDPOINT"}}},
		{"several, sorted, among unrelated ones", []string{"OWNER_TTLS=1s", "OWNER_EMAIL=x", "OWNER_BAKEND=x", "PATH=/bin"},
			[]Warning{{"OWNER_BAKEND", "OWNER_BACKEND"}, {"OWNER_TTLS", "OWNER_TTL"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, warnings, err := LoadWithWarnings(Options{Environ: tc.environ, App: "app"})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(warnings, tc.want) {
				t.Fatalf("warnings %v, want %v", warnings, tc.want)
			}
			if cfg.TTL != DefaultTTL || cfg.Endpoint != "" || cfg.Backend != "" {
				t.Fatalf("an unknown variable was read: %+v", cfg)
			}
			if _, err := Load(Options{Environ: tc.environ, App: "app"}); err != nil {
				t.Fatalf("Load: %v", err)
			}
		})
	}
}

// An application's own prefix reads only its own variables, from the
// environment and from a .env file, and names them in warnings and errors.
func TestEnvPrefix(t *testing.T) {
	environ := []string{"OWNER_TTL=30s", "OWNER_TLL=1s", "MYAPP_OWNER_TTL=7s", "MYAPP_OWNER_ENDPOINTS=x", "OTHER_OWNER_BACKEND=b"}
	cfg, warnings, err := LoadWithWarnings(Options{EnvPrefix: "MYAPP_OWNER_", Environ: environ, App: "app"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TTL != 7*time.Second || cfg.Backend != "" || cfg.Endpoint != "" {
		t.Fatalf("MYAPP_OWNER_: %+v", cfg)
	}
	if want := []Warning{{"MYAPP_OWNER_ENDPOINTS", "MYAPP_OWNER_ENDPOINT"}}; !slices.Equal(warnings, want) {
		t.Fatalf("warnings %v, want %v", warnings, want)
	}

	// Two leases in one process, one environment: each reads its own.
	cfg, _, err = LoadWithWarnings(Options{EnvPrefix: "OTHER_OWNER_", Environ: environ, App: "app"})
	if err != nil || cfg.Backend != "b" || cfg.TTL != DefaultTTL {
		t.Fatalf("OTHER_OWNER_: %+v %v", cfg, err)
	}
	// The default prefix does not read the others' variables.
	cfg, warnings, err = LoadWithWarnings(Options{Environ: environ, App: "app"})
	if err != nil || cfg.TTL != 30*time.Second || cfg.Backend != "" {
		t.Fatalf("OWNER_: %+v %v", cfg, err)
	}
	if want := []Warning{{"OWNER_TLL", "OWNER_TTL"}}; !slices.Equal(warnings, want) {
		t.Fatalf("warnings %v, want %v", warnings, want)
	}

	dotenv := writeFile(t, "owner.env", "MYAPP_OWNER_RENEW_INTERVAL=2s\nOWNER_TTL=1s\n")
	cfg, err = Load(Options{EnvPrefix: "MYAPP_OWNER_", File: dotenv, Environ: []string{}, App: "app"})
	if err != nil || cfg.RenewInterval != 2*time.Second || cfg.TTL != DefaultTTL {
		t.Fatalf(".env with MYAPP_OWNER_: %+v %v", cfg, err)
	}

	for _, tc := range []struct {
		name   string
		prefix string
		file   string // a .env body, or "" for none
		env    []string
		want   []string
	}{
		{"bad value", "MYAPP_OWNER_", "", []string{"MYAPP_OWNER_TTL=10"}, []string{"environment", `MYAPP_OWNER_TTL = "10"`, "unit"}},
		{"relative path", "MYAPP_OWNER_", "", []string{"MYAPP_OWNER_LEASE_PATH=x.lease"}, []string{"environment", "MYAPP_OWNER_LEASE_PATH", "is relative"}},
		{"unknown in .env", "MYAPP_OWNER_", "MYAPP_OWNER_TLL=1s\n", nil, []string{"owner.env", "unknown variable MYAPP_OWNER_TLL", "known: MYAPP_OWNER_LEASE_PATH, MYAPP_OWNER_TTL"}},
		{"dash", "MY-APP_", "", nil, []string{`Options.EnvPrefix = "MY-APP_"`, "letters, digits and underscores"}},
		{"leading digit", "1APP_", "", nil, []string{`Options.EnvPrefix = "1APP_"`}},
		{"equals sign", "A=", "", nil, []string{`Options.EnvPrefix = "A="`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := Options{EnvPrefix: tc.prefix, Environ: tc.env, App: "app"}
			if opts.Environ == nil {
				opts.Environ = []string{}
			}
			if tc.file != "" {
				opts.File = writeFile(t, "owner.env", tc.file)
			}
			loadFails(t, opts, tc.want...)
		})
	}
	if cfg, err := Load(Options{EnvPrefix: "app2_owner_", Environ: []string{"app2_owner_TTL=3s"}, App: "app"}); err != nil || cfg.TTL != 3*time.Second {
		t.Errorf("a lower-case prefix: %+v %v", cfg, err)
	}
}

func TestWarningString(t *testing.T) {
	got := Warning{Variable: "OWNER_TLL", Closest: "OWNER_TTL"}.String()
	want := "config: environment: unknown variable OWNER_TLL ignored; did you mean OWNER_TTL?"
	if got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"TTL", "TTL", 0},
		{"TLL", "TTL", 1},
		{"TLT", "TTL", 1}, // a swap
		{"TT", "TTL", 1},
		{"TTLS", "TTL", 1},
		{"", "TTL", 3},
		{"EMAIL", "TTL", 4},
		{"RENEWINTERVAL", "RENEW_INTERVAL", 1},
		{"ENDPIONT", "ENDPOINT", 1},
		{"CA", "ABC", 3}, // optimal string alignment, not full Damerau
	} {
		if got := editDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := editDistance(tc.b, tc.a); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.b, tc.a, got, tc.want)
		}
	}
}

func TestDefaultLeasePath(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "/state")
	a, _ := DefaultLeasePath("app", "/data/one")
	b, _ := DefaultLeasePath("app", "/data/two")
	c, _ := DefaultLeasePath("app", "/data/one/")
	if a == b || a != c || !strings.HasPrefix(a, filepath.Join("/state", "leasehold", "app")+string(filepath.Separator)) {
		t.Fatalf("paths %q %q %q", a, b, c)
	}
	if p, _ := DefaultLeasePath("app", ""); p != filepath.Join("/state", "leasehold", "app", "owner.lease") {
		t.Fatalf("no data root: %q", p)
	}
}

// The configuration file shipped with the project loads, and says what the
// defaults say.
func TestShippedConfig(t *testing.T) {
	got, err := Load(Options{File: "../configs/owner.yaml", Environ: []string{}, App: "app"})
	if err != nil {
		t.Fatal(err)
	}
	if got.TTL != DefaultTTL || got.RenewInterval != DefaultTTL/3 || got.AllowNetworkFS {
		t.Fatalf("configs/owner.yaml: %+v", got)
	}
}

// loadFails asserts that Load refuses opts with an error that says each
// of want.
func loadFails(t *testing.T, opts Options, want ...string) {
	t.Helper()
	_, err := Load(opts)
	if err == nil {
		t.Fatal("Load succeeded")
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
}
