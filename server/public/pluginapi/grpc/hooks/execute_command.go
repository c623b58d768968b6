package hooks

import (
	"context"
	"errors"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// ExecuteCommand implements [Hooks]. An AppError of the plugin comes back
// as an [*apperror.Error]; a call that fails otherwise (a crash, a hang
// past the deadline, a garbage answer) comes back as a [*CallError], which
// the host reports as the plugin's crash.
func (c *Client) ExecuteCommand(ctx context.Context, hc *pluginpb.Context, args *pluginpb.CommandArgs) (*pluginpb.CommandResponse, error) {
	var resp *pluginpb.ExecuteCommandResponse
	err := c.Call(ctx, "ExecuteCommand", func(ctx context.Context) error {
		var err error
		resp, err = c.rpc.ExecuteCommand(ctx, &pluginpb.ExecuteCommandRequest{Context: hc, Args: args})
		return err
	})
	switch {
	case errors.Is(err, ErrNotImplemented):
		return nil, nil
	case err != nil:
		return nil, pluginError(err)
	}
	return resp.GetResponse(), nil
}

// ExecuteCommand does not handle the command.
func (None) ExecuteCommand(context.Context, *pluginpb.Context, *pluginpb.CommandArgs) (*pluginpb.CommandResponse, error) {
	return nil, nil
}
