package owner

import (
	"context"
	"errors"
	"time"

	"github.com/leasehold/leasehold/lease"
)

// run is the Owner's one background goroutine: it follows until it owns,
// then renews until the tenure ends. It stops when ctx is done (Release or
// Join's context) and closes the store.
func (o *Owner) run(ctx context.Context) {
	defer close(o.done)
	defer o.store.Close()
	o.mu.Lock()
	l := o.lease
	o.mu.Unlock()
	if l == nil {
		if l = o.follow(ctx); l == nil {
			return
		}
	}
	o.lead(ctx, l)
}

// follow waits for the lease to become free and takes it. It returns nil
// when ctx is done first.
func (o *Owner) follow(ctx context.Context) lease.Lease {
	for {
		if err := o.store.Wait(ctx); err != nil {
			return nil
		}
		begin := o.clk.Now()
		l, rec, err := o.store.TryAcquire(ctx, o.candidate())
		switch {
		case err == nil:
			if o.becomeOwner(l, begin) {
				return l
			}
			return nil
		case errors.Is(err, lease.ErrHeld):
			o.setHolder(rec)
		case ctx.Err() != nil:
			return nil
		default:
			// A fault of the store (an unreadable file, a full disk): try
			// again later, at the pace of renewals.
			if !o.sleep(ctx, o.cfg.RenewInterval) {
				return nil
			}
		}
	}
}

// lead renews l every RenewInterval until the tenure ends. A failed
// renewal is retried sooner, until the deadline timer ends the tenure.
func (o *Owner) lead(ctx context.Context, l lease.Lease) {
	t := o.clk.NewTimer(o.cfg.RenewInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			o.end(l)
			return
		case <-o.lostCh:
			o.end(l)
			return
		case <-t.C():
		}
		t.Reset(o.renew(ctx, l))
	}
}

// renew makes one renewal of l and returns how long to wait before the
// next: RenewInterval, or a quarter of it after a failure.
func (o *Owner) renew(ctx context.Context, l lease.Lease) time.Duration {
	begin := o.clk.Now()
	switch err := l.Renew(ctx); {
	case err == nil:
		o.renewed(begin)
	case errors.Is(err, lease.ErrLost):
		o.renewFailed(err)
	case ctx.Err() == nil:
		o.renewFailed(err)
		return max(o.cfg.RenewInterval/4, time.Millisecond)
	}
	return o.cfg.RenewInterval
}

// end closes the tenure: by Release, marking the record released; after
// loss, leaving the record as it is.
func (o *Owner) end(l lease.Lease) {
	o.mu.Lock()
	st := o.state
	o.mu.Unlock()
	if st == released {
		err := l.Release(context.Background())
		o.mu.Lock()
		o.releaseErr = err
		o.mu.Unlock()
		return
	}
	_ = l.Close()
}

// sleep waits d on the Owner's clock; it reports false if ctx ended first.
func (o *Owner) sleep(ctx context.Context, d time.Duration) bool {
	t := o.clk.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C():
		return true
	}
}
