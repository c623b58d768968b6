package memory

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// auditRecord is a full record, every field set.
func auditRecord(t *testing.T, event string) *pluginpb.AuditRecord {
	t.Helper()
	params, err := structpb.NewStruct(map[string]any{"channel_id": "c1", "count": 2})
	if err != nil {
		t.Fatal(err)
	}
	return &pluginpb.AuditRecord{
		EventName: event, Status: "fail",
		EventData: &pluginpb.AuditEventData{Parameters: params, ObjectType: "channel"},
		Actor:     &pluginpb.AuditEventActor{UserId: newID(), SessionId: newID(), Client: "plugin", IpAddress: "10.0.0.1"},
		Meta:      params,
		Error:     &pluginpb.AuditEventError{Description: "denied", StatusCode: 403},
	}
}

// TestLogAuditRecRecordsWhatItIsGiven checks LogAuditRec and
// LogAuditRecWithLevel against App.LogAuditRecWithLevel
// (server/channels/app/audit.go@1e38e53279837150fa293aaa1c658bdcb5923f12):
// a missing record is ignored, without an error; any other record is
// logged as it is, at the level given, which nothing checks; the empty
// event name too. LogAuditRec's level is "audit-api", as audit.proto
// says. Neither call fails.
func TestLogAuditRecRecordsWhatItIsGiven(t *testing.T) {
	rec := auditRecord(t, "createWidget")
	tests := []struct {
		name string
		call func(b *Backend) error
		want *pluginpb.LogAuditRecWithLevelRequest // nil: no event
	}{
		{"LogAuditRec", func(b *Backend) error {
			_, err := b.LogAuditRec(context.Background(), &pluginpb.LogAuditRecRequest{Rec: rec})
			return err
		}, &pluginpb.LogAuditRecWithLevelRequest{Rec: rec, Level: "audit-api"}},
		{"LogAuditRec without a record", func(b *Backend) error {
			_, err := b.LogAuditRec(context.Background(), &pluginpb.LogAuditRecRequest{})
			return err
		}, nil},
		{"LogAuditRec with an empty record", func(b *Backend) error {
			_, err := b.LogAuditRec(context.Background(), &pluginpb.LogAuditRecRequest{Rec: &pluginpb.AuditRecord{}})
			return err
		}, &pluginpb.LogAuditRecWithLevelRequest{Rec: &pluginpb.AuditRecord{}, Level: "audit-api"}},
		{"LogAuditRecWithLevel", func(b *Backend) error {
			_, err := b.LogAuditRecWithLevel(context.Background(), &pluginpb.LogAuditRecWithLevelRequest{Rec: rec, Level: "audit-content"})
			return err
		}, &pluginpb.LogAuditRecWithLevelRequest{Rec: rec, Level: "audit-content"}},
		{"LogAuditRecWithLevel at a log level", func(b *Backend) error {
			_, err := b.LogAuditRecWithLevel(context.Background(), &pluginpb.LogAuditRecWithLevelRequest{Rec: rec, Level: "info"})
			return err
		}, &pluginpb.LogAuditRecWithLevelRequest{Rec: rec, Level: "info"}},
		{"LogAuditRecWithLevel at no level", func(b *Backend) error {
			_, err := b.LogAuditRecWithLevel(context.Background(), &pluginpb.LogAuditRecWithLevelRequest{Rec: rec})
			return err
		}, &pluginpb.LogAuditRecWithLevelRequest{Rec: rec}},
		{"LogAuditRecWithLevel at an unknown level", func(b *Backend) error {
			_, err := b.LogAuditRecWithLevel(context.Background(), &pluginpb.LogAuditRecWithLevelRequest{Rec: rec, Level: "no such level"})
			return err
		}, &pluginpb.LogAuditRecWithLevelRequest{Rec: rec, Level: "no such level"}},
		{"LogAuditRecWithLevel without a record", func(b *Backend) error {
			_, err := b.LogAuditRecWithLevel(context.Background(), &pluginpb.LogAuditRecWithLevelRequest{Level: "audit-api"})
			return err
		}, nil},
		{"LogAuditRecWithLevel without a request", func(b *Backend) error {
			_, err := b.LogAuditRecWithLevel(context.Background(), nil)
			return err
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{now: time.UnixMilli(1_700_000_060_000)}
			b := New(Clock(clock.Now), Logger(slog.New(slog.DiscardHandler)))
			if err := tt.call(b); err != nil {
				t.Fatalf("%s = %v; want no error", tt.name, err)
			}
			events := b.Events()
			if tt.want == nil {
				if len(events) != 0 {
					t.Errorf("events = %v; want none", events)
				}
				return
			}
			if len(events) != 1 {
				t.Fatalf("events = %v; want one", events)
			}
			e := events[0]
			if e.Kind != "audit" || !e.At.Equal(clock.Now()) || !proto.Equal(e.Message, tt.want) {
				t.Errorf("event = %s at %v: %v; want audit at %v: %v", e.Kind, e.At, e.Message, clock.Now(), tt.want)
			}
		})
	}
}

