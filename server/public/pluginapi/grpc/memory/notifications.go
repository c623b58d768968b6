package memory

// This file holds the handlers of the notifications domain. Mail and push
// notifications go to the event log.

import (
	"context"
	"net/http"

	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// SendMail sends an email: to the event log, as "email". As upstream's
// PluginAPI.SendMail, an empty recipient, subject or body is refused, in
// that order; the text is not trimmed and the address is not checked,
// which upstream leaves to its mailer. As email.Service.SendNotificationMail,
// nothing is sent, and the call succeeds, while
// EmailSettings.SendEmailNotifications is off.
func (b *Backend) SendMail(ctx context.Context, req *pluginpb.SendMailRequest) (*pluginpb.SendMailResponse, error) {
	for _, f := range []struct{ value, id string }{
		{req.GetTo(), "plugin_api.send_mail.missing_to"},
		{req.GetSubject(), "plugin_api.send_mail.missing_subject"},
		{req.GetHtmlBody(), "plugin_api.send_mail.missing_htmlbody"},
	} {
		if f.value == "" {
			return nil, apperror.New(f.id, "The email needs a recipient, a subject and a body.", "", http.StatusBadRequest)
		}
	}
	b.mu.Lock()
	enabled := b.configBool("EmailSettings", "SendEmailNotifications")
	b.mu.Unlock()
	if enabled {
		b.record(ctx, "email", req)
	}
	return &pluginpb.SendMailResponse{}, nil
}

// SendPushNotification sends a push notification to a user's devices: to
// the event log, as "push_notification", once per unexpired session of
// the user with a device id. As upstream's
// App.sendPushNotificationToAllSessions, the user is not looked up (an
// unknown user has no sessions, so nothing is sent), and a missing
// notification is api.push_notifications.message.parse.app_error (400).
func (b *Backend) SendPushNotification(ctx context.Context, req *pluginpb.SendPushNotificationRequest) (*pluginpb.SendPushNotificationResponse, error) {
	b.mu.Lock()
	now := b.nowMillis()
	var devices []string
	for _, s := range b.sessions.byID {
		expired := s.GetExpiresAt() > 0 && now > s.GetExpiresAt()
		if s.GetUserId() == req.GetUserId() && s.GetDeviceId() != "" && !expired {
			devices = append(devices, s.GetDeviceId())
		}
	}
	b.mu.Unlock()
	if req.GetNotification() == nil {
		return nil, apperror.New("api.push_notifications.message.parse.app_error", "There is no notification to send.", "",
			http.StatusBadRequest)
	}
	for _, device := range devices {
		n := &pluginpb.SendPushNotificationRequest{UserId: req.GetUserId(),
			Notification: proto.Clone(req.GetNotification()).(*pluginpb.PushNotification)}
		n.Notification.DeviceId = device
		b.record(ctx, "push_notification", n)
	}
	return &pluginpb.SendPushNotificationResponse{}, nil
}
