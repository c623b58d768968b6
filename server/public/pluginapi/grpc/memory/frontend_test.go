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
