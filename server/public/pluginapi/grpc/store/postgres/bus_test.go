package postgres

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mattermost/mattermost-plugin-grpc/server/internal/pgtest"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/store"
)

// arrivalTimeout bounds the wait for an event that must arrive.
const arrivalTimeout = 20 * time.Second

// busNode is one node of a test cluster: its store, its bus, and what
// its bus delivered.
type busNode struct {
	store *Store
	bus   *Bus

	mu   sync.Mutex
	got  []arrival
	more chan struct{}
}

// arrival is one delivered event.
type arrival struct {
	pluginID string
	ev       store.Event
	at       time.Time
}

// newBusNode opens a store on dsn and starts the bus of node id on it,
// closed at the test's end.
func newBusNode(t testing.TB, dsn, id string, opts ...BusOption) *busNode {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewBus(ctx, s, id, opts...)
	if err != nil {
		s.Close()
		t.Fatal(err)
	}
	n := &busNode{store: s, bus: b, more: make(chan struct{}, 1)}
	b.Subscribe(n.handle)
	t.Cleanup(func() {
		_ = b.Close()
		s.Close()
	})
	return n
}

func (n *busNode) handle(_ context.Context, pluginID string, ev store.Event) {
	at := time.Now()
	n.mu.Lock()
	n.got = append(n.got, arrival{pluginID, ev, at})
	n.mu.Unlock()
	select {
	case n.more <- struct{}{}:
	default:
	}
}

func (n *busNode) arrivals() []arrival {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.got)
}

// waitFor waits until the node received count events, and returns them.
func (n *busNode) waitFor(t testing.TB, count int) []arrival {
	t.Helper()
	deadline := time.After(arrivalTimeout)
	for {
		got := n.arrivals()
		if len(got) >= count {
			return got
		}
		select {
		case <-n.more:
		case <-deadline:
			t.Fatalf("%s received %d events, want %d", n.bus.NodeID(), len(got), count)
		}
	}
}

// expectOnly checks that the node received want, and nothing else: it
// publishes a marker from `from` to this node and waits for it.
func (n *busNode) expectOnly(t testing.TB, from *busNode, want []string) {
	t.Helper()
	ctx := context.Background()
	if err := from.bus.Publish(ctx, "marker", store.Event{ID: "end"}, store.SendOptions{TargetID: n.bus.NodeID(), SendType: store.SendReliable}); err != nil {
		t.Fatal(err)
	}
	got := n.waitFor(t, len(want)+1)
	var ids []string
	for _, a := range got {
		ids = append(ids, a.pluginID+"/"+a.ev.ID)
	}
	if want := append(slices.Clone(want), "marker/end"); !slices.Equal(ids, want) {
		t.Fatalf("%s received %q, want %q", n.bus.NodeID(), ids, want)
	}
}

func publish(t testing.TB, n *busNode, pluginID, id string, data []byte, opts store.SendOptions) {
	t.Helper()
	if err := n.bus.Publish(context.Background(), pluginID, store.Event{ID: id, Data: data}, opts); err != nil {
		t.Fatalf("publish %s from %s: %v", id, n.bus.NodeID(), err)
	}
}

var (
	reliable   = store.SendOptions{SendType: store.SendReliable}
	bestEffort = store.SendOptions{SendType: store.SendBestEffort}
)

// TestBusDeliversOnceInOrder: N events of each send type, published on A
// and B at once, arrive exactly once on the other node, in order, never
// on their sender.
func TestBusDeliversOnceInOrder(t *testing.T) {
	dsn := pgtest.Start(t).NewDatabase(t)
	a, b := newBusNode(t, dsn, "node-a"), newBusNode(t, dsn, "node-b")
	const n = 300
	var wantA, wantB []string
	var wg sync.WaitGroup
	for _, pub := range []struct {
		from *busNode
		want *[]string
	}{{a, &wantB}, {b, &wantA}} {
		for i := range n {
			*pub.want = append(*pub.want, fmt.Sprintf("p/%s-%d", pub.from.bus.NodeID(), i))
		}
		wg.Go(func() {
			for i := range n {
				opts := reliable
				if i%2 == 1 {
					opts = bestEffort
				}
				publish(t, pub.from, "p", fmt.Sprintf("%s-%d", pub.from.bus.NodeID(), i), fmt.Appendf(nil, "%d", i), opts)
			}
		})
	}
	wg.Wait()
	a.expectOnly(t, b, wantA)
	b.expectOnly(t, a, wantB)
}

