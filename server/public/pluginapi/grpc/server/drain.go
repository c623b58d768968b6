package server

import (
	"context"
	"sync"
	"time"

	"google.golang.org/grpc"
)

// drainQuiet is how long no call may be in flight before a graceful stop
// sends its GOAWAY. Calls that a client has started may still sit unread
// behind other calls' data on the connection; a GOAWAY sent while they do
// would refuse them, so the stop waits for the connections to go quiet.
const drainQuiet = 100 * time.Millisecond

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
// deadline; it reports whether the server went quiet.
func (c *callTracker) waitQuiet(quiet time.Duration, deadline time.Time) bool {
	for {
		c.mu.Lock()
		n, changed := c.inFlight, c.changed
		c.mu.Unlock()
		wait := time.Until(deadline)
		if n == 0 {
			wait = min(wait, quiet)
		}
		if wait <= 0 {
			return n == 0
		}
		timer := time.NewTimer(wait)
		select {
		case <-changed:
			timer.Stop()
		case <-timer.C:
			if n == 0 {
				return true
			}
		}
	}
}

func (c *callTracker) unaryInterceptor(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	c.add(1)
	defer c.add(-1)
	return handler(ctx, req)
}

func (c *callTracker) streamInterceptor(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	c.add(1)
	defer c.add(-1)
	return handler(srv, ss)
}
