package memory

// This file holds the handlers of the frontend/websocket domain. What
// would reach clients goes to the event log.

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// triggerLifetime is how long a trigger id lets a plugin open a dialog,
// as Mattermost's InteractiveDialogTriggerTimeout.
const triggerLifetime = 3 * time.Minute

// PublishWebSocketEvent sends an event of the plugin to clients: to the
// event log, as "websocket_event". Clients receive it as
// "custom_<plugin id>_<event>".
func (b *Backend) PublishWebSocketEvent(ctx context.Context, req *pluginpb.PublishWebSocketEventRequest) (*pluginpb.PublishWebSocketEventResponse, error) {
	if strings.TrimSpace(req.GetEvent()) == "" {
		return nil, invalidParam("event")
	}
	b.record(ctx, "websocket_event", req)
	return &pluginpb.PublishWebSocketEventResponse{}, nil
}

// OpenInteractiveDialog opens a dialog for the user of a trigger: to the
// event log, as "interactive_dialog". As in Mattermost, the trigger id
// must come from a slash command of the last 3 minutes, and the dialog
// needs a URL to submit to and a title.
func (b *Backend) OpenInteractiveDialog(ctx context.Context, req *pluginpb.OpenInteractiveDialogRequest) (*pluginpb.OpenInteractiveDialogResponse, error) {
	d := req.GetDialog()
	if d == nil {
		return nil, invalidParam("dialog")
	}
	b.mu.Lock()
	issued, ok := b.commands.triggers[d.GetTriggerId()]
	expired := ok && b.now().Sub(issued) > triggerLifetime
	b.mu.Unlock()
	switch {
	case !ok:
		return nil, apperror.New("interactive_message.decode_trigger_id.base64_decode_failed",
			"Unknown trigger id: use the trigger id of a slash command.", "", http.StatusBadRequest)
	case expired:
		return nil, apperror.New("interactive_message.decode_trigger_id.expired",
			"The trigger id expired: dialogs open within 3 minutes of their command.", "", http.StatusBadRequest)
	case d.GetUrl() == "":
		return nil, apperror.New("interactive_message.open_dialog.missing_url",
			"The dialog needs a URL to submit to.", "", http.StatusBadRequest)
	case d.GetDialog().GetTitle() == "":
		return nil, apperror.New("interactive_message.open_dialog.missing_title", "The dialog needs a title.", "", http.StatusBadRequest)
	}
	b.record(ctx, "interactive_dialog", req)
	return &pluginpb.OpenInteractiveDialogResponse{}, nil
}

// SendToastMessage shows a toast to a user: to the event log, as "toast".
func (b *Backend) SendToastMessage(ctx context.Context, req *pluginpb.SendToastMessageRequest) (*pluginpb.SendToastMessageResponse, error) {
	if strings.TrimSpace(req.GetMessage()) == "" {
		return nil, apperror.New("api.plugin.send_toast_message.missing_message", "The toast needs a message.", "", http.StatusBadRequest)
	}
	switch req.GetOptions().GetPosition() {
	case "", "top-left", "top-center", "top-right", "bottom-left", "bottom-center", "bottom-right":
	default:
		return nil, invalidParam("options.position")
	}
	b.mu.Lock()
	_, err := b.user(req.GetUserId())
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	b.record(ctx, "toast", req)
	return &pluginpb.SendToastMessageResponse{}, nil
}

// PublishUserTyping tells clients that a user is typing in a channel: to
// the event log, as "user_typing".
func (b *Backend) PublishUserTyping(ctx context.Context, req *pluginpb.PublishUserTypingRequest) (*pluginpb.PublishUserTypingResponse, error) {
	if req.GetParentId() != "" && !isValidID(req.GetParentId()) {
		return nil, invalidParam("parent_id")
	}
	b.mu.Lock()
	_, err := b.user(req.GetUserId())
	if err == nil {
		_, err = b.channel(req.GetChannelId())
	}
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	b.record(ctx, "user_typing", req)
	return &pluginpb.PublishUserTypingResponse{}, nil
}
