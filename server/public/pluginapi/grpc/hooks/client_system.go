package hooks

import (
	"context"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// FileWillBeDownloaded implements [Hooks]. It fails open: when the plugin lacks the hook or the call fails, it allows.
func (c *Client) FileWillBeDownloaded(ctx context.Context, hc *pluginpb.Context, info *pluginpb.FileInfo, userID string, downloadType string) string {
	reason := ""
	_ = c.Call(ctx, "FileWillBeDownloaded", func(ctx context.Context) error {
		resp, err := c.rpc.FileWillBeDownloaded(ctx, &pluginpb.FileWillBeDownloadedRequest{Context: hc, FileInfo: info, UserId: userID, DownloadType: downloadType})
		reason = resp.GetRejectionReason()
		return err
	})
	return reason
}

// OnPluginClusterEvent implements [Hooks].
func (c *Client) OnPluginClusterEvent(ctx context.Context, hc *pluginpb.Context, event *pluginpb.PluginClusterEvent) {
	_ = c.Call(ctx, "OnPluginClusterEvent", func(ctx context.Context) error {
		_, err := c.rpc.OnPluginClusterEvent(ctx, &pluginpb.OnPluginClusterEventRequest{Context: hc, Event: event})
		return err
	})
}

// OnWebSocketConnect implements [Hooks].
func (c *Client) OnWebSocketConnect(ctx context.Context, webConnID string, userID string) {
	_ = c.Call(ctx, "OnWebSocketConnect", func(ctx context.Context) error {
		_, err := c.rpc.OnWebSocketConnect(ctx, &pluginpb.OnWebSocketConnectRequest{WebConnId: webConnID, UserId: userID})
		return err
	})
}

// OnWebSocketDisconnect implements [Hooks].
func (c *Client) OnWebSocketDisconnect(ctx context.Context, webConnID string, userID string) {
	_ = c.Call(ctx, "OnWebSocketDisconnect", func(ctx context.Context) error {
		_, err := c.rpc.OnWebSocketDisconnect(ctx, &pluginpb.OnWebSocketDisconnectRequest{WebConnId: webConnID, UserId: userID})
		return err
	})
}

// RunDataRetention implements [Hooks]. The plugin's error is returned; a call that cannot be made counts nothing.
func (c *Client) RunDataRetention(ctx context.Context, nowTime int64, batchSize int64) (int64, error) {
	var deleted int64
	err := c.Call(ctx, "RunDataRetention", func(ctx context.Context) error {
		resp, err := c.rpc.RunDataRetention(ctx, &pluginpb.RunDataRetentionRequest{NowTime: nowTime, BatchSize: batchSize})
		deleted = resp.GetDeleted()
		return err
	})
	return deleted, returnedError(err)
}

// OnInstall implements [Hooks]. The plugin's error is returned; a call that cannot be made is only logged.
func (c *Client) OnInstall(ctx context.Context, hc *pluginpb.Context, event *pluginpb.OnInstallEvent) error {
	return returnedError(c.Call(ctx, "OnInstall", func(ctx context.Context) error {
		_, err := c.rpc.OnInstall(ctx, &pluginpb.OnInstallRequest{Context: hc, Event: event})
		return err
	}))
}

// OnSendDailyTelemetry implements [Hooks].
func (c *Client) OnSendDailyTelemetry(ctx context.Context) {
	_ = c.Call(ctx, "OnSendDailyTelemetry", func(ctx context.Context) error {
		_, err := c.rpc.OnSendDailyTelemetry(ctx, &pluginpb.OnSendDailyTelemetryRequest{})
		return err
	})
}

// OnCloudLimitsUpdated implements [Hooks].
func (c *Client) OnCloudLimitsUpdated(ctx context.Context, limits *pluginpb.ProductLimits) {
	_ = c.Call(ctx, "OnCloudLimitsUpdated", func(ctx context.Context) error {
		_, err := c.rpc.OnCloudLimitsUpdated(ctx, &pluginpb.OnCloudLimitsUpdatedRequest{Limits: limits})
		return err
	})
}

// ConfigurationWillBeSaved implements [Hooks]. It returns the configuration to save instead, or nil to keep it, and the plugin's error, which fails the save; a call that cannot be made is only logged.
func (c *Client) ConfigurationWillBeSaved(ctx context.Context, newConfig *pluginpb.Config) (*pluginpb.Config, error) {
	var result *pluginpb.Config
	err := c.Call(ctx, "ConfigurationWillBeSaved", func(ctx context.Context) error {
		resp, err := c.rpc.ConfigurationWillBeSaved(ctx, &pluginpb.ConfigurationWillBeSavedRequest{NewConfig: newConfig})
		result = resp.GetConfig()
		return err
	})
	if err != nil {
		return nil, returnedError(err)
	}
	return result, nil
}

// NotificationWillBePushed implements [Hooks]. It fails open: when the plugin lacks the hook or the call fails, the change goes through unchanged.
func (c *Client) NotificationWillBePushed(ctx context.Context, notification *pluginpb.PushNotification, userID string) (*pluginpb.PushNotification, string) {
	return keepOrReplace(c, ctx, "NotificationWillBePushed", notification, func(ctx context.Context) (*pluginpb.PushNotification, string, error) {
		resp, err := c.rpc.NotificationWillBePushed(ctx, &pluginpb.NotificationWillBePushedRequest{PushNotification: notification, UserId: userID})
		return resp.GetPushNotification(), resp.GetRejectionReason(), err
	})
}

// OnSharedChannelsPing implements [Hooks]. A failed call counts as unhealthy, as upstream.
func (c *Client) OnSharedChannelsPing(ctx context.Context, rc *pluginpb.RemoteCluster) bool {
	healthy := false
	_ = c.Call(ctx, "OnSharedChannelsPing", func(ctx context.Context) error {
		resp, err := c.rpc.OnSharedChannelsPing(ctx, &pluginpb.OnSharedChannelsPingRequest{RemoteCluster: rc})
		healthy = resp.GetHealthy()
		return err
	})
	return healthy
}

// OnSharedChannelsAttachmentSyncMsg implements [Hooks]. The plugin's error is returned; a call that cannot be made is only logged.
func (c *Client) OnSharedChannelsAttachmentSyncMsg(ctx context.Context, info *pluginpb.FileInfo, post *pluginpb.Post, rc *pluginpb.RemoteCluster) error {
	return returnedError(c.Call(ctx, "OnSharedChannelsAttachmentSyncMsg", func(ctx context.Context) error {
		_, err := c.rpc.OnSharedChannelsAttachmentSyncMsg(ctx, &pluginpb.OnSharedChannelsAttachmentSyncMsgRequest{FileInfo: info, Post: post, RemoteCluster: rc})
		return err
	}))
}

// OnSharedChannelsProfileImageSyncMsg implements [Hooks]. The plugin's error is returned; a call that cannot be made is only logged.
func (c *Client) OnSharedChannelsProfileImageSyncMsg(ctx context.Context, user *pluginpb.User, rc *pluginpb.RemoteCluster) error {
	return returnedError(c.Call(ctx, "OnSharedChannelsProfileImageSyncMsg", func(ctx context.Context) error {
		_, err := c.rpc.OnSharedChannelsProfileImageSyncMsg(ctx, &pluginpb.OnSharedChannelsProfileImageSyncMsgRequest{User: user, RemoteCluster: rc})
		return err
	}))
}

// EmailNotificationWillBeSent implements [Hooks]. It returns the content to send instead (nil keeps it) and a reason to drop the email; it fails open.
func (c *Client) EmailNotificationWillBeSent(ctx context.Context, notification *pluginpb.EmailNotification) (*pluginpb.EmailNotificationContent, string) {
	var content *pluginpb.EmailNotificationContent
	reason := ""
	_ = c.Call(ctx, "EmailNotificationWillBeSent", func(ctx context.Context) error {
		resp, err := c.rpc.EmailNotificationWillBeSent(ctx, &pluginpb.EmailNotificationWillBeSentRequest{EmailNotification: notification})
		content, reason = resp.GetContent(), resp.GetRejectionReason()
		return err
	})
	return content, reason
}

// GenerateSupportData implements [Hooks]. The plugin's error is returned; a call that cannot be made adds nothing.
func (c *Client) GenerateSupportData(ctx context.Context, hc *pluginpb.Context) ([]*pluginpb.FileData, error) {
	var files []*pluginpb.FileData
	err := c.Call(ctx, "GenerateSupportData", func(ctx context.Context) error {
		resp, err := c.rpc.GenerateSupportData(ctx, &pluginpb.GenerateSupportDataRequest{Context: hc})
		files = resp.GetFiles()
		return err
	})
	return files, returnedError(err)
}

// WebSocketMessageHasBeenPosted implements [Hooks].
func (c *Client) WebSocketMessageHasBeenPosted(ctx context.Context, webConnID string, userID string, request *pluginpb.WebSocketRequest) {
	_ = c.Call(ctx, "WebSocketMessageHasBeenPosted", func(ctx context.Context) error {
		_, err := c.rpc.WebSocketMessageHasBeenPosted(ctx, &pluginpb.WebSocketMessageHasBeenPostedRequest{WebConnId: webConnID, UserId: userID, Request: request})
		return err
	})
}

// OnSharedChannelsSyncMsg implements [Hooks]. The plugin's error is returned with an empty response; a call that cannot be made syncs nothing.
func (c *Client) OnSharedChannelsSyncMsg(ctx context.Context, msg *pluginpb.SyncMsg, rc *pluginpb.RemoteCluster) (*pluginpb.SyncResponse, error) {
	var result *pluginpb.SyncResponse
	err := c.Call(ctx, "OnSharedChannelsSyncMsg", func(ctx context.Context) error {
		resp, err := c.rpc.OnSharedChannelsSyncMsg(ctx, &pluginpb.OnSharedChannelsSyncMsgRequest{Msg: msg, RemoteCluster: rc})
		result = resp.GetResponse()
		return err
	})
	if result == nil {
		result = &pluginpb.SyncResponse{}
	}
	return result, returnedError(err)
}
