package memory

import (
	"context"
	"net/http"
	"testing"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// countEvents returns how many events of a kind the backend has logged.
func countEvents(b *Backend, kind string) int {
	n := 0
	for _, e := range b.Events() {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

// TestSendMailFollowsThePluginAPI checks SendMail against upstream's
// server/channels/app/plugin_api.go@f56166d6baa65d91684ba3b6455b65feef3ceace:PluginAPI.SendMail
// (the empty checks, in order, and their ids) and
// server/channels/app/email/email.go@bbcf0255dd29eabf840df3ead5ba32d5dc3af9bd:Service.SendNotificationMail
// (nothing is sent while SendEmailNotifications is off).
func TestSendMailFollowsThePluginAPI(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name              string
		to, subject, body string
		wantID            string // "" for success
		mails             int    // emails logged
	}{
		{"sent", "a@example.com", "s", "<p>b</p>", "", 1},
		{"no recipient first", "", "", "", "plugin_api.send_mail.missing_to", 0},
		{"no subject", "a@example.com", "", "", "plugin_api.send_mail.missing_subject", 0},
		{"no body", "a@example.com", "s", "", "plugin_api.send_mail.missing_htmlbody", 0},
		{"blank text is text", " ", " ", " ", "", 1},
		{"the address is the mailer's business", "not an address", "s", "b", "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := newTestBackend(t)
			_, err := b.SendMail(ctx, &pluginpb.SendMailRequest{To: tt.to, Subject: tt.subject, HtmlBody: tt.body})
			if tt.wantID != "" {
				wantAppErrorID(t, "SendMail", err, tt.wantID, http.StatusBadRequest)
			} else if err != nil {
				t.Fatalf("SendMail = %v; want success", err)
			}
			if n := countEvents(b, "email"); n != tt.mails {
				t.Errorf("emails logged = %d; want %d", n, tt.mails)
			}
		})
	}

	t.Run("notifications off", func(t *testing.T) {
		b, _ := newTestBackend(t)
		b.mu.Lock()
		section(b.config, "EmailSettings")["SendEmailNotifications"] = false
		b.mu.Unlock()
		if _, err := b.SendMail(ctx, &pluginpb.SendMailRequest{To: "a@example.com", Subject: "s", HtmlBody: "b"}); err != nil {
			t.Fatalf("SendMail = %v; want success", err)
		}
		if n := countEvents(b, "email"); n != 0 {
			t.Errorf("emails logged = %d; want none", n)
		}
		_, err := b.SendMail(ctx, &pluginpb.SendMailRequest{To: "a@example.com"})
		wantAppErrorID(t, "SendMail(no subject, notifications off)", err, "plugin_api.send_mail.missing_subject", http.StatusBadRequest)
	})
}

// TestSendPushNotificationFollowsTheAppLayer checks SendPushNotification
// against upstream's
// server/channels/app/plugin_api.go@004cacd43c54177e1e322e38ae1ebb0995feff69:PluginAPI.SendPushNotification
// and
// server/channels/app/notification_push.go@0d98113531e4cccab03d5332ac3cb0c374dd840c:App.sendPushNotificationToAllSessions:
// no user lookup, a nil message is api.push_notifications.message.parse.app_error
// (400), and one push goes to each unexpired session with a device id.
func TestSendPushNotificationFollowsTheAppLayer(t *testing.T) {
	ctx := context.Background()
	b, clock := newTestBackend(t)
	alice := create(t, b, newUser("alice"))
	now := clock.Now().UnixMilli()
	for _, s := range []*pluginpb.Session{
		{UserId: alice.GetId(), DeviceId: "android_rn:live"},
		{UserId: alice.GetId(), DeviceId: "apple_rn:later", ExpiresAt: now + 1000},
		{UserId: alice.GetId(), DeviceId: "apple_rn:expired", ExpiresAt: now - 1},
		{UserId: alice.GetId()}, // no device
	} {
		if _, err := b.CreateSession(ctx, &pluginpb.CreateSessionRequest{Session: s}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		userID  string
		message *pluginpb.PushNotification
		wantID  string
		pushes  int
	}{
		{"to each live device", alice.GetId(), &pluginpb.PushNotification{Message: "hi"}, "", 2},
		{"an unknown user has no devices", newID(), &pluginpb.PushNotification{Message: "hi"}, "", 0},
		{"a malformed user id has none either", "nope", &pluginpb.PushNotification{Message: "hi"}, "", 0},
		{"no notification", alice.GetId(), nil, "api.push_notifications.message.parse.app_error", 0},
		{"no notification for an unknown user", newID(), nil, "api.push_notifications.message.parse.app_error", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := countEvents(b, "push_notification")
			_, err := b.SendPushNotification(ctx, &pluginpb.SendPushNotificationRequest{UserId: tt.userID, Notification: tt.message})
			if tt.wantID != "" {
				wantAppErrorID(t, "SendPushNotification", err, tt.wantID, http.StatusBadRequest)
			} else if err != nil {
				t.Fatalf("SendPushNotification = %v; want success", err)
			}
			if n := countEvents(b, "push_notification") - before; n != tt.pushes {
				t.Errorf("pushes = %d; want %d", n, tt.pushes)
			}
		})
	}
}
