package memory

import (
	"context"
	"io"
	"net/http"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"

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
//
// The methods have the signatures of hooks.Multi's, which are generated
// from the contract for every hook that has a rule for several plugins: a
// host meets this interface by embedding a *hooks.Multi, and writes only
// ExecuteCommand (one plugin) and OnConfigurationChange (a lifecycle hook)
// itself. A hook added here that hooks.Multi lacks fails the host's build.
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
	// NotificationsWillBeSent runs after a post was stored, before its
	// notifications would be sent. A reason stops them; the post stays.
	NotificationsWillBeSent(ctx context.Context, post *pluginpb.Post) string
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
	// ExecuteCommand runs a slash command in the plugin that registered
	// it, pluginID, and returns its answer or an error.
	ExecuteCommand(ctx context.Context, pluginID string, args *pluginpb.CommandArgs) (*pluginpb.CommandResponse, error)
	// ChannelMemberWillBeAdded runs before a user joins a channel. It
	// returns the member to store, or a reason to reject the join.
	ChannelMemberWillBeAdded(ctx context.Context, member *pluginpb.ChannelMember) (*pluginpb.ChannelMember, string)
	// ChannelWillBeArchived runs before a channel is archived. A reason
	// rejects the archiving.
	ChannelWillBeArchived(ctx context.Context, channel *pluginpb.Channel) string
	// ChannelWillBeUpdated runs before a channel's update is stored. It
	// returns the channel to store, whole, or a reason to reject it.
	ChannelWillBeUpdated(ctx context.Context, newChannel, oldChannel *pluginpb.Channel) (*pluginpb.Channel, string)
	// ChannelWillBeRestored runs before an archived channel is restored. A
	// reason rejects the restore.
	ChannelWillBeRestored(ctx context.Context, channel *pluginpb.Channel) string
	// UserWillBeUpdated runs before a user's update is checked and stored.
	// It returns the user to store, or a reason to reject the update.
	UserWillBeUpdated(ctx context.Context, newUser, oldUser *pluginpb.User) (*pluginpb.User, string)
	// UserHasBeenDeactivated runs after an active user was deactivated.
	UserHasBeenDeactivated(ctx context.Context, user *pluginpb.User)
	// PreferencesHaveChanged runs after preferences were saved.
	PreferencesHaveChanged(ctx context.Context, preferences []*pluginpb.Preference)
	// ConfigurationWillBeSaved runs before the configuration is saved. It
	// returns the configuration to save instead, whole, or nil to keep
	// it; an error fails the save.
	ConfigurationWillBeSaved(ctx context.Context, newConfig *pluginpb.Config) (*pluginpb.Config, error)
	// OnConfigurationChange runs after the configuration, or a plugin's
	// settings in it, changed.
	OnConfigurationChange(ctx context.Context)
	// FileWillBeUploaded runs after an uploaded file's data is stored and
	// before its info is. It reads the data from file and may write
	// replacement data to output; it returns the info to store and a
	// reason to reject the upload.
	FileWillBeUploaded(ctx context.Context, info *pluginpb.FileInfo, file io.Reader, output io.Writer) (*pluginpb.FileInfo, string)
}

// rejectedByPlugin is the error of a change that a plugin rejected, in
// the shape of Mattermost's membership and lifecycle hooks: a real i18n
// id, and the plugin's reason in the Reason parameter, with HTTP 400.
// apperror bounds the reason where the status is made.
func rejectedByPlugin(id, what, reason string) *apperror.Error {
	e := apperror.New(id, what+": "+reason, "", http.StatusBadRequest)
	e.Params = map[string]string{"Reason": reason}
	return e
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

// MessageWillBePosted keeps the post unchanged, answering it back as a
// host without plugins does.
func (NoHooks) MessageWillBePosted(_ context.Context, post *pluginpb.Post) (*pluginpb.Post, string) {
	return post, ""
}

// MessageHasBeenPosted does nothing.
func (NoHooks) MessageHasBeenPosted(context.Context, *pluginpb.Post) {}

// NotificationsWillBeSent lets the notifications go.
func (NoHooks) NotificationsWillBeSent(context.Context, *pluginpb.Post) string { return "" }

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
func (NoHooks) ExecuteCommand(context.Context, string, *pluginpb.CommandArgs) (*pluginpb.CommandResponse, error) {
	return &pluginpb.CommandResponse{}, nil
}

// ChannelMemberWillBeAdded accepts member unchanged.
func (NoHooks) ChannelMemberWillBeAdded(_ context.Context, member *pluginpb.ChannelMember) (*pluginpb.ChannelMember, string) {
	return member, ""
}

// ChannelWillBeArchived allows the archiving.
func (NoHooks) ChannelWillBeArchived(context.Context, *pluginpb.Channel) string { return "" }

// ChannelWillBeUpdated accepts the update unchanged.
func (NoHooks) ChannelWillBeUpdated(_ context.Context, newChannel, _ *pluginpb.Channel) (*pluginpb.Channel, string) {
	return newChannel, ""
}

// ChannelWillBeRestored allows the restore.
func (NoHooks) ChannelWillBeRestored(context.Context, *pluginpb.Channel) string { return "" }

// UserWillBeUpdated accepts the update unchanged.
func (NoHooks) UserWillBeUpdated(_ context.Context, newUser, _ *pluginpb.User) (*pluginpb.User, string) {
	return newUser, ""
}

// UserHasBeenDeactivated does nothing.
func (NoHooks) UserHasBeenDeactivated(context.Context, *pluginpb.User) {}

// PreferencesHaveChanged does nothing.
func (NoHooks) PreferencesHaveChanged(context.Context, []*pluginpb.Preference) {}

// ConfigurationWillBeSaved keeps the configuration.
func (NoHooks) ConfigurationWillBeSaved(context.Context, *pluginpb.Config) (*pluginpb.Config, error) {
	return nil, nil
}

// OnConfigurationChange does nothing.
func (NoHooks) OnConfigurationChange(context.Context) {}

// FileWillBeUploaded accepts the file unchanged, without reading it.
func (NoHooks) FileWillBeUploaded(_ context.Context, info *pluginpb.FileInfo, _ io.Reader, _ io.Writer) (*pluginpb.FileInfo, string) {
	return info, ""
}
