// Package config loads an owner.Config from defaults, a file and the
// environment, with github.com/knadh/koanf.
//
// Layers, later wins: the defaults; a file, YAML (.yaml, .yml) with the keys
// under "owner:", or dotenv (.env) with the same variables as the
// environment; then the process environment. The variables start with
// OWNER_, or with the prefix an application gives in Options.EnvPrefix
// (MYAPP_OWNER_TTL), so that two libraries or two leases in one process
// never read each other's.
//
//	YAML key                variable                default
//	owner.lease_path        OWNER_LEASE_PATH        see DefaultLeasePath
//	owner.ttl               OWNER_TTL               5s
//	owner.renew_interval    OWNER_RENEW_INTERVAL    ttl/3
//	owner.endpoint          OWNER_ENDPOINT          ""
//	owner.backend           OWNER_BACKEND           ""
//	owner.allow_network_fs  OWNER_ALLOW_NETWORK_FS  false
//	owner.store             OWNER_STORE             file; etcd and its settings: see Store
//
// Load and LoadWithWarnings return the settings of the file store, and
// refuse a configuration that selects another; LoadStore returns the
// store selected, for a program that can open it.
// A relative lease path in a file is taken from the directory of that file,
// as docker compose does with the paths in its files, so that every process
// that reads the file uses the same lease whatever its working directory.
// Symbolic links to the file are followed first, so that a link elsewhere
// does not make a second lease. In the environment, which has no such
// directory, a relative path is an error. Load returns an absolute, cleaned
// LeasePath.
//
// A lease on a network file system is refused when it is opened (by
// owner.Join or owner.New, see lease.ErrNetworkFS); allow_network_fs: true
// lifts the refusal, for a file system known to give the guarantees of a
// local disk.
//
// Durations are strings with a unit ("10s", "500ms"); a bare number is an
// error, not nanoseconds. In a file, an unknown key under owner: or an
// unknown variable with the prefix (.env) is an error, so that a typo does
// not pass silently: the file is the application's. The environment belongs
// to the whole machine, so an unknown variable with the prefix there is
// ignored, and reported as a [Warning] by [LoadWithWarnings] when its name
// is close to a known one (OWNER_TLL for OWNER_TTL). Every error names the
// source (the file or "environment"), the key and the bad value.
package config

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/knadh/koanf/parsers/dotenv"
	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"

	"github.com/leasehold/leasehold/owner"
)

// EnvPrefix starts every environment variable this package reads, unless
// Options.EnvPrefix names another prefix.
const EnvPrefix = "OWNER_"

// Section is the YAML key under which the settings live.
const Section = "owner"

// DefaultTTL is the lease duration when none is configured.
const DefaultTTL = 5 * time.Second

// Options says where Load looks.
type Options struct {
	// File is a YAML or dotenv file, chosen by its extension; "" for none.
	File string
	// Environ is the environment, as os.Environ returns it; nil means
	// os.Environ().
	Environ []string
	// App names the application in the default lease path; "" means the
	// executable's name.
	App string
	// DataRoot, if set, makes the default lease path one per data root:
	// instances that share a data root elect one owner.
	DataRoot string
	// EnvPrefix starts the names of the variables read from the
	// environment and from a .env file, such as "MYAPP_OWNER_" for
	// MYAPP_OWNER_TTL; "" means EnvPrefix, "OWNER_". Give each library or
	// lease in a process its own, so that none reads another's variables.
	// Letters, digits and underscores, not starting with a digit.
	EnvPrefix string
}

// envPrefix returns the prefix that opts says.
func (opts Options) envPrefix() (string, error) {
	p := opts.EnvPrefix
	if p == "" {
		return EnvPrefix, nil
	}
	for i, r := range p {
		if !(r == '_' || 'A' <= r && r <= 'Z' || 'a' <= r && r <= 'z' || i > 0 && '0' <= r && r <= '9') {
			return "", fmt.Errorf("config: Options.EnvPrefix = %q must be letters, digits and underscores, not starting with a digit", p)
		}
	}
	return p, nil
}

// loaded is what the layers set.
type loaded struct {
	owner.Config
	store Store
}

// A key is one setting, by its YAML key and its variable.
type key struct {
	yaml, env string
	boolean   bool // true or false; YAML may write it unquoted
	set       func(c *loaded, s setting) error
	list      bool // a YAML list, or a comma-separated variable
	envOnly   bool // a secret: read from the environment only
}

