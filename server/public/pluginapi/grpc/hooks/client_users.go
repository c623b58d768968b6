package hooks

import (
	"context"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// UserHasBeenCreated implements [Hooks].
func (c *Client) UserHasBeenCreated(ctx context.Context, hc *pluginpb.Context, user *pluginpb.User) {
	_ = c.Call(ctx, "UserHasBeenCreated", func(ctx context.Context) error {
		_, err := c.rpc.UserHasBeenCreated(ctx, &pluginpb.UserHasBeenCreatedRequest{Context: hc, User: user})
		return err
	})
}

// UserWillLogIn implements [Hooks]. It fails open: when the plugin lacks the hook or the call fails, it allows.
func (c *Client) UserWillLogIn(ctx context.Context, hc *pluginpb.Context, user *pluginpb.User) string {
	reason := ""
	_ = c.Call(ctx, "UserWillLogIn", func(ctx context.Context) error {
		resp, err := c.rpc.UserWillLogIn(ctx, &pluginpb.UserWillLogInRequest{Context: hc, User: user})
		reason = resp.GetRejectionReason()
		return err
	})
	return reason
}

// UserHasLoggedIn implements [Hooks].
func (c *Client) UserHasLoggedIn(ctx context.Context, hc *pluginpb.Context, user *pluginpb.User) {
	_ = c.Call(ctx, "UserHasLoggedIn", func(ctx context.Context) error {
		_, err := c.rpc.UserHasLoggedIn(ctx, &pluginpb.UserHasLoggedInRequest{Context: hc, User: user})
		return err
	})
}

// UserHasBeenDeactivated implements [Hooks].
func (c *Client) UserHasBeenDeactivated(ctx context.Context, hc *pluginpb.Context, user *pluginpb.User) {
	_ = c.Call(ctx, "UserHasBeenDeactivated", func(ctx context.Context) error {
		_, err := c.rpc.UserHasBeenDeactivated(ctx, &pluginpb.UserHasBeenDeactivatedRequest{Context: hc, User: user})
		return err
	})
}

// UserWillBeUpdated implements [Hooks]. It fails open: when the plugin lacks the hook or the call fails, the change goes through unchanged.
func (c *Client) UserWillBeUpdated(ctx context.Context, hc *pluginpb.Context, newUser *pluginpb.User, oldUser *pluginpb.User) (*pluginpb.User, string) {
	return keepOrReplace(c, ctx, "UserWillBeUpdated", newUser, func(ctx context.Context) (*pluginpb.User, string, error) {
		resp, err := c.rpc.UserWillBeUpdated(ctx, &pluginpb.UserWillBeUpdatedRequest{Context: hc, NewUser: newUser, OldUser: oldUser})
		return resp.GetUser(), resp.GetRejectionReason(), err
	})
}

// PreferencesHaveChanged implements [Hooks].
func (c *Client) PreferencesHaveChanged(ctx context.Context, hc *pluginpb.Context, preferences []*pluginpb.Preference) {
	_ = c.Call(ctx, "PreferencesHaveChanged", func(ctx context.Context) error {
		_, err := c.rpc.PreferencesHaveChanged(ctx, &pluginpb.PreferencesHaveChangedRequest{Context: hc, Preferences: preferences})
		return err
	})
}

// OnSAMLLogin implements [Hooks]. The plugin's error is returned; a call that cannot be made is only logged.
func (c *Client) OnSAMLLogin(ctx context.Context, hc *pluginpb.Context, user *pluginpb.User, assertion *pluginpb.SAMLAssertionInfo) error {
	return returnedError(c.Call(ctx, "OnSAMLLogin", func(ctx context.Context) error {
		_, err := c.rpc.OnSAMLLogin(ctx, &pluginpb.OnSAMLLoginRequest{Context: hc, User: user, Assertion: assertion})
		return err
	}))
}
