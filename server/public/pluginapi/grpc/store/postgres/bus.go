package postgres

// This file holds the cluster-event bus on PostgreSQL: LISTEN/NOTIFY, with
// a table for what a notification cannot carry or must not lose.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/store"
)

// BusChannel is the LISTEN/NOTIFY channel of the cluster events.
const BusChannel = "pluginapi_cluster_events"

// MaxNotifyPayload is the largest NOTIFY payload that PostgreSQL accepts
// with its default 8 kB pages ("must be shorter than 8000 bytes", the
// NOTIFY reference page). A notification that would be longer carries a
// reference to its row instead of the event.
const MaxNotifyPayload = 7999

// DefaultRetention is how long the rows of the events table are kept, see
// [Retention].
const DefaultRetention = time.Hour

// Reconnection backoff of a lost listener connection: the first retry is
// immediate, then the wait doubles from minBackoff up to maxBackoff.
const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// maxNodeID bounds a node id, as the table's SourceNode column does.
const maxNodeID = 190

// Bus is a [store.Bus] on PostgreSQL, one for each node of a cluster that
// shares a database:
//
//   - Publish sends a NOTIFY on [BusChannel] from the pool, in one
//     statement: a best-effort event that fits the payload limit travels
//     in the notification alone, with an id from the events table's
//     sequence; a reliable event, and any event too big for a
//     notification, is also inserted in the PluginClusterEvents table, in
//     the same statement, and its notification carries the row id (and
//     the event, when it fits). One node's publishes are serialized, so
//     that its ids grow in the order of its commits.
//   - Each Bus listens on a dedicated connection (a pgx.Conn of its own,
//     not one of the pool's) and delivers each notification of another
//     node, addressed to every node or to this one, to its handlers, one
//     at a time, fetching the row when the notification refers to it. It
//     keeps, for each publishing node, the id of the last event delivered,
//     and skips an event whose id is not above it: an event is delivered
//     once, in the publisher's order.
//   - When the listener's connection is lost (a terminated backend, a
//     restarted server), it reconnects with backoff (immediately, then
//     from 50 ms doubling to 5 s), listens again, and catches up from the
//     table on the reliable events that it missed: those above the
//     publisher's last delivered id, and above the table's largest id when
//     the Bus started (events published before a node starts are not
//     delivered to it). Best-effort events published while it was
//     disconnected are lost, as the send type allows; so is a big
//     best-effort event whose row the listener could not read.
//   - Rows older than the retention ([DefaultRetention], an hour) are
//     deleted in the background by every node. A reliable event survives
//     a disconnection shorter than that; the listener retries every 5 s at
//     most, so an hour covers any brief outage (a failover or restart of
//     the database takes seconds to minutes), and a node away for longer
//     has missed far more than its events (its own in-memory state is
//     stale), as a Mattermost node that left the cluster has.
//
// The Bus uses the [Store]'s pool and does not own it; Close stops the
// listener and the sweep, and is to be called before the Store's Close.
type Bus struct {
	st        *Store
	node      string
	logger    *slog.Logger
	retention time.Duration
	now       func() time.Time
	handlers  store.Handlers

	// publish serializes this node's publishes.
	publish sync.Mutex
	closed  bool

	// start is the table's largest id when the Bus started: the
	// listener's catch-up never goes below it.
	start int64
	// delivered is, for each publishing node, the id of its last event
	// delivered here; only the listener goroutine uses it.
	delivered map[string]int64

	stop context.CancelFunc
	wg   sync.WaitGroup

	// beforeConnect, when set (by tests), runs before each connection of
	// the listener.
	beforeConnect atomic.Pointer[func()]
}

var _ store.Bus = (*Bus)(nil)

// A BusOption configures a [Bus].
type BusOption func(*Bus)

// Retention sets how long the events table keeps its rows; 0 or less
// keeps [DefaultRetention].
func Retention(d time.Duration) BusOption {
	return func(b *Bus) {
		if d > 0 {
			b.retention = d
		}
	}
}

// BusLogger sets the logger of the listener's reconnections and dropped
// events; nil keeps [slog.Default].
func BusLogger(l *slog.Logger) BusOption {
	return func(b *Bus) {
		if l != nil {
			b.logger = l
		}
	}
}

// notice is the JSON of a notification, after the event's id and a space.
type notice struct {
	// Source is the publishing node.
	Source string `json:"s"`
	// Target is the one node to deliver to, or empty for every other.
	Target string `json:"t,omitempty"`
	// PluginID is the publishing plugin.
	PluginID string `json:"p"`
	// EventID is the event's id.
	EventID string `json:"e"`
	// Data is the event's payload (base64 in the JSON), unless InTable.
	Data []byte `json:"d,omitempty"`
	// InTable says that the payload is in the event's row only.
	InTable bool `json:"r,omitempty"`
}

