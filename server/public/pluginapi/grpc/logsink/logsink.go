// Package logsink decouples a logger from a slow or broken output.
//
// A server that logs to its stderr stalls once nobody reads the pipe and
// its buffer (64 KiB on Linux) fills, and a write to a closed pipe fails.
// A [Writer] takes each record into a bounded queue and returns at once; a
// goroutine copies the queue to the output. When the queue is full, new
// records are dropped and counted, and the count is written out once the
// output accepts writes again. Writes never block and never fail.
package logsink

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// DefaultMaxBytes is the default bound on the bytes queued for the output.
const DefaultMaxBytes = 4 << 20

// Writer is an [io.Writer] that never blocks on its output. It is safe for
// concurrent use. Each Write should hold one whole record, as the handlers
// of log/slog write them.
type Writer struct {
	out      io.Writer
	maxBytes int

	mu      sync.Mutex
	ready   sync.Cond
	queue   [][]byte
	queued  int  // bytes in queue
	dropped int  // records dropped since the last report
	closed  bool // no more records are taken
	done    chan struct{}
}

// New returns a Writer that copies to out and queues at most maxBytes; a
// maxBytes below 1 means [DefaultMaxBytes].
func New(out io.Writer, maxBytes int) *Writer {
	if maxBytes < 1 {
		maxBytes = DefaultMaxBytes
	}
	w := &Writer{out: out, maxBytes: maxBytes, done: make(chan struct{})}
	w.ready.L = &w.mu
	go w.drain()
	return w
}

// Write queues a copy of p, or drops it when the queue is full or the
// Writer is closed. It always reports success.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed || w.queued+len(p) > w.maxBytes {
		w.dropped++
		return len(p), nil
	}
	w.queue = append(w.queue, append([]byte(nil), p...))
	w.queued += len(p)
	w.ready.Signal()
	return len(p), nil
}

// Dropped returns how many records were dropped and not yet reported.
func (w *Writer) Dropped() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dropped
}

func (w *Writer) drain() {
	defer close(w.done)
	w.mu.Lock()
	for {
		for len(w.queue) == 0 && !w.closed {
			w.ready.Wait()
		}
		if len(w.queue) == 0 && w.closed {
			w.mu.Unlock()
			return
		}
		batch, dropped := w.queue, w.dropped
		w.queue, w.queued, w.dropped = nil, 0, 0
		w.mu.Unlock()
		if dropped > 0 {
			fmt.Fprintf(w.out, "logsink: %d log records dropped: the log output did not keep up\n", dropped)
		}
		for _, record := range batch {
			// A failed write (a closed pipe) loses the record, which is
			// all that can happen to it.
			w.out.Write(record)
		}
		w.mu.Lock()
	}
}

// Close stops taking records and waits, at most for timeout, until the
// queued ones are written. It reports whether they all were.
func (w *Writer) Close(timeout time.Duration) bool {
	w.mu.Lock()
	w.closed = true
	w.ready.Signal()
	w.mu.Unlock()
	select {
	case <-w.done:
		return true
	case <-time.After(timeout):
		return false
	}
}
