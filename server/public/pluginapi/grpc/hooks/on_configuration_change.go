package hooks

import (
	"context"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// OnConfigurationChange implements [Hooks].
func (c *Client) OnConfigurationChange(ctx context.Context) error {
	return c.lifecycle(ctx, "OnConfigurationChange", func(ctx context.Context) error {
		_, err := c.rpc.OnConfigurationChange(ctx, &pluginpb.OnConfigurationChangeRequest{})
		return err
	})
}

// OnConfigurationChange does nothing.
func (None) OnConfigurationChange(context.Context) error { return nil }