// NewBus starts the bus of node nodeID on the database of s: it connects
// its listener, with the connection settings of s's pool and the
// application_name "pluginapi-bus <node id>" (which pg_stat_activity
// shows), and listens before it returns, so that every event published
// after NewBus returns reaches it. ctx bounds the start only.
func NewBus(ctx context.Context, s *Store, nodeID string, opts ...BusOption) (*Bus, error) {
	if nodeID == "" || len(nodeID) > maxNodeID {
		return nil, fmt.Errorf("postgres bus: node id must have 1 to %d bytes, got %d", maxNodeID, len(nodeID))
	}
	b := &Bus{
		st:        s,
		node:      nodeID,
		logger:    slog.Default(),
		retention: DefaultRetention,
		now:       time.Now,
		delivered: map[string]int64{},
	}
	for _, opt := range opts {
		opt(b)
	}
	conn, err := b.listen(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres bus: start the listener: %w", err)
	}
	if err := conn.QueryRow(ctx, `SELECT COALESCE(MAX(Id), 0) FROM PluginClusterEvents`).Scan(&b.start); err != nil {
		_ = conn.Close(context.Background())
		return nil, fmt.Errorf("postgres bus: read the events table: %w", err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	b.stop = stop
	b.wg.Go(func() { b.receive(runCtx, conn) })
	b.wg.Go(func() { b.sweep(runCtx) })
	return b, nil
}

// NodeID returns the node's id.
func (b *Bus) NodeID() string { return b.node }

// Subscribe adds a handler of the events that reach this node.
func (b *Bus) Subscribe(h store.Handler) func() { return b.handlers.Add(h) }

// Close stops the listener and the sweep, and waits for them; a handler
// must not call it. Publish fails with [store.ErrBusClosed] after it.
func (b *Bus) Close() error {
	b.publish.Lock()
	if b.closed {
		b.publish.Unlock()
		return nil
	}
	b.closed = true
	b.publish.Unlock()
	b.stop()
	b.wg.Wait()
	b.handlers.Close()
	return nil
}

// publishOp names Publish in its errors.
const publishOp = "PublishPluginClusterEvent"

// Publish sends ev from plugin pluginID to the other nodes, as the [Bus]
// comment says. Its errors are the [Store]'s: a database that cannot be
// reached gives [store.Unavailable], and the event is then not sent.
func (b *Bus) Publish(ctx context.Context, pluginID string, ev store.Event, opts store.SendOptions) error {
	n := notice{Source: b.node, Target: opts.TargetID, PluginID: pluginID, EventID: ev.ID, Data: ev.Data}
	payload, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("encode cluster event: %w", err)
	}
	// The id before the JSON has at most 19 digits, and a space.
	fits := len(payload)+20 <= MaxNotifyPayload
	b.publish.Lock()
	defer b.publish.Unlock()
	if b.closed {
		return store.ErrBusClosed
	}
	if fits && !opts.Reliable() {
		_, err = b.st.exec(ctx, publishOp,
			`SELECT pg_notify($1, nextval(pg_get_serial_sequence('pluginclusterevents', 'id'))::text || ' ' || $2)`,
			BusChannel, string(payload))
		return err
	}
	if !fits {
		n.Data, n.InTable = nil, true
		if payload, err = json.Marshal(n); err != nil {
			return fmt.Errorf("encode cluster event: %w", err)
		}
		if len(payload)+20 > MaxNotifyPayload {
			return fmt.Errorf("cluster event: plugin id, event id and target take %d bytes, more than a notification holds", len(payload))
		}
	}
	data := ev.Data
	if data == nil {
		data = []byte{}
	}
	_, err = b.st.exec(ctx, publishOp, `
		WITH ev AS (
			INSERT INTO PluginClusterEvents (SourceNode, TargetNode, PluginId, EventId, Data, Reliable, CreateAt)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			RETURNING Id
		)
		SELECT pg_notify($8, Id::text || ' ' || $9) FROM ev`,
		b.node, opts.TargetID, pluginID, []byte(ev.ID), data, opts.Reliable(), b.now().UnixMilli(),
		BusChannel, string(payload))
	return err
}

// ListenerApplicationName is the application_name of the listener
// connection of node nodeID.
func ListenerApplicationName(nodeID string) string { return "pluginapi-bus " + nodeID }

// listen opens the listener's connection, with the pool's settings, and
// listens on [BusChannel].
func (b *Bus) listen(ctx context.Context) (*pgx.Conn, error) {
	if hook := b.beforeConnect.Load(); hook != nil {
		(*hook)()
	}
	cfg := b.st.pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = ListenerApplicationName(b.node)
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+BusChannel); err != nil {
		_ = conn.Close(context.Background())
		return nil, err
	}
	return conn, nil
}