var keys = append([]key{
	{yaml: "lease_path", env: "LEASE_PATH", set: func(c *loaded, s setting) error {
		p, err := leasePath(s.value, s.dir)
		c.LeasePath = p
		return err
	}},
	{yaml: "ttl", env: "TTL", set: func(c *loaded, s setting) error {
		d, err := duration(s.value)
		if err == nil && d <= 0 {
			err = errors.New("must be positive")
		}
		c.TTL = d
		return err
	}},
	{yaml: "renew_interval", env: "RENEW_INTERVAL", set: func(c *loaded, s setting) error {
		d, err := duration(s.value)
		if err == nil && d < 0 {
			err = errors.New("must not be negative")
		}
		c.RenewInterval = d
		return err
	}},
	{yaml: "endpoint", env: "ENDPOINT", set: func(c *loaded, s setting) error { c.Endpoint = s.value; return nil }},
	{yaml: "backend", env: "BACKEND", set: func(c *loaded, s setting) error { c.Backend = s.value; return nil }},
	{yaml: "allow_network_fs", env: "ALLOW_NETWORK_FS", boolean: true, set: func(c *loaded, s setting) error {
		b, err := strconv.ParseBool(s.value)
		if err != nil {
			return errors.New("is not true or false")
		}
		c.AllowNetworkFS = b
		return nil
	}},
}, storeKeys...)

// leasePath makes a configured lease path absolute: a relative one is
// taken from dir, the directory of the file that gave it; "" for the
// environment, where it is an error.
func leasePath(v, dir string) (string, error) {
	switch {
	case v == "":
		return "", errors.New("must not be empty")
	case filepath.IsAbs(v):
		return filepath.Clean(v), nil
	case dir != "":
		return filepath.Join(dir, v), nil
	}
	const msg = "is relative, and the environment has no directory to take it from, so each process would take its own; write an absolute path"
	if abs, err := filepath.Abs(v); err == nil {
		return "", fmt.Errorf("%s, such as %q", msg, abs)
	}
	return "", errors.New(msg)
}

func duration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, errors.New("is not a duration with a unit, such as \"10s\" or \"500ms\"")
	}
	return d, nil
}

// setting is a value and where it came from.
type setting struct {
	value  string
	source string // "environment", or the file
	name   string // the key as written there
	dir    string // the file's directory, for relative paths; "" for the environment
}

// A Warning is a variable of the environment that Load ignored although
// its name is close to one it reads: likely a typo.
type Warning struct {
	// Variable is the name found in the environment, such as OWNER_TLL.
	Variable string
	// Closest is the variable Load reads that it is closest to, such as
	// OWNER_TTL.
	Closest string
}

// String says what happened in one line, for a person.
func (w Warning) String() string {
	return fmt.Sprintf("config: environment: unknown variable %s ignored; did you mean %s?", w.Variable, w.Closest)
}

// Load returns the configuration from the layers in opts, validated, with
// defaults applied. It drops the warnings; an application that can show
// them calls LoadWithWarnings.
func Load(opts Options) (owner.Config, error) {
	cfg, _, err := LoadWithWarnings(opts)
	return cfg, err
}

// LoadWithWarnings is Load, and also returns a Warning, in the order of
// their names, for each variable of the environment that it ignored but
// whose name is close to one it reads. The warnings are for the caller to
// show; they are nil when there is an error.
func LoadWithWarnings(opts Options) (owner.Config, []Warning, error) {
	prefix, err := opts.envPrefix()
	if err != nil {
		return owner.Config{}, nil, err
	}
	path, err := DefaultLeasePath(opts.App, opts.DataRoot)
	if err != nil {
		return owner.Config{}, nil, err
	}
	cfg, store, warnings, err := load(opts, prefix, path)
	if err != nil {
		return owner.Config{}, nil, err
	}
	if store.Kind != StoreFile {
		// Opening the file store instead would elect a second owner.
		return owner.Config{}, nil, fmt.Errorf("config: the store is %s, but this program opens the file store only (config.Load); it must load with config.LoadStore and open that store", store.Kind)
	}
	return cfg, warnings, nil
}

