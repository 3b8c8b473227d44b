//go:build unix

package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/grpc"

	"github.com/leasehold/leasehold/internal/fleet"
	"github.com/leasehold/leasehold/internal/measure"
	"github.com/leasehold/leasehold/internal/mono"
	"github.com/leasehold/leasehold/internal/worker"
)

// keepAliveMethod is the gRPC method of etcd's lease keep-alive stream.
const keepAliveMethod = "/etcdserverpb.Lease/LeaseKeepAlive"

// renewals records, in a file of its own, when this worker's etcd lease
// was last renewed: the time on the monotonic clock (mono.Now) at which
// the latest keep-alive that etcd answered with a TTL was sent. etcd
// dates the lease's expiry from when it received that request, a little
// later. Both etcdlease and concurrency.Election renew on this stream,
// so the bench reads the same fact for both from outside the process,
// once it is frozen.
type renewals struct {
	f *os.File
}

// renewalFile is the file in dir of the worker with that pid.
func renewalFile(dir string, pid int) string { return filepath.Join(dir, strconv.Itoa(pid)) }

func newRenewals(dir string) (*renewals, error) {
	f, err := os.Create(renewalFile(dir, os.Getpid()))
	if err != nil {
		return nil, err
	}
	return &renewals{f: f}, nil
}

// intercept is a grpc.StreamClientInterceptor that watches keep-alive
// streams.
func (r *renewals) intercept(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	s, err := streamer(ctx, desc, cc, method, opts...)
	if err != nil || method != keepAliveMethod {
		return s, err
	}
	return &keepAlives{ClientStream: s, r: r}, nil
}

// keepAlives is a keep-alive stream: etcd answers its requests in order.
type keepAlives struct {
	grpc.ClientStream
	r *renewals

	mu   sync.Mutex
	sent []int64 // of the requests not yet answered
}

func (k *keepAlives) SendMsg(m any) error {
	k.mu.Lock()
	k.sent = append(k.sent, mono.Now())
	k.mu.Unlock()
	err := k.ClientStream.SendMsg(m)
	if err != nil {
		k.mu.Lock()
		k.sent = k.sent[:len(k.sent)-1]
		k.mu.Unlock()
	}
	return err
}

func (k *keepAlives) RecvMsg(m any) error {
	err := k.ClientStream.RecvMsg(m)
	if err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.sent) == 0 {
		return nil
	}
	sent := k.sent[0]
	k.sent = k.sent[1:]
	if resp, ok := m.(*pb.LeaseKeepAliveResponse); ok && resp.TTL > 0 {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], uint64(sent))
		_, _ = k.r.f.WriteAt(b[:], 0)
	}
	return nil
}

// lastRenewal is the measure.Renewal of the workers: it reads the file of
// the frozen worker w.
func lastRenewal(dir string) measure.Renewal {
	return func(_ *fleet.Fleet, w *fleet.Worker, e worker.Event) (int64, error) {
		at, err := readRenewal(dir, w.Pid())
		if err == nil && at == 0 {
			err = fmt.Errorf("worker %d (epoch %d) has recorded no renewal", w.ID, e.Epoch)
		}
		return at, err
	}
}

// readRenewal returns the renewal the process pid recorded, or 0 if none.
func readRenewal(dir string, pid int) (int64, error) {
	b, err := os.ReadFile(renewalFile(dir, pid))
	switch {
	case err != nil:
		return 0, err
	case len(b) == 0:
		return 0, nil
	case len(b) != 8:
		return 0, fmt.Errorf("renewal file of process %d: %d bytes, want 8", pid, len(b))
	}
	return int64(binary.LittleEndian.Uint64(b)), nil
}
