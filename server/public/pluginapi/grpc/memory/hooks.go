package memory

import (
	"context"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// Hooks receives the events of a Backend at the points where a Mattermost
// server calls its plugins' hooks, with the same arguments. It is the seam
// where the hooks client plugs in; until a [WithHooks] option sets one, a
// Backend uses [NoHooks].
//
// The "will be" methods run before the change is stored and may change or
// reject it: a non-empty reason rejects it. The "has been" methods run
// after it is stored. A Backend calls them without holding its lock, so an
// implementation may call back into the Backend.
type Hooks interface {
	// TeamMemberWillBeAdded runs before a user joins a team. It returns the
	// member to store, or a reason to reject the join.
	TeamMemberWillBeAdded(ctx context.Context, member *pluginpb.TeamMember) (*pluginpb.TeamMember, string)
	// UserHasJoinedTeam runs after a user joined a team; actor is the user
	// who added them, or nil.
	UserHasJoinedTeam(ctx context.Context, member *pluginpb.TeamMember, actor *pluginpb.User)
	// UserHasLeftTeam runs after a user left a team; actor is the user who
	// removed them, or nil.
	UserHasLeftTeam(ctx context.Context, member *pluginpb.TeamMember, actor *pluginpb.User)
	// ChannelHasBeenCreated runs after a channel, a direct or a group
	// message was created.
	ChannelHasBeenCreated(ctx context.Context, channel *pluginpb.Channel)
	// UserHasJoinedChannel runs after a user joined a channel; actor is the
	// user who added them, or nil.
	UserHasJoinedChannel(ctx context.Context, member *pluginpb.ChannelMember, actor *pluginpb.User)
	// UserHasLeftChannel runs after a user left a channel; actor is the
	// user who removed them, or nil.
	UserHasLeftChannel(ctx context.Context, member *pluginpb.ChannelMember, actor *pluginpb.User)
	// MessageWillBePosted runs before a post is stored. It returns the post
	// to store, nil to keep it unchanged, or a reason to reject it.
	MessageWillBePosted(ctx context.Context, post *pluginpb.Post) (*pluginpb.Post, string)
	// MessageHasBeenPosted runs after a post was stored.
	MessageHasBeenPosted(ctx context.Context, post *pluginpb.Post)
	// MessageHasBeenDeleted runs after a post was deleted.
	MessageHasBeenDeleted(ctx context.Context, post *pluginpb.Post)
	// UserHasBeenCreated runs after a user was created.
	UserHasBeenCreated(ctx context.Context, user *pluginpb.User)
	// MessageWillBeUpdated runs before an edit is stored. It returns the
	// post to store; nil or a reason rejects the edit.
	MessageWillBeUpdated(ctx context.Context, newPost, oldPost *pluginpb.Post) (*pluginpb.Post, string)
	// MessageHasBeenUpdated runs after an edit was stored.
	MessageHasBeenUpdated(ctx context.Context, newPost, oldPost *pluginpb.Post)
	// ReactionHasBeenAdded runs after a reaction was stored.
	ReactionHasBeenAdded(ctx context.Context, reaction *pluginpb.Reaction)
	// ReactionHasBeenRemoved runs after a reaction was removed.
	ReactionHasBeenRemoved(ctx context.Context, reaction *pluginpb.Reaction)
	// ExecuteCommand runs a slash command that the plugin registered, and
	// returns its answer or an error.
	ExecuteCommand(ctx context.Context, args *pluginpb.CommandArgs) (*pluginpb.CommandResponse, error)
}

// NoHooks is the [Hooks] of a Backend without plugins: it accepts every
// change and ignores every event.
type NoHooks struct{}

var _ Hooks = NoHooks{}

// TeamMemberWillBeAdded accepts member unchanged.
func (NoHooks) TeamMemberWillBeAdded(_ context.Context, member *pluginpb.TeamMember) (*pluginpb.TeamMember, string) {
	return member, ""
}

// UserHasJoinedTeam does nothing.
func (NoHooks) UserHasJoinedTeam(context.Context, *pluginpb.TeamMember, *pluginpb.User) {}

// UserHasLeftTeam does nothing.
func (NoHooks) UserHasLeftTeam(context.Context, *pluginpb.TeamMember, *pluginpb.User) {}

// ChannelHasBeenCreated does nothing.
func (NoHooks) ChannelHasBeenCreated(context.Context, *pluginpb.Channel) {}

// UserHasJoinedChannel does nothing.
func (NoHooks) UserHasJoinedChannel(context.Context, *pluginpb.ChannelMember, *pluginpb.User) {}

// UserHasLeftChannel does nothing.
func (NoHooks) UserHasLeftChannel(context.Context, *pluginpb.ChannelMember, *pluginpb.User) {}

// MessageWillBePosted keeps the post unchanged.
func (NoHooks) MessageWillBePosted(context.Context, *pluginpb.Post) (*pluginpb.Post, string) {
	return nil, ""
}

// MessageHasBeenPosted does nothing.
func (NoHooks) MessageHasBeenPosted(context.Context, *pluginpb.Post) {}

// MessageWillBeUpdated accepts the edit unchanged.
func (NoHooks) MessageWillBeUpdated(_ context.Context, newPost, _ *pluginpb.Post) (*pluginpb.Post, string) {
	return newPost, ""
}

// MessageHasBeenUpdated does nothing.
func (NoHooks) MessageHasBeenUpdated(context.Context, *pluginpb.Post, *pluginpb.Post) {}

// ReactionHasBeenAdded does nothing.
func (NoHooks) ReactionHasBeenAdded(context.Context, *pluginpb.Reaction) {}

// MessageHasBeenDeleted does nothing.
func (NoHooks) MessageHasBeenDeleted(context.Context, *pluginpb.Post) {}

// UserHasBeenCreated does nothing.
func (NoHooks) UserHasBeenCreated(context.Context, *pluginpb.User) {}

// ReactionHasBeenRemoved does nothing.
func (NoHooks) ReactionHasBeenRemoved(context.Context, *pluginpb.Reaction) {}

// ExecuteCommand answers with an empty ephemeral response, as a command
// of a plugin that does nothing.
func (NoHooks) ExecuteCommand(context.Context, *pluginpb.CommandArgs) (*pluginpb.CommandResponse, error) {
	return &pluginpb.CommandResponse{}, nil
}
