package store

// This file holds the cluster-event bus: its interface, and the hub of
// in-process buses for tests of the wiring without a database.

import (
	"context"
	"errors"
	"slices"
	"sync"
)

// Send types of a cluster event, as model.PluginClusterEventSendTypeReliable
// and model.PluginClusterEventSendTypeBestEffort name them
// (model/plugin_cluster_event.go of mattermost/mattermost at
// 3f094773d5775870aa85901ea5eca8af1484905c).
const (
	// SendReliable asks for delivery even across a brief disconnection of
	// the receiving node.
	SendReliable = "reliable"
	// SendBestEffort allows the event to be lost.
	SendBestEffort = "best_effort"
)

// Event is a plugin's message to its copies on the other nodes
// (model.PluginClusterEvent).
type Event struct {
	// ID is the event's id, by which the receiving plugin tells events
	// apart.
	ID string
	// Data is the event's payload.
	Data []byte
}

// SendOptions says how to deliver an event
// (model.PluginClusterEventSendOptions).
type SendOptions struct {
	// SendType is [SendReliable] or [SendBestEffort]; any other value is
	// best effort.
	SendType string
	// TargetID is the id of the one node to deliver to; empty for every
	// node but the sender.
	TargetID string
}

// Reliable reports whether the options ask for reliable delivery.
func (o SendOptions) Reliable() bool { return o.SendType == SendReliable }

// Handler receives the events that other nodes published, one at a time,
// in the order in which each publisher published them. pluginID is the
// publishing plugin's id: an event goes to the copy of that plugin alone.
type Handler func(ctx context.Context, pluginID string, ev Event)

// Bus carries plugin cluster events between the nodes of a cluster, as
// Mattermost's cluster carries ClusterEventPluginEvent messages
// (PluginAPI.PublishPluginClusterEvent in server/channels/app/plugin_api.go
// at f56166d6baa65d91684ba3b6455b65feef3ceace, and
// Server.clusterPluginEventHandler in server/channels/app/
// cluster_handlers.go at 1140b87e03b700f9eb8cfcae7393f5a86271f687). An
// event reaches every other node once, or the node that
// SendOptions.TargetID names, and never the node that published it. A Bus
// is safe for concurrent use.
type Bus interface {
	// NodeID returns the id of this node.
	NodeID() string
	// Publish sends ev from the plugin pluginID to the other nodes.
	Publish(ctx context.Context, pluginID string, ev Event, opts SendOptions) error
	// Subscribe adds a handler of the events that reach this node, until
	// the returned function is called. Events that arrive while no handler
	// is subscribed are dropped, as a node without the plugin drops them.
	Subscribe(h Handler) (unsubscribe func())
	// Close stops the bus; its handlers are not called after it returns.
	Close() error
}

// ErrBusClosed is the error of a Publish on a closed bus.
var ErrBusClosed = errors.New("cluster event bus closed")

// Handlers is a set of subscribed [Handler]s, for implementations of
// [Bus]. The zero value is empty and ready to use; a Handlers is safe for
// concurrent use.
type Handlers struct {
	mu     sync.Mutex
	next   int
	byID   map[int]Handler
	closed bool
}

// Add subscribes h, as [Bus.Subscribe] does.
func (s *Handlers) Add(h Handler) (remove func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byID == nil {
		s.byID = map[int]Handler{}
	}
	id := s.next
	s.next++
	s.byID[id] = h
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.byID, id)
	}
}

// Deliver calls every handler with the event, in the order of their
// subscription.
func (s *Handlers) Deliver(ctx context.Context, pluginID string, ev Event) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	ids := make([]int, 0, len(s.byID))
	for id := range s.byID {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	hs := make([]Handler, len(ids))
	for i, id := range ids {
		hs[i] = s.byID[id]
	}
	s.mu.Unlock()
	for _, h := range hs {
		h(ctx, pluginID, ev)
	}
}

// Close removes every handler; Deliver then does nothing.
func (s *Handlers) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.byID = nil
}

// Hub joins in-process buses into one cluster: the nodes of a test that
// runs in one process. A Hub is safe for concurrent use; its zero value is
// not, use [NewHub].
type Hub struct {
	mu    sync.Mutex
	nodes map[string]*hubBus
}

// NewHub returns a hub without nodes.
func NewHub() *Hub { return &Hub{nodes: map[string]*hubBus{}} }

// Join returns the bus of a new node nodeID of the hub's cluster. A node
// alone in its hub receives nothing, as a Mattermost server without a
// cluster. Join fails if nodeID is empty or already in the hub.
func (h *Hub) Join(nodeID string) (Bus, error) {
	if nodeID == "" {
		return nil, errors.New("store.Hub.Join: empty node id")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.nodes[nodeID]; ok {
		return nil, errors.New("store.Hub.Join: node " + nodeID + " is already in the hub")
	}
	b := &hubBus{hub: h, node: nodeID, wake: make(chan struct{}, 1), done: make(chan struct{})}
	h.nodes[nodeID] = b
	b.wg.Go(b.run)
	return b, nil
}

// hubDelivery is one event queued for a node of a [Hub].
type hubDelivery struct {
	pluginID string
	ev       Event
}

// hubBus is one node's bus of a [Hub]. Each node has an unbounded queue
// and one goroutine that delivers it in order, so a publisher never waits
// for a receiver.
type hubBus struct {
	hub      *Hub
	node     string
	handlers Handlers

	mu     sync.Mutex
	queue  []hubDelivery
	closed bool
	wake   chan struct{}
	done   chan struct{}
	wg     sync.WaitGroup
}

func (b *hubBus) NodeID() string { return b.node }

func (b *hubBus) Publish(_ context.Context, pluginID string, ev Event, opts SendOptions) error {
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return ErrBusClosed
	}
	ev = Event{ID: ev.ID, Data: slices.Clone(ev.Data)}
	b.hub.mu.Lock()
	defer b.hub.mu.Unlock()
	for id, n := range b.hub.nodes {
		if id == b.node || (opts.TargetID != "" && id != opts.TargetID) {
			continue
		}
		n.enqueue(hubDelivery{pluginID: pluginID, ev: ev})
	}
	return nil
}

func (b *hubBus) enqueue(d hubDelivery) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.queue = append(b.queue, d)
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

func (b *hubBus) Subscribe(h Handler) func() { return b.handlers.Add(h) }

func (b *hubBus) run() {
	ctx := context.Background()
	for {
		select {
		case <-b.done:
			return
		case <-b.wake:
		}
		for {
			b.mu.Lock()
			if b.closed || len(b.queue) == 0 {
				b.mu.Unlock()
				break
			}
			d := b.queue[0]
			b.queue = b.queue[1:]
			b.mu.Unlock()
			b.handlers.Deliver(ctx, d.pluginID, d.ev)
		}
	}
}

func (b *hubBus) Close() error {
	b.hub.mu.Lock()
	if b.hub.nodes[b.node] == b {
		delete(b.hub.nodes, b.node)
	}
	b.hub.mu.Unlock()
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	b.queue = nil
	close(b.done)
	b.mu.Unlock()
	b.wg.Wait()
	b.handlers.Close()
	return nil
}
