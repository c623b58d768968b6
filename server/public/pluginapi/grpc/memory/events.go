package memory

// This file holds the event log: what the backend would have sent out of
// the server (email, push notifications, websocket events, toasts, cluster
// messages, audit records, ephemeral posts, shared-channel traffic). Tests
// and the dev server read it, in memory through [Backend.Events] or in the
// server log.

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
)

// Bounds of the event log.
const (
	// maxEvents is how many events the log keeps; older ones are dropped.
	maxEvents = 1024
	// maxEventLogBytes bounds the JSON of one event in the server log.
	maxEventLogBytes = 16 << 10
)

// An Event is one thing the backend would have sent out of the server.
type Event struct {
	// Kind names the event: "email", "push_notification",
	// "websocket_event", "interactive_dialog", "toast", "user_typing",
	// "cluster_event", "audit", "ephemeral_post", "ephemeral_post_update",
	// "ephemeral_post_delete", "shared_channels_register",
	// "shared_channels_unregister", "shared_channel_invite",
	// "shared_channel_uninvite", "shared_channel_sync",
	// "shared_channel_cursor", "shared_channel_attachment" or
	// "shared_channel_profile_image".
	Kind string
	// At is when it happened.
	At time.Time
	// Message is the request that caused it, or what was sent.
	Message proto.Message
}

// eventLog keeps the newest events, oldest first.
type eventLog struct {
	events []Event
}

func (l *eventLog) add(e Event) {
	l.events = append(l.events, e)
	if over := len(l.events) - maxEvents; over > 0 {
		l.events = slices.Delete(l.events, 0, over)
	}
}

// record adds an event to the log and writes it to the server log, as a
// record with the message "plugin event" and the kind and the JSON of the
// message in its "event" group.
func (b *Backend) record(ctx context.Context, kind string, m proto.Message) {
	m = proto.Clone(m)
	b.mu.Lock()
	b.events.add(Event{Kind: kind, At: b.now(), Message: m})
	b.mu.Unlock()
	data, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
	if err != nil {
		data = []byte("{}")
	}
	b.logger.LogAttrs(ctx, slog.LevelInfo, "plugin event",
		slog.Group("event", slog.String("kind", kind), slog.String("data", apperror.Truncate(string(data), maxEventLogBytes))))
}

// Events returns the events logged so far, oldest first, up to the newest
// 1,024.
func (b *Backend) Events() []Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]Event, len(b.events.events))
	for i, e := range b.events.events {
		out[i] = Event{Kind: e.Kind, At: e.At, Message: proto.Clone(e.Message)}
	}
	return out
}
