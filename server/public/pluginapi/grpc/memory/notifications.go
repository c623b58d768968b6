package memory

// This file holds the handlers of the notifications domain. Mail and push
// notifications go to the event log.

import (
	"context"
	"net/http"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// SendMail sends an email: to the event log, as "email". As in
// Mattermost, the recipient, subject and body are required.
func (b *Backend) SendMail(ctx context.Context, req *pluginpb.SendMailRequest) (*pluginpb.SendMailResponse, error) {
	for _, f := range []struct{ value, id string }{
		{req.GetTo(), "api.plugin.send_mail.missing_to"},
		{req.GetSubject(), "api.plugin.send_mail.missing_subject"},
		{req.GetHtmlBody(), "api.plugin.send_mail.missing_htmlbody"},
	} {
		if strings.TrimSpace(f.value) == "" {
			return nil, apperror.New(f.id, "The email needs a recipient, a subject and a body.", "", http.StatusBadRequest)
		}
	}
	if !isValidEmail(req.GetTo()) {
		return nil, apperror.New("api.plugin.send_mail.invalid_to", "Invalid recipient address.", "", http.StatusBadRequest)
	}
	b.record(ctx, "email", req)
	return &pluginpb.SendMailResponse{}, nil
}

// SendPushNotification sends a push notification to a user's devices: to
// the event log, as "push_notification", once per session of the user
// with a device id.
func (b *Backend) SendPushNotification(ctx context.Context, req *pluginpb.SendPushNotificationRequest) (*pluginpb.SendPushNotificationResponse, error) {
	if req.GetNotification() == nil {
		return nil, invalidParam("notification")
	}
	b.mu.Lock()
	_, err := b.user(req.GetUserId())
	var devices []string
	for _, s := range b.sessions.byID {
		if s.GetUserId() == req.GetUserId() && s.GetDeviceId() != "" {
			devices = append(devices, s.GetDeviceId())
		}
	}
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	for _, device := range devices {
		n := &pluginpb.SendPushNotificationRequest{UserId: req.GetUserId(),
			Notification: proto.Clone(req.GetNotification()).(*pluginpb.PushNotification)}
		n.Notification.DeviceId = device
		b.record(ctx, "push_notification", n)
	}
	return &pluginpb.SendPushNotificationResponse{}, nil
}
