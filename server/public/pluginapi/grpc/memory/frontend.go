package memory

// This file holds the handlers of the frontend/websocket domain. What
// would reach clients goes to the event log.

import (
	"context"
	"net/http"
	"time"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// defaultTriggerLifetime is how long a trigger id lets a plugin open a
// dialog when ServiceSettings.OutgoingIntegrationRequestsTimeout is not
// set: Mattermost's default, 30 seconds.
const defaultTriggerLifetime = 30 * time.Second

// triggerLifetime is ServiceSettings.OutgoingIntegrationRequestsTimeout, the
// lifetime App.OpenInteractiveDialog gives a trigger id. The caller holds
// the lock.
func (b *Backend) triggerLifetime() time.Duration {
	if s := b.configNumber("ServiceSettings", "OutgoingIntegrationRequestsTimeout"); s > 0 {
		return time.Duration(s * float64(time.Second))
	}
	return defaultTriggerLifetime
}

// PublishWebSocketEvent sends an event of the plugin to clients: to the
// event log, as "websocket_event". Clients receive it as
// "custom_<plugin id>_<event>". As PluginAPI.PublishWebSocketEvent
// (server/channels/app/plugin_api.go@004cacd4), nothing is checked, an
// empty event included, and nothing fails.
func (b *Backend) PublishWebSocketEvent(ctx context.Context, req *pluginpb.PublishWebSocketEventRequest) (*pluginpb.PublishWebSocketEventResponse, error) {
	b.record(ctx, "websocket_event", req)
	return &pluginpb.PublishWebSocketEventResponse{}, nil
}

// OpenInteractiveDialog opens a dialog for the user of a trigger: to the
// event log, as "interactive_dialog". As App.OpenInteractiveDialog
// (server/channels/app/integration_action.go@1d9028b1467715e6ac383824e6467111ad7ea89a),
// the trigger id must be a slash command's of the last
// OutgoingIntegrationRequestsTimeout seconds; the dialog itself is not
// refused: upstream only logs what OpenDialogRequest.IsValid finds.
func (b *Backend) OpenInteractiveDialog(ctx context.Context, req *pluginpb.OpenInteractiveDialogRequest) (*pluginpb.OpenInteractiveDialogResponse, error) {
	d := req.GetDialog()
	if d == nil {
		return nil, invalidParam("dialog")
	}
	b.mu.Lock()
	issued, ok := b.commands.triggers[d.GetTriggerId()]
	lifetime := b.triggerLifetime()
	expired := ok && b.now().Sub(issued) > lifetime
	b.mu.Unlock()
	switch {
	case !ok:
		return nil, apperror.New("interactive_message.decode_trigger_id.base64_decode_failed",
			"Unknown trigger id: use the trigger id of a slash command.", "", http.StatusBadRequest)
	case expired:
		return nil, apperror.New("interactive_message.decode_trigger_id.expired",
			"The trigger id expired: dialogs open within "+lifetime.String()+" of their command.", "", http.StatusBadRequest)
	}
	b.record(ctx, "interactive_dialog", req)
	return &pluginpb.OpenInteractiveDialogResponse{}, nil
}

// SendToastMessage shows a toast to a user: to the event log, as "toast".
// As App.SendToastMessage
// (server/channels/app/toast.go@3f6ccad33527e6e6d118879e9ebe3da33d92c489),
// the user id and the message must not be empty; the user is not looked up
// and the position is passed on as it is.
func (b *Backend) SendToastMessage(ctx context.Context, req *pluginpb.SendToastMessageRequest) (*pluginpb.SendToastMessageResponse, error) {
	switch {
	case req.GetUserId() == "":
		return nil, apperror.New("app.toast.send_toast_message.user_id.app_error", "The toast needs a user id.", "", http.StatusBadRequest)
	case req.GetMessage() == "":
		return nil, apperror.New("app.toast.send_toast_message.message.app_error", "The toast needs a message.", "", http.StatusBadRequest)
	}
	b.record(ctx, "toast", req)
	return &pluginpb.SendToastMessageResponse{}, nil
}

// PublishUserTyping tells clients that a user is typing in a channel: to
// the event log, as "user_typing". As App.PublishUserTyping
// (server/channels/app/user.go@00e24de1), no id is checked and nothing is
// looked up: the event goes to the channel's clients and nothing fails.
func (b *Backend) PublishUserTyping(ctx context.Context, req *pluginpb.PublishUserTypingRequest) (*pluginpb.PublishUserTypingResponse, error) {
	b.record(ctx, "user_typing", req)
	return &pluginpb.PublishUserTypingResponse{}, nil
}
