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
