package etcdlease_test

import (
	"context"
	"log"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/leasehold/leasehold/etcdlease"
	"github.com/leasehold/leasehold/owner"
)

// One owner among the instances of a service, on three etcd members: an
// instance that owns checks before each write and passes its epoch to the
// resource; the others follow and take over.
func Example() {
	const ttl = 5 * time.Second
	store, err := etcdlease.Dial(clientv3.Config{
		Endpoints: []string{"10.0.0.1:2379", "10.0.0.2:2379", "10.0.0.3:2379"},
	}, "/leasehold/indexer", etcdlease.Options{TTL: ttl})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	o, err := owner.JoinStore(ctx, owner.Config{TTL: ttl, Endpoint: "10.0.0.7:8080"}, store)
	if err != nil {
		log.Fatal(err)
	}
	defer o.Release()
	select {
	case <-o.Acquired():
	case <-ctx.Done():
		return
	}
	for o.Check() == nil {
		write(o.Epoch()) // the resource refuses an epoch below the highest it has seen
		time.Sleep(100 * time.Millisecond)
	}
	log.Printf("no longer the owner: %v", o.LostErr())
}

func write(epoch uint64) {}
