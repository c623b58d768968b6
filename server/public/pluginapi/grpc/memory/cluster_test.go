package memory

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/auth"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/store"
)

// clusterEvent is an event that a node's bus delivered.
type clusterEvent struct {
	pluginID string
	ev       store.Event
}

// busInbox collects a node's deliveries.
type busInbox chan clusterEvent

func (in busInbox) handle(_ context.Context, pluginID string, ev store.Event) {
	in <- clusterEvent{pluginID, ev}
}

func (in busInbox) next(t *testing.T) clusterEvent {
	t.Helper()
	select {
	case e := <-in:
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no cluster event arrived")
		return clusterEvent{}
	}
}

// failingBus is a bus whose Publish fails with err.
type failingBus struct {
	store.Bus
	err error
}

func (f failingBus) Publish(context.Context, string, store.Event, store.SendOptions) error {
	return f.err
}

func TestPublishPluginClusterEventWithoutBus(t *testing.T) {
	b := New()
	req := &pluginpb.PublishPluginClusterEventRequest{Ev: &pluginpb.PluginClusterEvent{Id: "x"}}
	if _, err := b.PublishPluginClusterEvent(context.Background(), req); err != nil {
		t.Fatalf("a server without a cluster: %v", err)
	}
	if got := b.Events(); len(got) != 1 || got[0].Kind != "cluster_event" {
		t.Fatalf("event log: %v", got)
	}
}

func TestPublishPluginClusterEventOnTheBus(t *testing.T) {
	hub := store.NewHub()
	busA, err := hub.Join("node-a")
	if err != nil {
		t.Fatal(err)
	}
	defer busA.Close()
	busB, err := hub.Join("node-b")
	if err != nil {
		t.Fatal(err)
	}
	defer busB.Close()
	inA, inB := make(busInbox, 16), make(busInbox, 16)
	busA.Subscribe(inA.handle)
	busB.Subscribe(inB.handle)

	a := New(WithBus(busA), Manifest(&pluginpb.Manifest{Id: "com.example.one"}, &pluginpb.Manifest{Id: "com.example.two"}))
	ctx := context.Background()
	tests := []struct {
		name     string
		ctx      context.Context
		req      *pluginpb.PublishPluginClusterEventRequest
		wantFrom string
		wantID   string
	}{
		{
			name:     "the backend's own plugin, reliable",
			ctx:      ctx,
			req:      &pluginpb.PublishPluginClusterEventRequest{Ev: &pluginpb.PluginClusterEvent{Id: "a", Data: []byte{0, 1, 2}}, Opts: &pluginpb.PluginClusterEventSendOptions{SendType: store.SendReliable}},
			wantFrom: "com.example.one",
			wantID:   "a",
		},
		{
			name:     "the plugin that the token names",
			ctx:      auth.NewContext(ctx, "com.example.two"),
			req:      &pluginpb.PublishPluginClusterEventRequest{Ev: &pluginpb.PluginClusterEvent{Id: "b"}, Opts: &pluginpb.PluginClusterEventSendOptions{SendType: store.SendBestEffort}},
			wantFrom: "com.example.two",
			wantID:   "b",
		},
		{
			name:     "to node-b alone",
			ctx:      ctx,
			req:      &pluginpb.PublishPluginClusterEventRequest{Ev: &pluginpb.PluginClusterEvent{Id: "c"}, Opts: &pluginpb.PluginClusterEventSendOptions{TargetId: "node-b"}},
			wantFrom: "com.example.one",
			wantID:   "c",
		},
		{
			name:     "no event, no options: sent as upstream sends it",
			ctx:      ctx,
			req:      &pluginpb.PublishPluginClusterEventRequest{},
			wantFrom: "com.example.one",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := a.PublishPluginClusterEvent(tt.ctx, tt.req); err != nil {
				t.Fatal(err)
			}
			got := inB.next(t)
			if got.pluginID != tt.wantFrom || got.ev.ID != tt.wantID || string(got.ev.Data) != string(tt.req.GetEv().GetData()) {
				t.Errorf("node-b got %+v, want plugin %q event %q", got, tt.wantFrom, tt.wantID)
			}
		})
	}
	select {
	case e := <-inA:
		t.Errorf("the sender received %+v", e)
	default:
	}
	if n := len(a.Events()); n != len(tests) {
		t.Errorf("%d cluster_event records, want %d", n, len(tests))
	}
}

func TestPublishPluginClusterEventErrors(t *testing.T) {
	unavailable := apperror.New("app.cluster.unavailable", "unavailable", "", 503)
	tests := []struct {
		name     string
		err      error
		target   string
		wantApp  bool
		wantText string
	}{
		{name: "an AppError passes through", err: unavailable, wantApp: true},
		{name: "a target names the node", err: errors.New("boom"), target: "n2", wantText: `failed to send message to cluster node "n2": boom`},
		{name: "a broadcast", err: errors.New("boom"), wantText: "failed to send message to the cluster: boom"},
		{name: "a cancellation stays one", err: context.Canceled, wantText: context.Canceled.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := New(WithBus(failingBus{err: tt.err}))
			req := &pluginpb.PublishPluginClusterEventRequest{Ev: &pluginpb.PluginClusterEvent{Id: "x"}, Opts: &pluginpb.PluginClusterEventSendOptions{TargetId: tt.target}}
			_, err := b.PublishPluginClusterEvent(context.Background(), req)
			if err == nil {
				t.Fatal("no error")
			}
			var appErr *apperror.Error
			if got := errors.As(err, &appErr); got != tt.wantApp {
				t.Errorf("AppError %v, want %v: %v", got, tt.wantApp, err)
			}
			if tt.wantText != "" && !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q, want %q", err, tt.wantText)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("error %v does not wrap %v", err, tt.err)
			}
		})
	}
}

// TestPublishPluginClusterEventConcurrently publishes from several
// goroutines at once: every event arrives once.
func TestPublishPluginClusterEventConcurrently(t *testing.T) {
	hub := store.NewHub()
	busA, _ := hub.Join("a")
	defer busA.Close()
	busB, _ := hub.Join("b")
	defer busB.Close()
	in := make(busInbox, 1000)
	busB.Subscribe(in.handle)
	a := New(WithBus(busA))
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			for range 50 {
				_, _ = a.PublishPluginClusterEvent(context.Background(), &pluginpb.PublishPluginClusterEventRequest{Ev: &pluginpb.PluginClusterEvent{Id: "x"}})
			}
		})
	}
	wg.Wait()
	for range 500 {
		in.next(t)
	}
	select {
	case e := <-in:
		t.Errorf("an extra event: %+v", e)
	case <-time.After(50 * time.Millisecond):
	}
}