// TestAuditEventsKeepACopy checks that the event log keeps the record as
// it was when it was logged: a plugin that changes its record afterwards,
// or a reader that changes what Events returned, changes nothing.
func TestAuditEventsKeepACopy(t *testing.T) {
	b := New(Logger(slog.New(slog.DiscardHandler)))
	rec := auditRecord(t, "first")
	if _, err := b.LogAuditRecWithLevel(context.Background(), &pluginpb.LogAuditRecWithLevelRequest{Rec: rec, Level: "audit-perms"}); err != nil {
		t.Fatal(err)
	}
	rec.EventName, rec.Actor.UserId = "changed", "changed"
	read := b.Events()[0].Message.(*pluginpb.LogAuditRecWithLevelRequest)
	read.Level = "changed"
	got := b.Events()[0].Message.(*pluginpb.LogAuditRecWithLevelRequest)
	if got.GetRec().GetEventName() != "first" || got.GetRec().GetActor().GetUserId() == "changed" || got.GetLevel() != "audit-perms" {
		t.Errorf("logged record = %v; want it as it was logged", got)
	}
}

// TestAuditEventsGoToTheServerLog checks what the server log shows of an
// audit record: an info record "plugin event" whose event group holds the
// kind and the record's JSON, with the proto field names.
func TestAuditEventsGoToTheServerLog(t *testing.T) {
	var buf bytes.Buffer
	b := New(Logger(slog.New(slog.NewJSONHandler(&buf, nil))))
	rec := auditRecord(t, "deleteWidget")
	if _, err := b.LogAuditRec(context.Background(), &pluginpb.LogAuditRecRequest{Rec: rec}); err != nil {
		t.Fatal(err)
	}
	var line struct {
		Level, Msg string
		Event      struct{ Kind, Data string }
	}
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("log line %q: %v", buf.String(), err)
	}
	if line.Level != "INFO" || line.Msg != "plugin event" || line.Event.Kind != "audit" {
		t.Errorf("log line = %+v; want an INFO plugin event of kind audit", line)
	}
	for _, want := range []string{`"event_name":"deleteWidget"`, `"level":"audit-api"`, `"status_code":403`, `"object_type":"channel"`} {
		if !strings.Contains(strings.ReplaceAll(line.Event.Data, " ", ""), want) {
			t.Errorf("event data %s; want it to hold %s", line.Event.Data, want)
		}
	}
}

// TestAuditRecordsNeverFail pins server/channels/app/audit.go@0d45f357:
// App.LogAuditRecWithLevel ignores a missing record and writes any other
// record at any level; upstream's API.LogAuditRec returns nothing.
func TestAuditRecordsNeverFail(t *testing.T) {
	b, _ := newTestBackend(t)
	ctx := context.Background()
	calls := []func() error{
		func() error { _, err := b.LogAuditRec(ctx, &pluginpb.LogAuditRecRequest{}); return err },
		func() error {
			_, err := b.LogAuditRecWithLevel(ctx, &pluginpb.LogAuditRecWithLevelRequest{Level: "audit-api"})
			return err
		},
		func() error {
			_, err := b.LogAuditRec(ctx, &pluginpb.LogAuditRecRequest{Rec: &pluginpb.AuditRecord{}})
			return err
		},
		func() error {
			_, err := b.LogAuditRecWithLevel(ctx, &pluginpb.LogAuditRecWithLevelRequest{Rec: &pluginpb.AuditRecord{EventName: "x"}, Level: "loud"})
			return err
		},
	}
	for i, call := range calls {
		if err := call(); err != nil {
			t.Errorf("call %d = %v; want no error", i, err)
		}
	}
	var audits int
	for _, e := range b.Events() {
		if e.Kind == "audit" {
			audits++
		}
	}
	if audits != 2 {
		t.Errorf("%d audit events; want 2 (the missing records are ignored)", audits)
	}
}
