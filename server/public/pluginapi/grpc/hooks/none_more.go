package hooks

import (
	"context"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// UserHasBeenCreated does nothing.
func (None) UserHasBeenCreated(_ context.Context, _ *pluginpb.Context, _ *pluginpb.User) {}

// UserWillLogIn allows.
func (None) UserWillLogIn(_ context.Context, _ *pluginpb.Context, _ *pluginpb.User) string {
	return ""
}

// UserHasLoggedIn does nothing.
func (None) UserHasLoggedIn(_ context.Context, _ *pluginpb.Context, _ *pluginpb.User) {}

// UserHasBeenDeactivated does nothing.
func (None) UserHasBeenDeactivated(_ context.Context, _ *pluginpb.Context, _ *pluginpb.User) {}

// UserWillBeUpdated keeps the change.
func (None) UserWillBeUpdated(_ context.Context, _ *pluginpb.Context, newUser *pluginpb.User, _ *pluginpb.User) (*pluginpb.User, string) {
	return newUser, ""
}

// PreferencesHaveChanged does nothing.
func (None) PreferencesHaveChanged(_ context.Context, _ *pluginpb.Context, _ []*pluginpb.Preference) {
}

// MessagesWillBeConsumed keeps the posts.
func (None) MessagesWillBeConsumed(_ context.Context, posts []*pluginpb.Post) []*pluginpb.Post {
	return posts
}

// MessagesWillBeConsumedWithContext keeps the posts.
func (None) MessagesWillBeConsumedWithContext(_ context.Context, _ *pluginpb.Context, posts []*pluginpb.Post) []*pluginpb.Post {
	return posts
}

// ChannelWillBeArchived allows.
func (None) ChannelWillBeArchived(_ context.Context, _ *pluginpb.Context, _ *pluginpb.Channel) string {
	return ""
}

// ChannelMemberWillBeAdded keeps the change.
func (None) ChannelMemberWillBeAdded(_ context.Context, _ *pluginpb.Context, member *pluginpb.ChannelMember) (*pluginpb.ChannelMember, string) {
	return member, ""
}

// ChannelWillBeUpdated keeps the change.
func (None) ChannelWillBeUpdated(_ context.Context, _ *pluginpb.Context, newChannel *pluginpb.Channel, _ *pluginpb.Channel) (*pluginpb.Channel, string) {
	return newChannel, ""
}

// ChannelWillBeRestored allows.
func (None) ChannelWillBeRestored(_ context.Context, _ *pluginpb.Context, _ *pluginpb.Channel) string {
	return ""
}

// FileWillBeDownloaded allows.
func (None) FileWillBeDownloaded(_ context.Context, _ *pluginpb.Context, _ *pluginpb.FileInfo, _ string, _ string) string {
	return ""
}

// OnPluginClusterEvent does nothing.
func (None) OnPluginClusterEvent(_ context.Context, _ *pluginpb.Context, _ *pluginpb.PluginClusterEvent) {
}

// OnWebSocketConnect does nothing.
func (None) OnWebSocketConnect(_ context.Context, _ string, _ string) {}

// OnWebSocketDisconnect does nothing.
func (None) OnWebSocketDisconnect(_ context.Context, _ string, _ string) {}

// RunDataRetention deletes nothing.
func (None) RunDataRetention(_ context.Context, _ int64, _ int64) (int64, error) {
	return 0, nil
}

// OnInstall does nothing.
func (None) OnInstall(_ context.Context, _ *pluginpb.Context, _ *pluginpb.OnInstallEvent) error {
	return nil
}

// OnSendDailyTelemetry does nothing.
func (None) OnSendDailyTelemetry(_ context.Context) {}

// OnCloudLimitsUpdated does nothing.
func (None) OnCloudLimitsUpdated(_ context.Context, _ *pluginpb.ProductLimits) {}

// ConfigurationWillBeSaved keeps the configuration.
func (None) ConfigurationWillBeSaved(_ context.Context, _ *pluginpb.Config) (*pluginpb.Config, error) {
	return nil, nil
}

// NotificationWillBePushed keeps the change.
func (None) NotificationWillBePushed(_ context.Context, notification *pluginpb.PushNotification, _ string) (*pluginpb.PushNotification, string) {
	return notification, ""
}

// NotificationsWillBeSent lets the notifications go.
func (None) NotificationsWillBeSent(_ context.Context, _ *pluginpb.Post) string {
	return ""
}

// OnSharedChannelsPing answers unhealthy: there is no plugin.
func (None) OnSharedChannelsPing(_ context.Context, _ *pluginpb.RemoteCluster) bool {
	return false
}

// OnSharedChannelsAttachmentSyncMsg does nothing.
func (None) OnSharedChannelsAttachmentSyncMsg(_ context.Context, _ *pluginpb.FileInfo, _ *pluginpb.Post, _ *pluginpb.RemoteCluster) error {
	return nil
}

// OnSharedChannelsProfileImageSyncMsg does nothing.
func (None) OnSharedChannelsProfileImageSyncMsg(_ context.Context, _ *pluginpb.User, _ *pluginpb.RemoteCluster) error {
	return nil
}

// DraftWillBeUpserted keeps the change.
func (None) DraftWillBeUpserted(_ context.Context, _ *pluginpb.Context, draft *pluginpb.Draft) (*pluginpb.Draft, string) {
	return draft, ""
}

// ScheduledPostWillBeCreated keeps the change.
func (None) ScheduledPostWillBeCreated(_ context.Context, _ *pluginpb.Context, scheduledPost *pluginpb.ScheduledPost) (*pluginpb.ScheduledPost, string) {
	return scheduledPost, ""
}

// EmailNotificationWillBeSent keeps the email.
func (None) EmailNotificationWillBeSent(_ context.Context, _ *pluginpb.EmailNotification) (*pluginpb.EmailNotificationContent, string) {
	return nil, ""
}

// GenerateSupportData adds nothing.
func (None) GenerateSupportData(_ context.Context, _ *pluginpb.Context) ([]*pluginpb.FileData, error) {
	return nil, nil
}

// WebSocketMessageHasBeenPosted does nothing.
func (None) WebSocketMessageHasBeenPosted(_ context.Context, _ string, _ string, _ *pluginpb.WebSocketRequest) {
}

// OnSharedChannelsSyncMsg syncs nothing.
func (None) OnSharedChannelsSyncMsg(_ context.Context, _ *pluginpb.SyncMsg, _ *pluginpb.RemoteCluster) (*pluginpb.SyncResponse, error) {
	return &pluginpb.SyncResponse{}, nil
}

// OnSAMLLogin does nothing.
func (None) OnSAMLLogin(_ context.Context, _ *pluginpb.Context, _ *pluginpb.User, _ *pluginpb.SAMLAssertionInfo) error {
	return nil
}