// TestBusPayloads: payloads around NOTIFY's limit and far above it arrive
// intact, whatever their send type.
func TestBusPayloads(t *testing.T) {
	dsn := pgtest.Start(t).NewDatabase(t)
	a, b := newBusNode(t, dsn, "node-a"), newBusNode(t, dsn, "node-b")
	sizes := []int{0, 1, 5000, 5900, 5950, 6000, 8000, 100 << 10, 1 << 20}
	var want [][]byte
	for i, size := range sizes {
		data := make([]byte, size)
		_, _ = rand.Read(data)
		want = append(want, data)
		opts := reliable
		if i%2 == 1 {
			opts = bestEffort
		}
		publish(t, a, "com.example.big", fmt.Sprint(size), data, opts)
	}
	got := b.waitFor(t, len(sizes))
	for i, g := range got {
		if g.pluginID != "com.example.big" || g.ev.ID != fmt.Sprint(sizes[i]) || !bytes.Equal(g.ev.Data, want[i]) {
			t.Errorf("event %d: plugin %q id %q, %d bytes; want the %d bytes sent", i, g.pluginID, g.ev.ID, len(g.ev.Data), sizes[i])
		}
	}
	// An event id with a NUL, which a text column could not hold.
	publish(t, a, "p", "a\x00b", nil, reliable)
	if got := b.waitFor(t, len(sizes)+1); got[len(sizes)].ev.ID != "a\x00b" {
		t.Errorf("event id %q, want a NUL inside", got[len(sizes)].ev.ID)
	}
}

// TestBusTarget: an event with a TargetID reaches that node alone; a
// target that is no node, or is the sender, reaches no one.
func TestBusTarget(t *testing.T) {
	dsn := pgtest.Start(t).NewDatabase(t)
	a, b, c := newBusNode(t, dsn, "node-a"), newBusNode(t, dsn, "node-b"), newBusNode(t, dsn, "node-c")
	tests := []struct {
		name   string
		opts   store.SendOptions
		toB    bool
		toC    bool
		suffix string
	}{
		{"reliable to b", store.SendOptions{SendType: store.SendReliable, TargetID: "node-b"}, true, false, "1"},
		{"best effort to c", store.SendOptions{SendType: store.SendBestEffort, TargetID: "node-c"}, false, true, "2"},
		{"big to c", store.SendOptions{SendType: store.SendBestEffort, TargetID: "node-c"}, false, true, "3"},
		{"to no node", store.SendOptions{SendType: store.SendReliable, TargetID: "node-z"}, false, false, "4"},
		{"to the sender", store.SendOptions{SendType: store.SendReliable, TargetID: "node-a"}, false, false, "5"},
		{"to everyone", store.SendOptions{}, true, true, "6"},
	}
	var wantB, wantC []string
	for _, tt := range tests {
		data := []byte(tt.name)
		if tt.suffix == "3" {
			data = make([]byte, 20000)
		}
		publish(t, a, "p", tt.suffix, data, tt.opts)
		if tt.toB {
			wantB = append(wantB, "p/"+tt.suffix)
		}
		if tt.toC {
			wantC = append(wantC, "p/"+tt.suffix)
		}
	}
	b.expectOnly(t, a, wantB)
	c.expectOnly(t, a, wantC)
	if got := a.arrivals(); len(got) != 0 {
		t.Errorf("the sender received %d events", len(got))
	}
}

