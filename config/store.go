package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/leasehold/leasehold/owner"
)

// The stores a configuration can select.
const (
	// StoreFile is the file lease of package lease: processes on one
	// machine, no daemon. The default.
	StoreFile = "file"
	// StoreEtcd is a lease kept in an etcd cluster, for processes on many
	// machines; it is opened by the module github.com/leasehold/leasehold/etcdlease.
	StoreEtcd = "etcd"
)

// DefaultEtcdDialTimeout is how long a connection to etcd may take to be
// made when none is configured.
const DefaultEtcdDialTimeout = 5 * time.Second

// Store is the lease store a configuration selects, with its settings. This
// package does not open it: the application does, or ownerfx with the
// opener the application provides, so that a program that uses the file
// store never links a client of etcd.
//
//	YAML key                 variable                 default
//	owner.store              OWNER_STORE              file
//	owner.etcd.endpoints     OWNER_ETCD_ENDPOINTS     (required for etcd; a list, or comma-separated)
//	owner.etcd.key           OWNER_ETCD_KEY           (required for etcd)
//	owner.etcd.dial_timeout  OWNER_ETCD_DIAL_TIMEOUT  5s
//	owner.etcd.ca_file       OWNER_ETCD_CA_FILE       ""
//	owner.etcd.cert_file     OWNER_ETCD_CERT_FILE     ""
//	owner.etcd.key_file      OWNER_ETCD_KEY_FILE      ""
//	owner.etcd.username      OWNER_ETCD_USERNAME      ""
//	(environment only)       OWNER_ETCD_PASSWORD      ""
//
// The password is a secret: it is read from the environment only, and a
// file that gives one is refused. Relative file paths in a file are taken
// from its directory, as the lease path is.
type Store struct {
	// Kind is StoreFile or StoreEtcd.
	Kind string
	// Etcd is set when Kind is StoreEtcd.
	Etcd Etcd
}

// Etcd is how to reach an etcd cluster, and the key of the lease in it.
type Etcd struct {
	Endpoints   []string
	Key         string
	DialTimeout time.Duration
	// CAFile verifies the servers; CertFile and KeyFile, given together,
	// authenticate this client. Empty for none.
	CAFile, CertFile, KeyFile string
	// Username and Password authenticate to etcd's auth, if enabled.
	Username, Password string
}

var storeKeys = []key{
	{yaml: "store", env: "STORE", set: func(c *loaded, s setting) error {
		switch s.value {
		case StoreFile, StoreEtcd:
			c.store.Kind = s.value
			return nil
		}
		return fmt.Errorf("is not a store: write %s or %s", StoreFile, StoreEtcd)
	}},
	{yaml: "etcd.endpoints", env: "ETCD_ENDPOINTS", list: true, set: func(c *loaded, s setting) error {
		c.store.Etcd.Endpoints = nil
		for _, e := range strings.Split(s.value, ",") {
			e = strings.TrimSpace(e)
			if err := checkEndpoint(e); err != nil {
				return err
			}
			c.store.Etcd.Endpoints = append(c.store.Etcd.Endpoints, e)
		}
		return nil
	}},
	{yaml: "etcd.key", env: "ETCD_KEY", set: func(c *loaded, s setting) error {
		if s.value == "" {
			return errors.New("must not be empty")
		}
		c.store.Etcd.Key = s.value
		return nil
	}},
	{yaml: "etcd.dial_timeout", env: "ETCD_DIAL_TIMEOUT", set: func(c *loaded, s setting) error {
		d, err := duration(s.value)
		if err == nil && d <= 0 {
			err = errors.New("must be positive")
		}
		c.store.Etcd.DialTimeout = d
		return err
	}},
	fileKey("etcd.ca_file", "ETCD_CA_FILE", func(e *Etcd) *string { return &e.CAFile }),
	fileKey("etcd.cert_file", "ETCD_CERT_FILE", func(e *Etcd) *string { return &e.CertFile }),
	fileKey("etcd.key_file", "ETCD_KEY_FILE", func(e *Etcd) *string { return &e.KeyFile }),
	{yaml: "etcd.username", env: "ETCD_USERNAME", set: func(c *loaded, s setting) error { c.store.Etcd.Username = s.value; return nil }},
	{yaml: "etcd.password", env: "ETCD_PASSWORD", envOnly: true, set: func(c *loaded, s setting) error { c.store.Etcd.Password = s.value; return nil }},
}

