package hooks

import (
	"context"
	"io"
	"net/http"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// DismissPostError is the rejection reason with which MessageWillBePosted
// drops a post without showing an error (plugin.DismissPostError).
const DismissPostError = "plugin.message_will_be_posted.dismiss_post"

// Hooks is the set of hooks a host can call on a plugin. Each method
// mirrors the method of the same name of Mattermost's plugin.Hooks; c is
// the context of the request that caused the call, and may be nil.
type Hooks interface {
	// OnActivate runs once the plugin has started; an error stops the
	// activation.
	OnActivate(ctx context.Context) error
	// OnDeactivate runs before the plugin is stopped.
	OnDeactivate(ctx context.Context) error
	// OnConfigurationChange runs after a configuration change.
	OnConfigurationChange(ctx context.Context) error

	// MessageWillBePosted returns the post to store, or a reason to reject
	// it.
	MessageWillBePosted(ctx context.Context, c *pluginpb.Context, post *pluginpb.Post) (*pluginpb.Post, string)
	// MessageWillBeUpdated returns the edited post to store; nil or a
	// reason rejects the edit.
	MessageWillBeUpdated(ctx context.Context, c *pluginpb.Context, newPost, oldPost *pluginpb.Post) (*pluginpb.Post, string)
	// MessageHasBeenPosted runs after a post was stored.
	MessageHasBeenPosted(ctx context.Context, c *pluginpb.Context, post *pluginpb.Post)
	// MessageHasBeenUpdated runs after an edit was stored.
	MessageHasBeenUpdated(ctx context.Context, c *pluginpb.Context, newPost, oldPost *pluginpb.Post)
	// MessageHasBeenDeleted runs after a post was deleted.
	MessageHasBeenDeleted(ctx context.Context, c *pluginpb.Context, post *pluginpb.Post)

	// ReactionHasBeenAdded runs after a reaction was stored.
	ReactionHasBeenAdded(ctx context.Context, c *pluginpb.Context, reaction *pluginpb.Reaction)
	// ReactionHasBeenRemoved runs after a reaction was removed.
	ReactionHasBeenRemoved(ctx context.Context, c *pluginpb.Context, reaction *pluginpb.Reaction)

	// ChannelHasBeenCreated runs after a channel was created.
	ChannelHasBeenCreated(ctx context.Context, c *pluginpb.Context, channel *pluginpb.Channel)
	// UserHasJoinedChannel runs after a user joined a channel; actor is
	// who added them, or nil.
	UserHasJoinedChannel(ctx context.Context, c *pluginpb.Context, member *pluginpb.ChannelMember, actor *pluginpb.User)
	// UserHasLeftChannel runs after a user left a channel; actor is who
	// removed them, or nil.
	UserHasLeftChannel(ctx context.Context, c *pluginpb.Context, member *pluginpb.ChannelMember, actor *pluginpb.User)

	// TeamMemberWillBeAdded returns the membership to store, or a reason
	// to reject the join.
	TeamMemberWillBeAdded(ctx context.Context, c *pluginpb.Context, member *pluginpb.TeamMember) (*pluginpb.TeamMember, string)
	// UserHasJoinedTeam runs after a user joined a team; actor is who
	// added them, or nil.
	UserHasJoinedTeam(ctx context.Context, c *pluginpb.Context, member *pluginpb.TeamMember, actor *pluginpb.User)
	// UserHasLeftTeam runs after a user left a team; actor is who removed
	// them, or nil.
	UserHasLeftTeam(ctx context.Context, c *pluginpb.Context, member *pluginpb.TeamMember, actor *pluginpb.User)

	// ExecuteCommand runs a slash command the plugin registered. A nil
	// response and error means the plugin did not handle it.
	ExecuteCommand(ctx context.Context, c *pluginpb.Context, args *pluginpb.CommandArgs) (*pluginpb.CommandResponse, error)

	// The hooks below mirror their upstream namesakes, argument for
	// argument; see hooks.proto for what each answer means.
	UserHasBeenCreated(ctx context.Context, c *pluginpb.Context, user *pluginpb.User)
	UserWillLogIn(ctx context.Context, c *pluginpb.Context, user *pluginpb.User) string
	UserHasLoggedIn(ctx context.Context, c *pluginpb.Context, user *pluginpb.User)
	UserHasBeenDeactivated(ctx context.Context, c *pluginpb.Context, user *pluginpb.User)
	UserWillBeUpdated(ctx context.Context, c *pluginpb.Context, newUser *pluginpb.User, oldUser *pluginpb.User) (*pluginpb.User, string)
	PreferencesHaveChanged(ctx context.Context, c *pluginpb.Context, preferences []*pluginpb.Preference)
	MessagesWillBeConsumed(ctx context.Context, posts []*pluginpb.Post) []*pluginpb.Post
	MessagesWillBeConsumedWithContext(ctx context.Context, c *pluginpb.Context, posts []*pluginpb.Post) []*pluginpb.Post
	ChannelWillBeArchived(ctx context.Context, c *pluginpb.Context, channel *pluginpb.Channel) string
	ChannelMemberWillBeAdded(ctx context.Context, c *pluginpb.Context, member *pluginpb.ChannelMember) (*pluginpb.ChannelMember, string)
	ChannelWillBeUpdated(ctx context.Context, c *pluginpb.Context, newChannel *pluginpb.Channel, oldChannel *pluginpb.Channel) (*pluginpb.Channel, string)
	ChannelWillBeRestored(ctx context.Context, c *pluginpb.Context, channel *pluginpb.Channel) string
	FileWillBeDownloaded(ctx context.Context, c *pluginpb.Context, info *pluginpb.FileInfo, userID string, downloadType string) string
	OnPluginClusterEvent(ctx context.Context, c *pluginpb.Context, event *pluginpb.PluginClusterEvent)
	OnWebSocketConnect(ctx context.Context, webConnID string, userID string)
	OnWebSocketDisconnect(ctx context.Context, webConnID string, userID string)
	RunDataRetention(ctx context.Context, nowTime int64, batchSize int64) (int64, error)
	OnInstall(ctx context.Context, c *pluginpb.Context, event *pluginpb.OnInstallEvent) error
	OnSendDailyTelemetry(ctx context.Context)
	OnCloudLimitsUpdated(ctx context.Context, limits *pluginpb.ProductLimits)
	ConfigurationWillBeSaved(ctx context.Context, newConfig *pluginpb.Config) (*pluginpb.Config, error)
	NotificationWillBePushed(ctx context.Context, notification *pluginpb.PushNotification, userID string) (*pluginpb.PushNotification, string)
	NotificationsWillBeSent(ctx context.Context, post *pluginpb.Post) string
	OnSharedChannelsPing(ctx context.Context, rc *pluginpb.RemoteCluster) bool
	OnSharedChannelsAttachmentSyncMsg(ctx context.Context, info *pluginpb.FileInfo, post *pluginpb.Post, rc *pluginpb.RemoteCluster) error
	OnSharedChannelsProfileImageSyncMsg(ctx context.Context, user *pluginpb.User, rc *pluginpb.RemoteCluster) error
	DraftWillBeUpserted(ctx context.Context, c *pluginpb.Context, draft *pluginpb.Draft) (*pluginpb.Draft, string)
	ScheduledPostWillBeCreated(ctx context.Context, c *pluginpb.Context, scheduledPost *pluginpb.ScheduledPost) (*pluginpb.ScheduledPost, string)
	EmailNotificationWillBeSent(ctx context.Context, notification *pluginpb.EmailNotification) (*pluginpb.EmailNotificationContent, string)
	GenerateSupportData(ctx context.Context, c *pluginpb.Context) ([]*pluginpb.FileData, error)
	WebSocketMessageHasBeenPosted(ctx context.Context, webConnID string, userID string, request *pluginpb.WebSocketRequest)
	OnSharedChannelsSyncMsg(ctx context.Context, msg *pluginpb.SyncMsg, rc *pluginpb.RemoteCluster) (*pluginpb.SyncResponse, error)
	OnSAMLLogin(ctx context.Context, c *pluginpb.Context, user *pluginpb.User, assertion *pluginpb.SAMLAssertionInfo) error

	// FileWillBeUploaded vets an upload: it reads file, may write
	// replacement content to output, and returns the info to store and a
	// reason to reject the upload.
	FileWillBeUploaded(ctx context.Context, c *pluginpb.Context, info *pluginpb.FileInfo, file io.Reader, output io.Writer) (*pluginpb.FileInfo, string)

	// ServeHTTP serves an HTTP request to /plugins/{plugin_id}; r.URL is
	// the path and query with that prefix removed. Both bodies stream.
	ServeHTTP(c *pluginpb.Context, w http.ResponseWriter, r *http.Request)
	// ServeMetrics serves a request to the plugin's metrics endpoint, as
	// ServeHTTP.
	ServeMetrics(c *pluginpb.Context, w http.ResponseWriter, r *http.Request)
}
