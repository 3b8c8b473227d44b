// Command example is the example application of the README on etcd: the
// same app as examples/app, whose configuration may select the etcd store.
// Start etcd, then the example twice, as two hosts would:
//
//	OWNER_STORE=etcd OWNER_ETCD_ENDPOINTS=127.0.0.1:2379 OWNER_ETCD_KEY=/leasehold/example OWNER_TTL=2s \
//		go run ./example -config ""
//
// See package internal/exampleapp of the leasehold module for what it
// prints and its exit codes.
package main

import (
	"github.com/leasehold/leasehold/etcdlease"
	"github.com/leasehold/leasehold/internal/exampleapp"
)

func main() { exampleapp.Main(etcdlease.Opener) }
