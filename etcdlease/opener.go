package etcdlease

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/leasehold/leasehold/config"
	"github.com/leasehold/leasehold/lease"
	"github.com/leasehold/leasehold/owner"
)

// Opener opens the Store that a configuration of package config selects
// (owner.store: etcd, with owner.etcd.*): it is an ownerfx.StoreOpener.
//
//	fx.Supply(ownerfx.StoreOpener(etcdlease.Opener))
//
// It dials the endpoints with the configured dial timeout, TLS files and
// credentials, and returns a Store that owns the connection.
func Opener(cfg owner.Config, store config.Store) (lease.Store, error) {
	ccfg, err := clientConfig(store)
	if err != nil {
		return nil, err
	}
	s, err := Dial(ccfg, store.Etcd.Key, Options{TTL: cfg.TTL})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// clientConfig is the configuration of the client to the etcd that store
// selects: its endpoints, dial timeout, TLS files and credentials.
func clientConfig(store config.Store) (clientv3.Config, error) {
	if store.Kind != config.StoreEtcd {
		return clientv3.Config{}, fmt.Errorf("etcdlease: the configuration selects the %s store, not etcd", store.Kind)
	}
	e := store.Etcd
	ccfg := clientv3.Config{
		Endpoints:   e.Endpoints,
		DialTimeout: e.DialTimeout,
		Username:    e.Username,
		Password:    e.Password,
	}
	if e.CAFile != "" || e.CertFile != "" {
		t, err := tlsConfig(e)
		if err != nil {
			return clientv3.Config{}, err
		}
		ccfg.TLS = t
	}
	return ccfg, nil
}

// tlsConfig reads the TLS files of e: the CA that verifies the servers, and
// the client's certificate and key.
func tlsConfig(e config.Etcd) (*tls.Config, error) {
	t := &tls.Config{MinVersion: tls.VersionTLS12}
	if e.CAFile != "" {
		pem, err := os.ReadFile(e.CAFile)
		if err != nil {
			return nil, fmt.Errorf("etcdlease: CA file: %w", err)
		}
		t.RootCAs = x509.NewCertPool()
		if !t.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("etcdlease: CA file %s: no PEM certificate in it", e.CAFile)
		}
	}
	if e.CertFile != "" {
		if e.KeyFile == "" {
			return nil, errors.New("etcdlease: a certificate file without its key file")
		}
		cert, err := tls.LoadX509KeyPair(e.CertFile, e.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("etcdlease: client certificate %s, key %s: %w", e.CertFile, e.KeyFile, err)
		}
		t.Certificates = []tls.Certificate{cert}
	}
	return t, nil
}
