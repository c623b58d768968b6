package memory

import (
	"context"
	"net/http"
	"testing"
	"time"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// TestOpenInteractiveDialogFollowsTheAppLayer checks the dialog against
// App.OpenInteractiveDialog
// (server/channels/app/integration_action.go@1d9028b1467715e6ac383824e6467111ad7ea89a):
// the trigger id lives ServiceSettings.OutgoingIntegrationRequestsTimeout
// seconds (30 by default), and an invalid dialog is only logged.
func TestOpenInteractiveDialogFollowsTheAppLayer(t *testing.T) {
	ctx := context.Background()
	b, clock := newTestBackend(t)
	trigger := func() string {
		id := newID()
		b.mu.Lock()
		b.commands.triggers[id] = b.now()
		b.mu.Unlock()
		return id
	}
	open := func(d *pluginpb.OpenDialogRequest) error {
		_, err := b.OpenInteractiveDialog(ctx, &pluginpb.OpenInteractiveDialogRequest{Dialog: d})
		return err
	}
	// No URL and no title: upstream opens it anyway.
	if err := open(&pluginpb.OpenDialogRequest{TriggerId: trigger()}); err != nil {
		t.Errorf("OpenInteractiveDialog(invalid dialog) = %v; want it opened", err)
	}
	tests := []struct {
		timeout any // the setting; nil leaves the default
		after   time.Duration
		expired bool
	}{
		{nil, 30 * time.Second, false},
		{nil, 31 * time.Second, true},
		{float64(120), 2 * time.Minute, false},
		{float64(120), 121 * time.Second, true},
	}
	for _, tt := range tests {
		setSetting(b, "ServiceSettings", "OutgoingIntegrationRequestsTimeout", tt.timeout)
		id := trigger()
		clock.Advance(tt.after)
		err := open(&pluginpb.OpenDialogRequest{TriggerId: id, Url: "http://localhost/submit", Dialog: &pluginpb.Dialog{Title: "T"}})
		if tt.expired {
			wantAppErrorID(t, "OpenInteractiveDialog(expired)", err, "interactive_message.decode_trigger_id.expired", http.StatusBadRequest)
		} else if err != nil {
			t.Errorf("OpenInteractiveDialog(after %v, timeout %v) = %v", tt.after, tt.timeout, err)
		}
	}
	err := open(&pluginpb.OpenDialogRequest{TriggerId: "unknown"})
	wantAppErrorID(t, "OpenInteractiveDialog(unknown trigger)", err, "interactive_message.decode_trigger_id.base64_decode_failed", http.StatusBadRequest)
}

// TestSendToastMessageFollowsTheAppLayer checks the toast against
// App.SendToastMessage
// (server/channels/app/toast.go@3f6ccad33527e6e6d118879e9ebe3da33d92c489):
// an empty user id, then an empty message, are refused; the user is not
// looked up.
func TestSendToastMessageFollowsTheAppLayer(t *testing.T) {
	ctx := context.Background()
	b, _ := newTestBackend(t)
	tests := []struct {
		userID, message string
		id              string
	}{
		{"", "", "app.toast.send_toast_message.user_id.app_error"},
		{newID(), "", "app.toast.send_toast_message.message.app_error"},
		{"not a user", "Saved", ""},
		{newID(), " ", ""},
	}
	for _, tt := range tests {
		_, err := b.SendToastMessage(ctx, &pluginpb.SendToastMessageRequest{UserId: tt.userID, Message: tt.message})
		if tt.id != "" {
			wantAppErrorID(t, "SendToastMessage", err, tt.id, http.StatusBadRequest)
		} else if err != nil {
			t.Errorf("SendToastMessage(%q, %q) = %v", tt.userID, tt.message, err)
		}
	}
}

// TestPublishingChecksNothing checks the events upstream publishes without
// a check: App.PublishUserTyping (server/channels/app/user.go@00e24de1),
// PluginAPI.PublishWebSocketEvent (server/channels/app/plugin_api.go@004cacd4)
// and the toast's position in App.SendToastMessage
// (server/channels/app/toast.go@3f6ccad3). Unknown or malformed ids and an
// empty event are published.
func TestPublishingChecksNothing(t *testing.T) {
	ctx := context.Background()
	b, _ := newTestBackend(t)
	tests := []struct {
		name string
		kind string
		call func() error
	}{
		{"typing of nobody in no channel", "user_typing", func() error {
			_, err := b.PublishUserTyping(ctx, &pluginpb.PublishUserTypingRequest{UserId: newID(), ChannelId: newID()})
			return err
		}},
		{"typing with malformed ids", "user_typing", func() error {
			_, err := b.PublishUserTyping(ctx, &pluginpb.PublishUserTypingRequest{UserId: "x", ChannelId: "", ParentId: "not an id"})
			return err
		}},
		{"empty websocket event", "websocket_event", func() error {
			_, err := b.PublishWebSocketEvent(ctx, &pluginpb.PublishWebSocketEventRequest{})
			return err
		}},
		{"blank websocket event", "websocket_event", func() error {
			_, err := b.PublishWebSocketEvent(ctx, &pluginpb.PublishWebSocketEventRequest{Event: " "})
			return err
		}},
		{"toast at no known position", "toast", func() error {
			_, err := b.SendToastMessage(ctx, &pluginpb.SendToastMessageRequest{UserId: newID(), Message: "Saved",
				Options: &pluginpb.SendToastMessageOptions{Position: "middle"}})
			return err
		}},
	}
	for _, tt := range tests {
		before := len(b.Events())
		if err := tt.call(); err != nil {
			t.Errorf("%s: %v; want it published", tt.name, err)
			continue
		}
		events := b.Events()
		if len(events) != before+1 || events[len(events)-1].Kind != tt.kind {
			t.Errorf("%s: no %q event was recorded", tt.name, tt.kind)
		}
	}
}