// checkEndpoint accepts host:port, or a URL with the http or https scheme.
func checkEndpoint(e string) error {
	if e == "" {
		return errors.New("has an empty endpoint")
	}
	if strings.Contains(e, "://") {
		u, err := url.Parse(e)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("has %q, which is neither host:port nor an http(s) URL", e)
		}
		return nil
	}
	if i := strings.LastIndex(e, ":"); i <= 0 || i == len(e)-1 {
		return fmt.Errorf("has %q, which is neither host:port nor an http(s) URL", e)
	}
	return nil
}

// fileKey is the key of a file path of the etcd settings, field: made
// absolute as the lease path is; an empty one is none.
func fileKey(yaml, env string, field func(*Etcd) *string) key {
	return key{yaml: yaml, env: env, set: func(c *loaded, s setting) error {
		if s.value == "" {
			*field(&c.store.Etcd) = ""
			return nil
		}
		p, err := leasePath(s.value, s.dir)
		*field(&c.store.Etcd) = p
		return err
	}}
}

// check completes and checks the settings of the store selected, whose
// TTL is ttl; got says where each came from.
func (st *Store) check(ttl time.Duration, got map[string]setting) error {
	if st.Kind != StoreEtcd {
		for _, k := range storeKeys {
			if s, ok := got[k.yaml]; ok && strings.HasPrefix(k.yaml, "etcd.") {
				return fmt.Errorf("config: %s: %s is set, but the store is %s; set store: %s to use etcd", s.source, s.name, st.Kind, StoreEtcd)
			}
		}
		st.Etcd = Etcd{}
		return nil
	}
	where := func(yamlKey string) string {
		if s, ok := got[yamlKey]; ok {
			return s.source + ": " + s.name
		}
		return "owner." + yamlKey
	}
	e := &st.Etcd
	switch {
	case len(e.Endpoints) == 0:
		return fmt.Errorf("config: the store is etcd, but %s is not set (OWNER_ETCD_ENDPOINTS, or etcd.endpoints in the file)", where("etcd.endpoints"))
	case e.Key == "":
		return fmt.Errorf("config: the store is etcd, but %s is not set (OWNER_ETCD_KEY, or etcd.key in the file)", where("etcd.key"))
	case (e.CertFile == "") != (e.KeyFile == ""):
		return fmt.Errorf("config: %s and %s go together: give both or neither", where("etcd.cert_file"), where("etcd.key_file"))
	case e.Password != "" && e.Username == "":
		return fmt.Errorf("config: %s is set without %s", where("etcd.password"), where("etcd.username"))
	}
	if e.DialTimeout == 0 {
		e.DialTimeout = DefaultEtcdDialTimeout
	}
	// etcd leases are whole seconds, and the server refuses less than its
	// minimum, 2 s with its default settings.
	if ttl%time.Second != 0 || ttl < 2*time.Second {
		t := got["ttl"]
		return fmt.Errorf("config: %s = %v (%s): etcd leases are whole seconds, 2s at least; write such a TTL for the etcd store",
			or(t.name, "ttl"), ttl, or(t.source, "default"))
	}
	return nil
}

// LoadStore is LoadWithWarnings for a program that can open the store the
// configuration selects: it also returns that store and its settings.
func LoadStore(opts Options) (owner.Config, Store, []Warning, error) {
	prefix, err := opts.envPrefix()
	if err != nil {
		return owner.Config{}, Store{}, nil, err
	}
	path, err := DefaultLeasePath(opts.App, opts.DataRoot)
	if err != nil {
		return owner.Config{}, Store{}, nil, err
	}
	return load(opts, prefix, path)
}
