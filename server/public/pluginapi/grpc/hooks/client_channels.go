package hooks

import (
	"context"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// ChannelWillBeArchived implements [Hooks]. It fails open: when the plugin lacks the hook or the call fails, it allows.
func (c *Client) ChannelWillBeArchived(ctx context.Context, hc *pluginpb.Context, channel *pluginpb.Channel) string {
	reason := ""
	_ = c.Call(ctx, "ChannelWillBeArchived", func(ctx context.Context) error {
		resp, err := c.rpc.ChannelWillBeArchived(ctx, &pluginpb.ChannelWillBeArchivedRequest{Context: hc, Channel: channel})
		reason = resp.GetRejectionReason()
		return err
	})
	return reason
}

// ChannelMemberWillBeAdded implements [Hooks]. It fails open: when the plugin lacks the hook or the call fails, the change goes through unchanged.
func (c *Client) ChannelMemberWillBeAdded(ctx context.Context, hc *pluginpb.Context, member *pluginpb.ChannelMember) (*pluginpb.ChannelMember, string) {
	return keepOrReplace(c, ctx, "ChannelMemberWillBeAdded", member, func(ctx context.Context) (*pluginpb.ChannelMember, string, error) {
		resp, err := c.rpc.ChannelMemberWillBeAdded(ctx, &pluginpb.ChannelMemberWillBeAddedRequest{Context: hc, ChannelMember: member})
		return resp.GetChannelMember(), resp.GetRejectionReason(), err
	})
}

// ChannelWillBeUpdated implements [Hooks]. It fails open: when the plugin lacks the hook or the call fails, the change goes through unchanged.
func (c *Client) ChannelWillBeUpdated(ctx context.Context, hc *pluginpb.Context, newChannel *pluginpb.Channel, oldChannel *pluginpb.Channel) (*pluginpb.Channel, string) {
	return keepOrReplace(c, ctx, "ChannelWillBeUpdated", newChannel, func(ctx context.Context) (*pluginpb.Channel, string, error) {
		resp, err := c.rpc.ChannelWillBeUpdated(ctx, &pluginpb.ChannelWillBeUpdatedRequest{Context: hc, NewChannel: newChannel, OldChannel: oldChannel})
		return resp.GetChannel(), resp.GetRejectionReason(), err
	})
}

// ChannelWillBeRestored implements [Hooks]. It fails open: when the plugin lacks the hook or the call fails, it allows.
func (c *Client) ChannelWillBeRestored(ctx context.Context, hc *pluginpb.Context, channel *pluginpb.Channel) string {
	reason := ""
	_ = c.Call(ctx, "ChannelWillBeRestored", func(ctx context.Context) error {
		resp, err := c.rpc.ChannelWillBeRestored(ctx, &pluginpb.ChannelWillBeRestoredRequest{Context: hc, Channel: channel})
		reason = resp.GetRejectionReason()
		return err
	})
	return reason
}