// terminateListener ends the listener backend of node with
// pg_terminate_backend, as a lost connection would.
func terminateListener(t testing.TB, dsn, node string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`,
		ListenerApplicationName(node)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("terminated %d listeners of %s, want 1", n, node)
	}
}

// gate holds a bus's reconnection until it is opened.
type gate struct {
	reached chan struct{}
	open    chan struct{}
	once    sync.Once
}

func newGate() *gate { return &gate{reached: make(chan struct{}, 100), open: make(chan struct{})} }

func (g *gate) hook() {
	g.reached <- struct{}{}
	<-g.open
}

func (g *gate) release() { g.once.Do(func() { close(g.open) }) }

// TestBusCatchesUpAfterALostConnection: reliable events published while
// B's listener is disconnected arrive once B is back, exactly once and
// in order, before the events published after; best-effort ones may be
// lost.
func TestBusCatchesUpAfterALostConnection(t *testing.T) {
	dsn := pgtest.Start(t).NewDatabase(t)
	a := newBusNode(t, dsn, "node-a")
	b := newBusNode(t, dsn, "node-b")
	g := newGate()
	hook := g.hook
	b.bus.beforeConnect.Store(&hook)
	t.Cleanup(g.release)

	publish(t, a, "p", "before", nil, reliable)
	b.waitFor(t, 1)
	terminateListener(t, dsn, "node-b")
	select {
	case <-g.reached:
	case <-time.After(arrivalTimeout):
		t.Fatal("node-b's listener did not notice the lost connection")
	}
	want := []string{"p/before"}
	for i := range 50 {
		publish(t, a, "p", fmt.Sprint("missed-", i), []byte("x"), reliable)
		want = append(want, fmt.Sprint("p/missed-", i))
		publish(t, a, "p", fmt.Sprint("lost-", i), []byte("x"), bestEffort)
	}
	publish(t, a, "p", "missed-big", make([]byte, 50000), reliable)
	want = append(want, "p/missed-big")
	g.release()
	b.expectOnly(t, a, want)
}

// TestBusSurvivesADatabaseRestart: while the database is down, Publish
// fails with the store's Unavailable error; once it is back, both nodes
// reconnect and the events flow again, none twice.
func TestBusSurvivesADatabaseRestart(t *testing.T) {
	srv := pgtest.Start(t)
	dsn := srv.NewDatabase(t)
	a, b := newBusNode(t, dsn, "node-a"), newBusNode(t, dsn, "node-b")
	publish(t, a, "p", "before", nil, reliable)
	b.waitFor(t, 1)
	srv.Stop(t)
	err := a.bus.Publish(context.Background(), "p", store.Event{ID: "down"}, reliable)
	if !store.IsUnavailable(err) {
		t.Errorf("Publish while the database is down: %v, want the Unavailable AppError", err)
	}
	srv.Restart(t)
	// The pool's connections come back within its health check.
	deadline := time.Now().Add(arrivalTimeout)
	for {
		err := a.bus.Publish(context.Background(), "p", store.Event{ID: "after"}, reliable)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Publish after the restart: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.expectOnly(t, a, []string{"p/before", "p/after"})
	a.expectOnly(t, b, nil)
}

// TestBusRetention: the sweep deletes the rows older than the retention.
func TestBusRetention(t *testing.T) {
	dsn := pgtest.Start(t).NewDatabase(t)
	a := newBusNode(t, dsn, "node-a", Retention(200*time.Millisecond))
	publish(t, a, "p", "x", nil, reliable)
	ctx := context.Background()
	deadline := time.Now().Add(arrivalTimeout)
	for {
		var n int
		if err := a.store.pool.QueryRow(ctx, `SELECT count(*) FROM PluginClusterEvents`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d rows left after the retention", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestNewBusChecksTheNodeID(t *testing.T) {
	for _, id := range []string{"", string(make([]byte, maxNodeID+1))} {
		if _, err := NewBus(context.Background(), nil, id); err == nil {
			t.Errorf("NewBus with a node id of %d bytes succeeded", len(id))
		}
	}
}

// BenchmarkBusLatency measures the delivery latency of a small reliable
// event from one node to another on one database, from Publish's call to
// the receiver's handler, and reports its p50 and p99 (as p50-ms and
// p99-ms): `go test -run '^$' -bench BusLatency ./public/pluginapi/grpc/store/postgres/`.
func BenchmarkBusLatency(b *testing.B) {
	for _, tc := range []struct {
		name string
		opts store.SendOptions
		size int
	}{
		{"reliable", reliable, 100},
		{"best_effort", bestEffort, 100},
		{"reliable_100KiB", reliable, 100 << 10},
	} {
		b.Run(tc.name, func(b *testing.B) {
			dsn := pgtest.Start(b).NewDatabase(b)
			a, r := newBusNode(b, dsn, "node-a"), newBusNode(b, dsn, "node-b")
			b.ResetTimer()
			p50, p99 := measureBusLatency(b, a, r, b.N, tc.opts, tc.size)
			b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
		})
	}
}

// measureBusLatency publishes n events of size bytes from a to r, one
// after the other's arrival, and returns the p50 and p99 of their
// delivery latency.
func measureBusLatency(t testing.TB, a, r *busNode, n int, opts store.SendOptions, size int) (p50, p99 time.Duration) {
	t.Helper()
	data := make([]byte, max(size, 8))
	latencies := make([]time.Duration, 0, n)
	for i := range n {
		start := time.Now()
		binary.BigEndian.PutUint64(data, uint64(i))
		publish(t, a, "bench", "lat", data, opts)
		got := r.waitFor(t, i+1)[i]
		if binary.BigEndian.Uint64(got.ev.Data) != uint64(i) {
			t.Fatalf("event %d arrived out of order", i)
		}
		latencies = append(latencies, got.at.Sub(start))
	}
	slices.Sort(latencies)
	return latencies[len(latencies)*50/100], latencies[min(len(latencies)*99/100, len(latencies)-1)]
}

// TestBusLatency logs the delivery latency of 200 reliable events.
func TestBusLatency(t *testing.T) {
	dsn := pgtest.Start(t).NewDatabase(t)
	a, b := newBusNode(t, dsn, "node-a"), newBusNode(t, dsn, "node-b")
	p50, p99 := measureBusLatency(t, a, b, 200, reliable, 100)
	t.Logf("cluster event delivery latency, reliable, 100 bytes: p50 %v, p99 %v", p50, p99)
}
