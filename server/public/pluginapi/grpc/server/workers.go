package server

import (
	"sync"
	"sync/atomic"
	"time"
)

// Bounds of the workers that run the calls of call streams.
const (
	// maxCallWorkers is the most goroutines kept for calls at once; calls
	// beyond them run on goroutines of their own. It is the default limit
	// on the calls in flight on one stream.
	maxCallWorkers = DefaultMaxConcurrentStreams
	// callWorkerIdle is how long a worker waits for a call before it ends,
	// so that the workers of a burst do not outlive it for long.
	callWorkerIdle = 10 * time.Second
	// callWorkerReset is how many calls a worker runs before it ends, so
	// that a stack that one deep call grew is given back (grpc-go's stream
	// workers do the same).
	callWorkerReset = 1 << 16
)

// workerPool runs functions on goroutines that outlive them. A call that
// starts on a new goroutine grows its stack as it goes: for a KVGet on a
// call stream, copying stacks took about a sixth of the server's CPU time
// (runtime.newstack, in a profile at 64 calls in flight). A worker has
// grown its stack once, at its first call.
type workerPool struct {
	jobs  chan func()
	max   int64
	idle  time.Duration
	reset int
	quit  chan struct{}
	once  sync.Once

	workers atomic.Int64 // goroutines in work
}

// newWorkerPool returns a pool of at most max workers, each of which ends
// once it has waited idle for a job or has run reset jobs.
func newWorkerPool(max int, idle time.Duration, reset int) *workerPool {
	return &workerPool{
		jobs:  make(chan func()),
		max:   int64(max),
		idle:  idle,
		reset: reset,
		quit:  make(chan struct{}),
	}
}

// run runs f on a worker that waits for a job, else on a new worker, else,
// with max workers busy, on a goroutine of its own. It never waits for f.
func (p *workerPool) run(f func()) {
	select {
	case p.jobs <- f:
		return
	default:
	}
	if p.workers.Add(1) > p.max {
		p.workers.Add(-1)
		go f()
		return
	}
	go p.work(f)
}

// work runs f, then the jobs that come, until it has waited p.idle for
// one, has run p.reset, or the pool has stopped.
func (p *workerPool) work(f func()) {
	defer p.workers.Add(-1)
	idle := time.NewTimer(p.idle)
	defer idle.Stop()
	for n := 1; ; n++ {
		f()
		if n >= p.reset {
			return
		}
		idle.Reset(p.idle)
		select {
		case f = <-p.jobs:
		case <-idle.C:
			return
		case <-p.quit:
			return
		}
	}
}

// stop ends the workers that wait for a job; those running one end after
// it. Functions run after stop still run, each on a goroutine that then
// ends.
func (p *workerPool) stop() { p.once.Do(func() { close(p.quit) }) }