// receive delivers the notifications of conn, and of the connections
// that replace it when it is lost, until ctx is done.
func (b *Bus) receive(ctx context.Context, conn *pgx.Conn) {
	defer func() {
		if conn != nil {
			_ = conn.Close(context.Background())
		}
	}()
	backoff := time.Duration(0)
	for ctx.Err() == nil {
		if conn == nil {
			if !sleep(ctx, backoff) {
				return
			}
			backoff = min(max(2*backoff, minBackoff), maxBackoff)
			var err error
			if conn, err = b.listen(ctx); err != nil {
				if ctx.Err() == nil {
					b.logger.Warn("cluster event listener: reconnect failed", slog.String("node_id", b.node), slog.Duration("retry_in", backoff), slog.String("error", err.Error()))
				}
				continue
			}
			if err := b.catchUp(ctx, conn); err != nil {
				b.logger.Warn("cluster event listener: catch-up failed", slog.String("node_id", b.node), slog.String("error", err.Error()))
				_ = conn.Close(context.Background())
				conn = nil
				continue
			}
			b.logger.Info("cluster event listener reconnected", slog.String("node_id", b.node))
			backoff = 0
		}
		n, err := conn.WaitForNotification(ctx)
		if err == nil {
			err = b.handle(ctx, conn, n)
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			b.logger.Warn("cluster event listener: connection lost; reconnecting", slog.String("node_id", b.node), slog.String("error", err.Error()))
			_ = conn.Close(context.Background())
			conn = nil
		}
	}
}

// sleep waits for d, and reports false if ctx is done first.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// handle delivers one notification, if it is another node's for this one;
// an error is a failed read of the event's row, which the caller treats
// as a lost connection.
func (b *Bus) handle(ctx context.Context, conn *pgx.Conn, n *pgconn.Notification) error {
	if n.Channel != BusChannel {
		return nil
	}
	idText, body, ok := strings.Cut(n.Payload, " ")
	id, err := strconv.ParseInt(idText, 10, 64)
	var msg notice
	if ok && err == nil {
		err = json.Unmarshal([]byte(body), &msg)
	}
	if !ok || err != nil {
		b.logger.Warn("cluster event listener: malformed notification dropped", slog.String("payload", truncate(n.Payload, 200)))
		return nil
	}
	if !b.forMe(msg.Source, msg.Target) || id <= b.last(msg.Source) {
		return nil
	}
	if msg.InTable {
		err := conn.QueryRow(ctx, `SELECT Data FROM PluginClusterEvents WHERE Id = $1`, id).Scan(&msg.Data)
		if errors.Is(err, pgx.ErrNoRows) {
			b.logger.Warn("cluster event listener: the event's row is gone (older than the retention)", slog.Int64("id", id))
			return nil
		}
		if err != nil {
			return fmt.Errorf("read cluster event %d: %w", id, err)
		}
	}
	b.deliver(ctx, id, msg)
	return nil
}

// forMe reports whether an event of source to target is for this node.
func (b *Bus) forMe(source, target string) bool {
	return source != b.node && (target == "" || target == b.node)
}

// last returns the id of the last event of source delivered here.
func (b *Bus) last(source string) int64 {
	if id, ok := b.delivered[source]; ok {
		return id
	}
	return b.start
}

// deliver hands the event to the handlers and records it as delivered.
func (b *Bus) deliver(ctx context.Context, id int64, msg notice) {
	b.delivered[msg.Source] = id
	b.handlers.Deliver(ctx, msg.PluginID, store.Event{ID: msg.EventID, Data: msg.Data})
}

// catchUp delivers the reliable events for this node that are in the
// table and were not delivered yet, in id order.
func (b *Bus) catchUp(ctx context.Context, conn *pgx.Conn) error {
	rows, err := conn.Query(ctx, `
		SELECT Id, SourceNode, PluginId, EventId, Data FROM PluginClusterEvents
		WHERE Id > $1 AND Reliable AND SourceNode <> $2 AND (TargetNode = '' OR TargetNode = $2)
		ORDER BY Id`, b.start, b.node)
	if err != nil {
		return fmt.Errorf("catch up on cluster events: %w", err)
	}
	type row struct {
		id  int64
		msg notice
	}
	var missed []row
	for rows.Next() {
		var r row
		var eventID []byte
		if err := rows.Scan(&r.id, &r.msg.Source, &r.msg.PluginID, &eventID, &r.msg.Data); err != nil {
			rows.Close()
			return fmt.Errorf("catch up on cluster events: %w", err)
		}
		r.msg.EventID = string(eventID)
		if r.id > b.last(r.msg.Source) {
			missed = append(missed, r)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("catch up on cluster events: %w", err)
	}
	for _, r := range missed {
		b.deliver(ctx, r.id, r.msg)
	}
	return nil
}

// sweep deletes the rows older than the retention, every quarter of it
// (at most every minute), until ctx is done. A failed sweep is logged and
// retried at the next tick.
func (b *Bus) sweep(ctx context.Context) {
	every := min(b.retention/4, time.Minute)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cutoff := b.now().Add(-b.retention).UnixMilli()
		if _, err := b.st.pool.Exec(ctx, `DELETE FROM PluginClusterEvents WHERE CreateAt < $1`, cutoff); err != nil && ctx.Err() == nil {
			b.logger.Debug("cluster event sweep failed", slog.String("error", err.Error()))
		}
	}
}

// truncate cuts s to at most n bytes.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
