package hooks

import (
	"context"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// OnDeactivate implements [Hooks].
func (c *Client) OnDeactivate(ctx context.Context) error {
	return c.lifecycle(ctx, "OnDeactivate", func(ctx context.Context) error {
		_, err := c.rpc.OnDeactivate(ctx, &pluginpb.OnDeactivateRequest{})
		return err
	})
}

// OnDeactivate does nothing.
func (None) OnDeactivate(context.Context) error { return nil }
