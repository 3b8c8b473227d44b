package config

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestLoadStore(t *testing.T) {
	dir := t.TempDir()
	yml := writeFile(t, "etcd.yaml", `
owner:
  ttl: 4s
  store: etcd
  etcd:
    endpoints: [127.0.0.1:2379, "https://10.0.0.2:2379"]
    key: /apps/x/owner
    ca_file: ca.pem
    username: app
`)
	ymlDir := filepath.Dir(yml)
	for _, tc := range []struct {
		name string
		opts Options
		want Store
	}{
		{"default is the file store", Options{Environ: []string{}, App: "app"}, Store{Kind: StoreFile}},
		{"etcd from yaml, password from the environment", Options{File: yml, Environ: []string{"OWNER_ETCD_PASSWORD=s3cret"}},
			Store{Kind: StoreEtcd, Etcd: Etcd{
				Endpoints: []string{"127.0.0.1:2379", "https://10.0.0.2:2379"}, Key: "/apps/x/owner",
				DialTimeout: DefaultEtcdDialTimeout, CAFile: filepath.Join(ymlDir, "ca.pem"), Username: "app", Password: "s3cret",
			}}},
		{"etcd from the environment", Options{App: "app", Environ: []string{
			"OWNER_STORE=etcd", "OWNER_ETCD_ENDPOINTS=a:1, b:2", "OWNER_ETCD_KEY=k", "OWNER_TTL=3s", "OWNER_ETCD_DIAL_TIMEOUT=2s",
			"OWNER_ETCD_CERT_FILE=" + filepath.Join(dir, "c.pem"), "OWNER_ETCD_KEY_FILE=" + filepath.Join(dir, "k.pem"),
		}}, Store{Kind: StoreEtcd, Etcd: Etcd{
			Endpoints: []string{"a:1", "b:2"}, Key: "k", DialTimeout: 2 * time.Second,
			CertFile: filepath.Join(dir, "c.pem"), KeyFile: filepath.Join(dir, "k.pem"),
		}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, got, _, err := LoadStore(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestLoadStoreErrors(t *testing.T) {
	etcd := []string{"OWNER_STORE=etcd", "OWNER_ETCD_ENDPOINTS=127.0.0.1:2379", "OWNER_ETCD_KEY=k", "OWNER_TTL=3s"}
	with := func(extra ...string) []string { return append(append([]string{}, etcd...), extra...) }
	secret := writeFile(t, "secret.yaml", "owner:\n  store: etcd\n  etcd:\n    password: hunter2\n")
	secretEnv := writeFile(t, "secret.env", "OWNER_ETCD_PASSWORD=hunter2\n")
	notList := writeFile(t, "notlist.yaml", "owner:\n  etcd:\n    endpoints: 5\n")
	for _, tc := range []struct {
		name    string
		opts    Options
		wantAll []string // substrings of the error
	}{
		{"unknown store", Options{App: "a", Environ: []string{"OWNER_STORE=zookeeper"}}, []string{"environment", "OWNER_STORE", "zookeeper", "file or etcd"}},
		{"no endpoints", Options{App: "a", Environ: []string{"OWNER_STORE=etcd", "OWNER_ETCD_KEY=k", "OWNER_TTL=3s"}}, []string{"etcd.endpoints", "not set"}},
		{"no key", Options{App: "a", Environ: []string{"OWNER_STORE=etcd", "OWNER_ETCD_ENDPOINTS=h:1", "OWNER_TTL=3s"}}, []string{"etcd.key", "not set"}},
		{"bad endpoint", Options{App: "a", Environ: with("OWNER_ETCD_ENDPOINTS=h:1,ftp://x")}, []string{"OWNER_ETCD_ENDPOINTS", "ftp://x"}},
		{"TTL not whole seconds", Options{App: "a", Environ: with("OWNER_TTL=2500ms")}, []string{"OWNER_TTL", "2.5s", "whole seconds"}},
		{"TTL too short for etcd", Options{App: "a", Environ: with("OWNER_TTL=1s", "OWNER_RENEW_INTERVAL=300ms")}, []string{"OWNER_TTL", "2s at least"}},
		{"default TTL named", Options{App: "a", Environ: []string{"OWNER_STORE=etcd", "OWNER_ETCD_ENDPOINTS=h:1", "OWNER_ETCD_KEY=k"}}, []string{}},
		{"cert without key", Options{App: "a", Environ: with("OWNER_ETCD_CERT_FILE=/c.pem")}, []string{"OWNER_ETCD_CERT_FILE", "etcd.key_file", "both or neither"}},
		{"password without user", Options{App: "a", Environ: with("OWNER_ETCD_PASSWORD=p")}, []string{"OWNER_ETCD_PASSWORD", "etcd.username"}},
		{"password in a yaml file", Options{File: secret, Environ: []string{}}, []string{secret, "owner.etcd.password", "secret", "OWNER_ETCD_PASSWORD"}},
		{"password in a .env file", Options{File: secretEnv, Environ: []string{}}, []string{secretEnv, "OWNER_ETCD_PASSWORD", "secret"}},
		{"endpoints not a list", Options{File: notList, Environ: []string{}}, []string{notList, "owner.etcd.endpoints", "list"}},
		{"etcd settings with the file store", Options{App: "a", Environ: []string{"OWNER_ETCD_KEY=k"}}, []string{"OWNER_ETCD_KEY", "store is file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, _, err := LoadStore(tc.opts)
			if tc.name == "default TTL named" {
				// The default TTL, 5s, is whole seconds: accepted.
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, s := range tc.wantAll {
				if !strings.Contains(err.Error(), s) {
					t.Fatalf("error %q does not say %q", err, s)
				}
			}
		})
	}
}

// Load opens nothing but the file store: a program that calls it refuses
// a configuration for etcd rather than elect a second owner on files.
func TestLoadRefusesOtherStores(t *testing.T) {
	_, err := Load(Options{App: "a", Environ: []string{"OWNER_STORE=etcd", "OWNER_ETCD_ENDPOINTS=h:1", "OWNER_ETCD_KEY=k"}})
	if err == nil || !strings.Contains(err.Error(), "config.LoadStore") {
		t.Fatalf("Load with the etcd store = %v, want an error naming config.LoadStore", err)
	}
}
