package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/store"
)

// received collects the events that one node's handler received.
type received struct {
	mu  sync.Mutex
	got []string // "plugin/id/data"
	ch  chan struct{}
}

func newReceived() *received { return &received{ch: make(chan struct{}, 1024)} }

func (r *received) handle(_ context.Context, pluginID string, ev store.Event) {
	r.mu.Lock()
	r.got = append(r.got, fmt.Sprintf("%s/%s/%s", pluginID, ev.ID, ev.Data))
	r.mu.Unlock()
	r.ch <- struct{}{}
}

func (r *received) snapshot() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

// waitFor waits until n events arrived.
func (r *received) waitFor(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for len(r.snapshot()) < n {
		select {
		case <-r.ch:
		case <-deadline:
			t.Fatalf("got %d events, want %d: %q", len(r.snapshot()), n, r.snapshot())
		}
	}
}

func join(t *testing.T, h *store.Hub, node string) store.Bus {
	t.Helper()
	b, err := h.Join(node)
	if err != nil {
		t.Fatalf("Join(%q): %v", node, err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func TestHubDelivery(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		opts store.SendOptions
		// want is, for each of b and c, whether it receives the event.
		wantB, wantC bool
	}{
		{name: "broadcast reliable", opts: store.SendOptions{SendType: store.SendReliable}, wantB: true, wantC: true},
		{name: "broadcast best effort", opts: store.SendOptions{SendType: store.SendBestEffort}, wantB: true, wantC: true},
		{name: "target b", opts: store.SendOptions{TargetID: "b"}, wantB: true},
		{name: "target the sender", opts: store.SendOptions{TargetID: "a"}},
		{name: "target unknown", opts: store.SendOptions{TargetID: "zz"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := store.NewHub()
			a, b, c := join(t, h, "a"), join(t, h, "b"), join(t, h, "c")
			ra, rb, rc := newReceived(), newReceived(), newReceived()
			a.Subscribe(ra.handle)
			b.Subscribe(rb.handle)
			c.Subscribe(rc.handle)
			if err := a.Publish(ctx, "p", store.Event{ID: "ev", Data: []byte("x")}, tt.opts); err != nil {
				t.Fatal(err)
			}
			// A marker to every node but a, sent after the event, tells
			// when the event would have arrived.
			if err := a.Publish(ctx, "p", store.Event{ID: "end"}, store.SendOptions{}); err != nil {
				t.Fatal(err)
			}
			for _, n := range []struct {
				r    *received
				want bool
			}{{rb, tt.wantB}, {rc, tt.wantC}} {
				want := []string{"p/end/"}
				if n.want {
					want = []string{"p/ev/x", "p/end/"}
				}
				n.r.waitFor(t, len(want))
				if got := n.r.snapshot(); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("got %q, want %q", got, want)
				}
			}
			if got := ra.snapshot(); len(got) != 0 {
				t.Errorf("the sender received %q", got)
			}
		})
	}
}

func TestHubOrderAndLoneNode(t *testing.T) {
	ctx := context.Background()
	h := store.NewHub()
	a := join(t, h, "a")
	// A lone node delivers nothing and succeeds.
	if err := a.Publish(ctx, "p", store.Event{ID: "alone"}, store.SendOptions{}); err != nil {
		t.Fatal(err)
	}
	b := join(t, h, "b")
	rb := newReceived()
	unsubscribe := b.Subscribe(rb.handle)
	const n = 200
	var want []string
	for i := range n {
		if err := a.Publish(ctx, "p", store.Event{ID: "e", Data: fmt.Appendf(nil, "%d", i)}, store.SendOptions{}); err != nil {
			t.Fatal(err)
		}
		want = append(want, fmt.Sprintf("p/e/%d", i))
	}
	rb.waitFor(t, n)
	if got := rb.snapshot(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("events out of order or repeated: got %d, want %d", len(got), len(want))
	}
	unsubscribe()
	if _, err := h.Join("b"); err == nil {
		t.Error("Join of a node id in the hub succeeded")
	}
	if _, err := h.Join(""); err == nil {
		t.Error("Join of an empty node id succeeded")
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(ctx, "p", store.Event{}, store.SendOptions{}); err != store.ErrBusClosed {
		t.Errorf("Publish on a closed bus: %v, want ErrBusClosed", err)
	}
}
