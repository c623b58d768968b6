package server

import (
	"context"
	"sync"
	"time"

	"google.golang.org/grpc/stats"
)

// callTracker counts the calls in flight.
type callTracker struct {
	mu       sync.Mutex
	inFlight int
	changed  chan struct{} // closed and replaced on every change
}

func newCallTracker() *callTracker {
	return &callTracker{changed: make(chan struct{})}
}

func (c *callTracker) add(delta int) {
	c.mu.Lock()
	c.inFlight += delta
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}

// waitQuiet returns once no call has been in flight for quiet, or at the
// deadline, whichever comes first.
func (c *callTracker) waitQuiet(quiet time.Duration, deadline time.Time) {
	for {
		c.mu.Lock()
		n, changed := c.inFlight, c.changed
		c.mu.Unlock()
		wait := time.Until(deadline)
		if n == 0 {
			wait = min(wait, quiet)
		}
		if wait <= 0 {
			return
		}
		timer := time.NewTimer(wait)
		select {
		case <-changed:
			timer.Stop()
		case <-timer.C:
			if n == 0 {
				return
			}
		}
	}
}

// callTracker is a [stats.Handler]: a call counts from the moment its
// headers arrive (stats.Begin), while its message is still being received,
// until it ends; interceptors would see it only once its message is in.
//
// A hook stream is not a call: it stays open while its plugin runs, and is
// ended by the stop (see hookStreamDesc), so it is not counted. Nor is a
// call stream: its calls count one by one (see callstream.go).
func (c *callTracker) TagRPC(ctx context.Context, info *stats.RPCTagInfo) context.Context {
	if info.FullMethodName == hookStreamMethod || info.FullMethodName == callStreamMethod {
		return context.WithValue(ctx, untrackedKey{}, true)
	}
	return ctx
}

// untrackedKey marks the context of a stream that callTracker does not
// count.
type untrackedKey struct{}

func (c *callTracker) HandleRPC(ctx context.Context, s stats.RPCStats) {
	if ctx.Value(untrackedKey{}) != nil {
		return
	}
	switch s.(type) {
	case *stats.Begin:
		c.add(1)
	case *stats.End:
		c.add(-1)
	}
}

func (c *callTracker) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context {
	return ctx
}

func (c *callTracker) HandleConn(context.Context, stats.ConnStats) {}