// load reads the layers of opts and checks what they set.
func load(opts Options, prefix, path string) (owner.Config, Store, []Warning, error) {
	var c loaded
	cfg := &c.Config
	*cfg = owner.Config{LeasePath: path, TTL: DefaultTTL}
	c.store.Kind = StoreFile
	got := map[string]setting{}
	fail := func(err error) (owner.Config, Store, []Warning, error) { return owner.Config{}, Store{}, nil, err }
	if opts.File != "" {
		if err := loadFile(opts.File, prefix, got); err != nil {
			return fail(err)
		}
	}
	environ := opts.Environ
	if environ == nil {
		environ = os.Environ()
	}
	warnings, err := loadEnv(environ, prefix, "environment", "", got)
	if err != nil {
		return fail(err)
	}
	for _, k := range keys {
		s, ok := got[k.yaml]
		if !ok {
			continue
		}
		if err := k.set(&c, s); err != nil {
			return fail(fmt.Errorf("config: %s: %s = %q %v", s.source, s.name, s.value, err))
		}
	}
	if cfg.RenewInterval >= cfg.TTL {
		r, t := got["renew_interval"], got["ttl"]
		return fail(fmt.Errorf("config: %s = %v (%s) must be shorter than %s = %v (%s)",
			or(r.name, "renew_interval"), cfg.RenewInterval, or(r.source, "default"),
			or(t.name, "ttl"), cfg.TTL, or(t.source, "default")))
	}
	if err := c.store.check(cfg.TTL, got); err != nil {
		return fail(err)
	}
	abs, err := filepath.Abs(cfg.LeasePath)
	if err != nil {
		return fail(fmt.Errorf("config: lease path %s: %w", cfg.LeasePath, err))
	}
	cfg.LeasePath = abs
	if *cfg, err = cfg.Validate(); err != nil {
		return fail(err)
	}
	return *cfg, c.store, warnings, nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func loadFile(path, prefix string, got map[string]setting) error {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".yaml", ".yml":
		k := koanf.New(".")
		if err := k.Load(file.Provider(path), yaml.Parser()); err != nil {
			return fmt.Errorf("config: %s: %w", path, err)
		}
		dir, err := dirOf(path)
		if err != nil {
			return err
		}
		if !k.Exists(Section) {
			return nil
		}
		if _, ok := k.Get(Section).(map[string]any); !ok {
			return fmt.Errorf("config: %s: %s must be a mapping of settings, got %v", path, Section, k.Get(Section))
		}
		for name, v := range k.Cut(Section).All() {
			full := Section + "." + name
			k, ok := lookup(name)
			if !ok {
				return fmt.Errorf("config: %s: unknown key %s (known: %s)", path, full, knownYAML())
			}
			if k.envOnly {
				return fmt.Errorf("config: %s: %s is a secret: give it in the environment (%s%s), not in a file", path, full, prefix, k.env)
			}
			s, ok := text(v, k.boolean, k.list)
			if !ok && k.list {
				return fmt.Errorf("config: %s: %s = %v is %s; write a list of strings", path, full, v, kindOf(v))
			}
			if !ok && k.boolean {
				return fmt.Errorf("config: %s: %s = %v is %s; write true or false", path, full, v, kindOf(v))
			}
			if !ok {
				return fmt.Errorf("config: %s: %s = %v is %s; write a string (durations need a unit, such as \"10s\")", path, full, v, kindOf(v))
			}
			got[name] = setting{value: s, source: path, name: full, dir: dir}
		}
		return nil
	case ".env":
		k := koanf.New(".")
		if err := k.Load(file.Provider(path), dotenv.Parser()); err != nil {
			return fmt.Errorf("config: %s: %w", path, err)
		}
		dir, err := dirOf(path)
		if err != nil {
			return err
		}
		var environ []string
		for name, v := range k.All() {
			environ = append(environ, fmt.Sprintf("%s=%v", name, v))
		}
		_, err = loadEnv(environ, prefix, path, dir, got)
		return err
	default:
		return fmt.Errorf("config: %s: unknown file type %q; use .yaml, .yml or .env", path, ext)
	}
}

// dirOf returns the directory of the file at path, absolute and after
// following symbolic links: the one file, however a process named it.
func dirOf(path string) (string, error) {
	real, err := filepath.EvalSymlinks(path)
	if err == nil {
		real, err = filepath.Abs(real)
	}
	if err != nil {
		return "", fmt.Errorf("config: %s: %w", path, err)
	}
	return filepath.Dir(real), nil
}

