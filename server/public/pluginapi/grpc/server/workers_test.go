package server

import (
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// TestWorkerPool runs the pool in a bubble, where its idle timers run on
// the bubble's clock and synctest.Wait tells when every worker waits.
func TestWorkerPool(t *testing.T) {
	const idle = time.Second
	tests := []struct {
		name string
		// max and reset are the pool's bounds (reset 0: never).
		max, reset int
		run        func(t *testing.T, p *workerPool)
	}{
		{
			name: "an idle worker takes the next job",
			max:  4,
			run: func(t *testing.T, p *workerPool) {
				for i := range 10 {
					ran := false
					p.run(func() { ran = true })
					synctest.Wait()
					if !ran {
						t.Fatalf("job %d did not run", i)
					}
					if n := p.workers.Load(); n != 1 {
						t.Fatalf("after job %d, %d workers; want the one reused", i, n)
					}
				}
			},
		},
		{
			name: "busy workers leave jobs past max to goroutines of their own",
			max:  2,
			run: func(t *testing.T, p *workerPool) {
				release := make(chan struct{})
				var ran atomic.Int64
				for range 5 {
					p.run(func() { <-release; ran.Add(1) })
				}
				synctest.Wait()
				if n := p.workers.Load(); n != 2 {
					t.Errorf("%d workers with 5 jobs blocked; want 2 (max)", n)
				}
				close(release)
				synctest.Wait()
				if n := ran.Load(); n != 5 {
					t.Errorf("%d of 5 jobs ran", n)
				}
				if n := p.workers.Load(); n != 2 {
					t.Errorf("%d workers wait for jobs; want 2", n)
				}
			},
		},
		{
			name: "a worker ends after waiting idle",
			max:  4,
			run: func(t *testing.T, p *workerPool) {
				p.run(func() {})
				time.Sleep(idle / 2)
				p.run(func() {}) // resets the wait
				time.Sleep(idle / 2)
				synctest.Wait()
				if n := p.workers.Load(); n != 1 {
					t.Fatalf("%d workers %v after the last job; want 1", n, idle/2)
				}
				time.Sleep(idle / 2)
				synctest.Wait()
				if n := p.workers.Load(); n != 0 {
					t.Errorf("%d workers %v after the last job; want 0", n, idle)
				}
			},
		},
		{
			name:  "a worker ends after reset jobs, and runs the last",
			max:   4,
			reset: 3,
			run: func(t *testing.T, p *workerPool) {
				var ran int
				for range 3 {
					p.run(func() { ran++ })
					synctest.Wait()
				}
				if ran != 3 {
					t.Fatalf("%d of 3 jobs ran", ran)
				}
				if n := p.workers.Load(); n != 0 {
					t.Errorf("%d workers after %d jobs; want 0 (reset)", n, p.reset)
				}
				p.run(func() { ran++ })
				synctest.Wait()
				if ran != 4 || p.workers.Load() != 1 {
					t.Errorf("after reset: %d jobs ran, %d workers; want 4 and a new worker", ran, p.workers.Load())
				}
			},
		},
		{
			name: "stop ends waiting workers; later jobs still run",
			max:  4,
			run: func(t *testing.T, p *workerPool) {
				release := make(chan struct{})
				p.run(func() {})
				p.run(func() { <-release })
				synctest.Wait()
				p.stop()
				p.stop() // twice is fine
				synctest.Wait()
				if n := p.workers.Load(); n != 1 {
					t.Errorf("%d workers after stop; want 1 (the busy one)", n)
				}
				close(release)
				synctest.Wait()
				var wg sync.WaitGroup
				wg.Add(1)
				p.run(wg.Done)
				wg.Wait()
				synctest.Wait()
				if n := p.workers.Load(); n != 0 {
					t.Errorf("%d workers after a job run past stop; want 0", n)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				reset := tt.reset
				if reset == 0 {
					reset = callWorkerReset
				}
				p := newWorkerPool(tt.max, idle, reset)
				defer func() {
					p.stop()
					synctest.Wait()
				}()
				tt.run(t, p)
			})
		})
	}
}
