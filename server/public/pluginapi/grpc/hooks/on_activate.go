package hooks

import (
	"context"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// OnActivate implements [Hooks]. A plugin that fails to activate returns
// its error. A call that cannot be made (the connection is unavailable:
// the process died) is only logged, as upstream: the host's health check
// then finds the dead process.
func (c *Client) OnActivate(ctx context.Context) error {
	return returnedError(c.Call(ctx, "OnActivate", func(ctx context.Context) error {
		_, err := c.rpc.OnActivate(ctx, &pluginpb.OnActivateRequest{})
		return err
	}))
}

// OnActivate does nothing.
func (None) OnActivate(context.Context) error { return nil }