// loadEnv reads the variables of environ that start with prefix, which
// come from source:
// "environment" (dir is ""), or a .env file in dir. An unknown variable is an error in
// a file, which is the application's; the environment belongs to the whole
// machine, so there it is ignored, with a warning if its name is close to
// a known one.
func loadEnv(environ []string, prefix, source, dir string, got map[string]setting) ([]Warning, error) {
	k := koanf.New(".")
	err := k.Load(env.Provider(".", env.Opt{
		Prefix:      prefix,
		EnvironFunc: func() []string { return environ },
	}), nil)
	if err != nil {
		return nil, fmt.Errorf("config: %s: %w", source, err)
	}
	var warnings []Warning
	for name, v := range k.All() {
		if k, ok := lookupEnv(name, prefix); ok {
			if k.envOnly && dir != "" {
				return nil, fmt.Errorf("config: %s: %s is a secret: give it in the environment, not in a file", source, name)
			}
			got[k.yaml] = setting{value: fmt.Sprint(v), source: source, name: name, dir: dir}
			continue
		}
		if fromFile := dir != ""; fromFile {
			return nil, fmt.Errorf("config: %s: unknown variable %s (known: %s)", source, name, knownEnv(prefix))
		}
		if c, ok := closest(name, prefix); ok {
			warnings = append(warnings, Warning{Variable: name, Closest: c})
		}
	}
	slices.SortFunc(warnings, func(a, b Warning) int { return strings.Compare(a.Variable, b.Variable) })
	return warnings, nil
}

// closest returns the known variable that name is a likely typo of: one
// within a few edits of it (one for a short name, a quarter of its length
// for a longer one), ignoring case.
func closest(name, prefix string) (string, bool) {
	got := strings.ToUpper(strings.TrimPrefix(name, prefix))
	best, bestD := "", -1
	for _, k := range keys {
		d := editDistance(got, k.env)
		if d <= max(1, len(k.env)/4) && (bestD < 0 || d < bestD) {
			best, bestD = prefix+k.env, d
		}
	}
	return best, bestD >= 0
}

// editDistance is the number of insertions, deletions, substitutions and
// swaps of adjacent bytes that turn a into b (optimal string alignment).
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1) // row i-2
	prev := make([]int, len(b)+1)  // row i-1
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

func kindOf(v any) string {
	switch v.(type) {
	case int, int64, uint64, float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	case nil:
		return "empty"
	}
	return fmt.Sprintf("a %T", v)
}

// lookupEnv returns the key whose variable is name.
func lookupEnv(name, prefix string) (key, bool) {
	i := slices.IndexFunc(keys, func(k key) bool { return prefix+k.env == name })
	if i < 0 {
		return key{}, false
	}
	return keys[i], true
}

func lookup(yamlKey string) (key, bool) {
	i := slices.IndexFunc(keys, func(k key) bool { return k.yaml == yamlKey })
	if i < 0 {
		return key{}, false
	}
	return keys[i], true
}

// text returns the YAML value v as the text a variable would hold: v must
// be a string, or for a boolean key also true or false, or for a list key
// a list of strings (joined with commas).
func text(v any, boolean, list bool) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case bool:
		return strconv.FormatBool(v), boolean
	case []any:
		if !list {
			return "", false
		}
		var items []string
		for _, item := range v {
			s, ok := item.(string)
			if !ok || strings.Contains(s, ",") {
				return "", false
			}
			items = append(items, s)
		}
		return strings.Join(items, ","), true
	}
	return "", false
}

func knownYAML() string {
	var s []string
	for _, k := range keys {
		if !k.envOnly {
			s = append(s, k.yaml)
		}
	}
	return strings.Join(s, ", ")
}

func knownEnv(prefix string) string {
	var s []string
	for _, k := range keys {
		s = append(s, prefix+k.env)
	}
	return strings.Join(s, ", ")
}

// DefaultLeasePath returns where the lease lives when no path is
// configured: under the user's state directory ($XDG_STATE_HOME, else
// ~/.local/state, on Linux; the user cache directory elsewhere), in
// leasehold/<app>/, with a file per data root (named after a hash of its
// absolute path) or owner.lease without one. So every user, and every data
// root, has its own owner.
func DefaultLeasePath(app, dataRoot string) (string, error) {
	if app == "" {
		exe, err := os.Executable()
		if err != nil {
			return "", fmt.Errorf("config: name the app: %w", err)
		}
		app = strings.TrimSuffix(filepath.Base(exe), filepath.Ext(exe))
	}
	base, err := stateDir()
	if err != nil {
		return "", err
	}
	name := "owner.lease"
	if dataRoot != "" {
		abs, err := filepath.Abs(dataRoot)
		if err != nil {
			return "", fmt.Errorf("config: data root %s: %w", dataRoot, err)
		}
		sum := sha256.Sum256([]byte(abs))
		name = "owner-" + hex.EncodeToString(sum[:8]) + ".lease"
	}
	return filepath.Join(base, "leasehold", app, name), nil
}

func stateDir() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return d, nil
	}
	if home, err := os.UserHomeDir(); err == nil && isLinux() {
		return filepath.Join(home, ".local", "state"), nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("config: no directory for the lease: %w", err)
	}
	return d, nil
}
