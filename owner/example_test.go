package owner_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/leasehold/leasehold/lease"
	"github.com/leasehold/leasehold/owner"
)

// Join, and check ownership right before each use of the owned state.
func ExampleJoin() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)

	o, err := owner.Join(context.Background(), owner.Config{
		LeasePath: filepath.Join(dir, "owner.lease"),
		TTL:       2 * time.Second,
		Endpoint:  "unix:///run/app.sock",
	})
	if err != nil {
		log.Fatal(err)
	}
	defer o.Release()

	if err := o.Check(); err == nil {
		// Owned state may be touched now; pass o.Epoch() along with each
		// write so the resource can refuse a stale owner.
		fmt.Println(o.Role(), "at epoch", o.Epoch())
	}
	// Output: owner at epoch 1
}

// A follower learns who owns and where to reach it, follows every change,
// and takes over when the owner goes.
func ExampleOwner_Changed() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	cfg := owner.Config{LeasePath: filepath.Join(dir, "owner.lease"), TTL: 2 * time.Second}

	cfg.Endpoint = "unix:///run/first.sock"
	first, _ := owner.Join(context.Background(), cfg)
	cfg.Endpoint = "unix:///run/second.sock"
	second, _ := owner.Join(context.Background(), cfg)
	defer second.Release()

	changed := second.Changed()
	fmt.Println(second.Role(), "of", second.Endpoint())

	first.Release() // a clean handover: no TTL to wait for
	<-changed
	<-second.Acquired()
	fmt.Println(second.Role(), "of", second.Endpoint(), "at epoch", second.Epoch())
	// Output:
	// follower of unix:///run/first.sock
	// owner of unix:///run/second.sock at epoch 2
}

// Run the election on a lease.Store of one's choosing: here the file store,
// opened by hand; a store backed by another engine is used the same way.
func ExampleJoinStore() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)

	store, err := lease.Open(filepath.Join(dir, "owner.lease"), lease.Options{TTL: 2 * time.Second})
	if err != nil {
		log.Fatal(err)
	}
	o, err := owner.JoinStore(context.Background(), owner.Config{TTL: 2 * time.Second}, store)
	if err != nil {
		log.Fatal(err)
	}
	defer o.Release() // closes the store too
	fmt.Println(o.Role(), "at epoch", o.Epoch())
	// Output: owner at epoch 1
}

// Read the numbers an operator graphs and alerts on.
func ExampleOwner_Stats() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)

	o, err := owner.Join(context.Background(), owner.Config{LeasePath: filepath.Join(dir, "owner.lease"), TTL: 2 * time.Second})
	if err != nil {
		log.Fatal(err)
	}
	defer o.Release()

	s := o.Stats()
	fmt.Println(s.Role, "at epoch", s.Epoch, "acquired", s.Acquisitions, "renewed", s.Renewals)
	fmt.Println("lease ends within the TTL:", s.Deadline.Sub(s.At) <= o.Config().TTL)
	fmt.Println("lost:", s.Lost())
	// Output:
	// owner at epoch 1 acquired 1 renewed 0
	// lease ends within the TTL: true
	// lost: false
}

// A frontend finds the owner's endpoint without joining the election.
func ExampleObserve() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	cfg := owner.Config{LeasePath: filepath.Join(dir, "owner.lease"), TTL: 2 * time.Second, Endpoint: "http://127.0.0.1:8080"}
	o, err := owner.Join(context.Background(), cfg) // the application, elsewhere
	if err != nil {
		log.Fatal(err)
	}
	defer o.Release()

	obs, err := owner.Observe(owner.Config{LeasePath: cfg.LeasePath})
	if err != nil {
		log.Fatal(err)
	}
	defer obs.Close()
	got, err := obs.Read(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	if got.State == lease.StateLive {
		fmt.Println("owner at", got.Record.Meta[owner.EndpointMetaKey], "epoch", got.Record.Epoch)
	}
	// Output: owner at http://127.0.0.1:8080 epoch 1
}
