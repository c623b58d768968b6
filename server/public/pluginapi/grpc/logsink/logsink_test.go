package logsink

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for the drain goroutine and a test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// finishes fails the test when f does not return: liveness, not speed.
func finishes(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		f()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s blocked", what)
	}
}

func TestWritesReachTheOutputInOrder(t *testing.T) {
	var out lockedBuffer
	w := New(&out, 0)
	for i := range 100 {
		fmt.Fprintf(w, "line %d\n", i)
	}
	if !w.Close(10 * time.Second) {
		t.Fatal("Close() timed out")
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 100 || lines[0] != "line 0" || lines[99] != "line 99" {
		t.Errorf("output has %d lines (%q...); want 100 in order", len(lines), lines[0])
	}
}

func TestStalledOutputNeverBlocksWriters(t *testing.T) {
	r, pw := io.Pipe() // nobody reads r
	defer r.Close()
	w := New(pw, 1<<20)
	record := bytes.Repeat([]byte("x"), 1023)
	finishes(t, "writing 64 MiB to a stalled output", func() {
		for range 64 << 10 {
			if n, err := w.Write(record); n != len(record) || err != nil {
				t.Fatalf("Write() = %d, %v", n, err)
			}
		}
	})
	if w.Dropped() == 0 {
		t.Error("Dropped() = 0; want the records beyond the bound dropped")
	}
}

func TestDropsAreReported(t *testing.T) {
	pr, pw := io.Pipe()
	var out lockedBuffer
	w := New(pw, 10)
	w.Write([]byte("first\n")) // taken by the drain goroutine, which then blocks on pw
	time.Sleep(10 * time.Millisecond)
	for range 5 {
		w.Write([]byte("0123456789\n")) // 11 bytes: over the bound, dropped
	}
	go io.Copy(&out, pr)
	w.Write([]byte("last\n"))
	w.Close(10 * time.Second)
	pw.Close()
	if !strings.Contains(out.String(), "log records dropped") {
		t.Errorf("output = %q; want the drops reported", out.String())
	}
}

func TestClosedPipeIsHarmless(t *testing.T) {
	r, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	w := New(pw, 0)
	finishes(t, "writing to a closed pipe", func() {
		for range 1000 {
			if _, err := w.Write([]byte("line\n")); err != nil {
				t.Fatalf("Write() = %v", err)
			}
		}
		w.Close(10 * time.Second)
	})
	pw.Close()
}
