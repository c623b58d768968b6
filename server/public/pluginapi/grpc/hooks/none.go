package hooks

import (
	"context"
	"io"
	"net/http"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// None is the [Hooks] of a plugin that implements no hook, or that cannot
// be reached: every change goes through unchanged, as Mattermost's hooks
// client answers for a hook the plugin lacks.
type None struct{}

var _ Hooks = None{}

// OnActivate does nothing.
func (None) OnActivate(context.Context) error { return nil }

// OnDeactivate does nothing.
func (None) OnDeactivate(context.Context) error { return nil }

// OnConfigurationChange does nothing.
func (None) OnConfigurationChange(context.Context) error { return nil }

// MessageWillBePosted keeps the post.
func (None) MessageWillBePosted(_ context.Context, _ *pluginpb.Context, post *pluginpb.Post) (*pluginpb.Post, string) {
	return post, ""
}

// MessageWillBeUpdated keeps the edit.
func (None) MessageWillBeUpdated(_ context.Context, _ *pluginpb.Context, newPost, _ *pluginpb.Post) (*pluginpb.Post, string) {
	return newPost, ""
}

// MessageHasBeenPosted does nothing.
func (None) MessageHasBeenPosted(context.Context, *pluginpb.Context, *pluginpb.Post) {}

// MessageHasBeenUpdated does nothing.
func (None) MessageHasBeenUpdated(context.Context, *pluginpb.Context, *pluginpb.Post, *pluginpb.Post) {
}

// MessageHasBeenDeleted does nothing.
func (None) MessageHasBeenDeleted(context.Context, *pluginpb.Context, *pluginpb.Post) {}

// ReactionHasBeenAdded does nothing.
func (None) ReactionHasBeenAdded(context.Context, *pluginpb.Context, *pluginpb.Reaction) {}

// ReactionHasBeenRemoved does nothing.
func (None) ReactionHasBeenRemoved(context.Context, *pluginpb.Context, *pluginpb.Reaction) {}

// ChannelHasBeenCreated does nothing.
func (None) ChannelHasBeenCreated(context.Context, *pluginpb.Context, *pluginpb.Channel) {}

// UserHasJoinedChannel does nothing.
func (None) UserHasJoinedChannel(context.Context, *pluginpb.Context, *pluginpb.ChannelMember, *pluginpb.User) {
}

// UserHasLeftChannel does nothing.
func (None) UserHasLeftChannel(context.Context, *pluginpb.Context, *pluginpb.ChannelMember, *pluginpb.User) {
}

// TeamMemberWillBeAdded keeps the membership.
func (None) TeamMemberWillBeAdded(_ context.Context, _ *pluginpb.Context, member *pluginpb.TeamMember) (*pluginpb.TeamMember, string) {
	return member, ""
}

// UserHasJoinedTeam does nothing.
func (None) UserHasJoinedTeam(context.Context, *pluginpb.Context, *pluginpb.TeamMember, *pluginpb.User) {
}

// UserHasLeftTeam does nothing.
func (None) UserHasLeftTeam(context.Context, *pluginpb.Context, *pluginpb.TeamMember, *pluginpb.User) {
}

// ExecuteCommand does not handle the command.
func (None) ExecuteCommand(context.Context, *pluginpb.Context, *pluginpb.CommandArgs) (*pluginpb.CommandResponse, error) {
	return nil, nil
}

// ServeHTTP answers 404, as the host does for a plugin without the hook.
func (None) ServeHTTP(_ *pluginpb.Context, w http.ResponseWriter, _ *http.Request) {
	http.NotFound(w, nil)
}

// ServeMetrics answers 404, as ServeHTTP.
func (None) ServeMetrics(_ *pluginpb.Context, w http.ResponseWriter, _ *http.Request) {
	http.NotFound(w, nil)
}

// FileWillBeUploaded keeps the upload.
func (None) FileWillBeUploaded(_ context.Context, _ *pluginpb.Context, info *pluginpb.FileInfo, _ io.Reader, _ io.Writer) (*pluginpb.FileInfo, string) {
	return info, ""
}
