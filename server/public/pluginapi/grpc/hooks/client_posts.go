package hooks

import (
	"context"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// MessagesWillBeConsumed implements [Hooks]. An empty answer, or a failed call, keeps the posts.
func (c *Client) MessagesWillBeConsumed(ctx context.Context, posts []*pluginpb.Post) []*pluginpb.Post {
	result := posts
	_ = c.Call(ctx, "MessagesWillBeConsumed", func(ctx context.Context) error {
		resp, err := c.rpc.MessagesWillBeConsumed(ctx, &pluginpb.MessagesWillBeConsumedRequest{Posts: posts})
		if err != nil {
			return err
		}
		if len(resp.GetPosts()) > 0 {
			result = resp.GetPosts()
		}
		return nil
	})
	return result
}

// MessagesWillBeConsumedWithContext implements [Hooks]. An empty answer, or a failed call, keeps the posts.
func (c *Client) MessagesWillBeConsumedWithContext(ctx context.Context, hc *pluginpb.Context, posts []*pluginpb.Post) []*pluginpb.Post {
	result := posts
	_ = c.Call(ctx, "MessagesWillBeConsumedWithContext", func(ctx context.Context) error {
		resp, err := c.rpc.MessagesWillBeConsumedWithContext(ctx, &pluginpb.MessagesWillBeConsumedWithContextRequest{Context: hc, Posts: posts})
		if err != nil {
			return err
		}
		if len(resp.GetPosts()) > 0 {
			result = resp.GetPosts()
		}
		return nil
	})
	return result
}

// DraftWillBeUpserted implements [Hooks]. It fails open: when the plugin lacks the hook or the call fails, the change goes through unchanged.
func (c *Client) DraftWillBeUpserted(ctx context.Context, hc *pluginpb.Context, draft *pluginpb.Draft) (*pluginpb.Draft, string) {
	return keepOrReplace(c, ctx, "DraftWillBeUpserted", draft, func(ctx context.Context) (*pluginpb.Draft, string, error) {
		resp, err := c.rpc.DraftWillBeUpserted(ctx, &pluginpb.DraftWillBeUpsertedRequest{Context: hc, Draft: draft})
		return resp.GetDraft(), resp.GetRejectionReason(), err
	})
}

// ScheduledPostWillBeCreated implements [Hooks]. It fails open: when the plugin lacks the hook or the call fails, the change goes through unchanged.
func (c *Client) ScheduledPostWillBeCreated(ctx context.Context, hc *pluginpb.Context, scheduledPost *pluginpb.ScheduledPost) (*pluginpb.ScheduledPost, string) {
	return keepOrReplace(c, ctx, "ScheduledPostWillBeCreated", scheduledPost, func(ctx context.Context) (*pluginpb.ScheduledPost, string, error) {
		resp, err := c.rpc.ScheduledPostWillBeCreated(ctx, &pluginpb.ScheduledPostWillBeCreatedRequest{Context: hc, ScheduledPost: scheduledPost})
		return resp.GetScheduledPost(), resp.GetRejectionReason(), err
	})
}

// NotificationsWillBeSent implements [Hooks]. It fails open, as upstream's
// generated RPC client (client_rpc_generated.go@003e57ac): when the plugin
// lacks the hook or the call fails, the answer is empty and the
// notifications go.
func (c *Client) NotificationsWillBeSent(ctx context.Context, post *pluginpb.Post) string {
	reason := ""
	_ = c.Call(ctx, "NotificationsWillBeSent", func(ctx context.Context) error {
		resp, err := c.rpc.NotificationsWillBeSent(ctx, &pluginpb.NotificationsWillBeSentRequest{Post: post})
		reason = resp.GetRejectionReason()
		return err
	})
	return reason
}
