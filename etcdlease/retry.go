package etcdlease

import (
	"context"
	"errors"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// call makes one request to etcd with f, within Options.RequestTimeout,
// asking for a member with a leader (clientv3.WithRequireLeader). It
// makes it in tries of half that time each, and tries again while etcd
// could not serve it (no leader, no connection, an expired token) or a
// try ran out of time: a member cut off from the others holds a request
// until it finds itself without a leader, which should cost a try, not
// the request; the client sends the next try to the next member. f must
// be safe to repeat.
func (s *Store) call(ctx context.Context, f func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(clientv3.WithRequireLeader(ctx), s.opts.RequestTimeout)
	defer cancel()
	for {
		tctx, tcancel := context.WithTimeout(ctx, s.opts.RequestTimeout/2)
		err := f(tctx)
		late := tctx.Err() != nil
		tcancel()
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return errors.Join(err, ctx.Err())
		case late:
		case retryable(err):
			select {
			case <-time.After(retryPause):
			case <-ctx.Done():
				return errors.Join(err, ctx.Err())
			}
		default:
			return err
		}
	}
}

// retryPause is the pause before another try of a request that etcd
// could not serve.
const retryPause = 25 * time.Millisecond

// errBehind is returned by a try that reached a member which had not yet
// applied the change the caller knows of: another try may reach one that
// has.
var errBehind = errors.New("etcdlease: the member is behind")

// retryable reports whether err says that etcd could not serve a request
// that another try may get served: gRPC's Unavailable (no leader, no
// connection), an expired token, a member behind.
func retryable(err error) bool {
	if errors.Is(err, errBehind) || isAuthExpired(err) {
		return true
	}
	var ee rpctypes.EtcdError
	if errors.As(rpctypes.Error(err), &ee) {
		return ee.Code() == codes.Unavailable
	}
	return status.Code(err) == codes.Unavailable
}

func isAuthExpired(err error) bool {
	return errors.Is(err, rpctypes.ErrInvalidAuthToken) || errors.Is(err, rpctypes.ErrAuthOldRevision)
}

func isLeaseNotFound(err error) bool {
	return errors.Is(rpctypes.Error(err), rpctypes.ErrLeaseNotFound)
}
