package hooks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// DefaultTimeout is the deadline of a hook call unless an [Option] sets
// another.
const DefaultTimeout = 30 * time.Second

// ImplementedTimeout bounds the Implemented call that [NewClient] makes.
const ImplementedTimeout = 10 * time.Second

// maxLoggedReason bounds a rejection reason or error text in the log.
const maxLoggedReason = 1024

// ErrNotImplemented is returned by [Client.Call] for a hook that the plugin
// does not implement; no RPC is made.
var ErrNotImplemented = errors.New("hooks: the plugin does not implement this hook")

// Known lists the names of the hooks that [Hooks] has, in the order of
// the contract.
var Known = []string{
	"OnActivate", "OnDeactivate", "OnConfigurationChange",
	"MessageWillBePosted", "MessageWillBeUpdated", "MessageHasBeenPosted",
	"MessageHasBeenUpdated", "MessageHasBeenDeleted",
	"ReactionHasBeenAdded", "ReactionHasBeenRemoved",
	"ChannelHasBeenCreated", "UserHasJoinedChannel", "UserHasLeftChannel",
	"TeamMemberWillBeAdded", "UserHasJoinedTeam", "UserHasLeftTeam",
	"ExecuteCommand", "ServeHTTP", "ServeMetrics", "FileWillBeUploaded",
	"OnSharedChannelsSyncMsg", "OnSAMLLogin",
	"DraftWillBeUpserted", "ScheduledPostWillBeCreated", "EmailNotificationWillBeSent", "GenerateSupportData", "WebSocketMessageHasBeenPosted",
	"UserHasBeenCreated", "UserWillLogIn", "UserHasLoggedIn", "UserHasBeenDeactivated", "UserWillBeUpdated", "MessagesWillBeConsumed", "MessagesWillBeConsumedWithContext", "ChannelWillBeArchived", "ChannelMemberWillBeAdded", "ChannelWillBeUpdated", "ChannelWillBeRestored", "FileWillBeDownloaded", "OnPluginClusterEvent", "OnWebSocketConnect", "OnWebSocketDisconnect", "RunDataRetention", "OnInstall", "OnSendDailyTelemetry", "OnCloudLimitsUpdated", "ConfigurationWillBeSaved", "PreferencesHaveChanged", "NotificationWillBePushed", "NotificationsWillBeSent", "OnSharedChannelsPing", "OnSharedChannelsAttachmentSyncMsg", "OnSharedChannelsProfileImageSyncMsg",
}

// Option configures a [Client].
type Option func(*options)

type options struct {
	logger   *slog.Logger
	timeout  time.Duration
	timeouts map[string]time.Duration
}

// WithLogger sets where failed hook calls are logged; by default nowhere.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithTimeout sets the deadline of every hook call without its own.
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithHookTimeout sets the deadline of one hook's calls, by hook name.
func WithHookTimeout(hook string, d time.Duration) Option {
	return func(o *options) { o.timeouts[hook] = d }
}

// Client calls a plugin's hooks through its PluginHooks service. It is safe
// for concurrent use.
type Client struct {
	rpc         pluginpb.PluginHooksClient
	implemented map[string]bool
	opts        options
}

var _ Hooks = (*Client)(nil)

// NewClient asks the plugin behind conn which hooks it implements and
// returns a Client that calls only those. An error from Implemented is
// returned: a host then does not start the plugin.
func NewClient(ctx context.Context, conn grpc.ClientConnInterface, opts ...Option) (*Client, error) {
	o := options{logger: slog.New(slog.DiscardHandler), timeout: DefaultTimeout, timeouts: map[string]time.Duration{}}
	for _, opt := range opts {
		opt(&o)
	}
	rpc := pluginpb.NewPluginHooksClient(conn)
	ctx, cancel := context.WithTimeout(ctx, ImplementedTimeout)
	defer cancel()
	resp, err := rpc.Implemented(ctx, &pluginpb.ImplementedRequest{})
	if err != nil {
		return nil, fmt.Errorf("hooks: ask the plugin which hooks it implements: %w", err)
	}
	known := make(map[string]bool, len(Known))
	for _, name := range Known {
		known[name] = true
	}
	implemented := make(map[string]bool, len(resp.GetHooks()))
	for _, name := range resp.GetHooks() {
		if known[name] {
			implemented[name] = true
		} else {
			o.logger.Debug("plugin lists a hook this host does not know", slog.String("hook", apperror.Truncate(name, 100)))
		}
	}
	return &Client{rpc: rpc, implemented: implemented, opts: o}, nil
}

// Implemented returns the names of the hooks the plugin implements, sorted.
func (c *Client) Implemented() []string {
	names := make([]string, 0, len(c.implemented))
	for name := range c.implemented {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Has reports whether the plugin implements the hook.
func (c *Client) Has(hook string) bool { return c.implemented[hook] }

// Call runs fn with the hook's deadline if the plugin implements the hook,
// and logs its error. It returns [ErrNotImplemented] without calling fn
// otherwise.
func (c *Client) Call(ctx context.Context, hook string, fn func(ctx context.Context) error) error {
	if !c.implemented[hook] {
		return ErrNotImplemented
	}
	timeout, ok := c.opts.timeouts[hook]
	if !ok {
		timeout = c.opts.timeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	err := fn(ctx)
	if err != nil {
		c.opts.logger.LogAttrs(context.Background(), slog.LevelError, "plugin hook failed",
			slog.String("hook", hook),
			slog.Duration("elapsed", time.Since(start)),
			slog.String("error", apperror.Truncate(err.Error(), maxLoggedReason)))
	}
	return err
}

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

// OnDeactivate implements [Hooks].
func (c *Client) OnDeactivate(ctx context.Context) error {
	return c.lifecycle(ctx, "OnDeactivate", func(ctx context.Context) error {
		_, err := c.rpc.OnDeactivate(ctx, &pluginpb.OnDeactivateRequest{})
		return err
	})
}

// OnConfigurationChange implements [Hooks].
func (c *Client) OnConfigurationChange(ctx context.Context) error {
	return c.lifecycle(ctx, "OnConfigurationChange", func(ctx context.Context) error {
		_, err := c.rpc.OnConfigurationChange(ctx, &pluginpb.OnConfigurationChangeRequest{})
		return err
	})
}

func (c *Client) lifecycle(ctx context.Context, hook string, fn func(ctx context.Context) error) error {
	if err := c.Call(ctx, hook, fn); err != nil && !errors.Is(err, ErrNotImplemented) {
		return pluginError(err)
	}
	return nil
}

// MessageWillBePosted implements [Hooks]. It fails open: when the plugin
// lacks the hook or the call fails, the post goes through unchanged.
func (c *Client) MessageWillBePosted(ctx context.Context, hc *pluginpb.Context, post *pluginpb.Post) (*pluginpb.Post, string) {
	return keepOrReplace(c, ctx, "MessageWillBePosted", post, func(ctx context.Context) (*pluginpb.Post, string, error) {
		resp, err := c.rpc.MessageWillBePosted(ctx, &pluginpb.MessageWillBePostedRequest{Context: hc, Post: post})
		return resp.GetPost(), resp.GetRejectionReason(), err
	})
}

// keepOrReplace calls a hook that keeps, replaces or rejects a value, with
// upstream's fail-open rule: when the plugin lacks the hook or the call
// fails, or the answer has no value, the input goes through unchanged.
func keepOrReplace[T comparable](c *Client, ctx context.Context, hook string, input T, call func(context.Context) (T, string, error)) (T, string) {
	result, reason := input, ""
	_ = c.Call(ctx, hook, func(ctx context.Context) error {
		value, why, err := call(ctx)
		if err != nil {
			return err
		}
		var unset T
		if value != unset {
			result = value
		}
		reason = why
		return nil
	})
	return result, reason
}

// MessageWillBeUpdated implements [Hooks]. Its answer replaces the new
// post; no post rejects the edit. It fails open: when the plugin lacks the
// hook or the call fails, the edit goes through unchanged.
func (c *Client) MessageWillBeUpdated(ctx context.Context, hc *pluginpb.Context, newPost, oldPost *pluginpb.Post) (*pluginpb.Post, string) {
	result, reason := newPost, ""
	_ = c.Call(ctx, "MessageWillBeUpdated", func(ctx context.Context) error {
		resp, err := c.rpc.MessageWillBeUpdated(ctx, &pluginpb.MessageWillBeUpdatedRequest{Context: hc, NewPost: newPost, OldPost: oldPost})
		if err != nil {
			return err
		}
		result, reason = resp.GetPost(), resp.GetRejectionReason()
		return nil
	})
	return result, reason
}

// MessageHasBeenPosted implements [Hooks].
func (c *Client) MessageHasBeenPosted(ctx context.Context, hc *pluginpb.Context, post *pluginpb.Post) {
	_ = c.Call(ctx, "MessageHasBeenPosted", func(ctx context.Context) error {
		_, err := c.rpc.MessageHasBeenPosted(ctx, &pluginpb.MessageHasBeenPostedRequest{Context: hc, Post: post})
		return err
	})
}

// MessageHasBeenUpdated implements [Hooks].
func (c *Client) MessageHasBeenUpdated(ctx context.Context, hc *pluginpb.Context, newPost, oldPost *pluginpb.Post) {
	_ = c.Call(ctx, "MessageHasBeenUpdated", func(ctx context.Context) error {
		_, err := c.rpc.MessageHasBeenUpdated(ctx, &pluginpb.MessageHasBeenUpdatedRequest{Context: hc, NewPost: newPost, OldPost: oldPost})
		return err
	})
}

// MessageHasBeenDeleted implements [Hooks].
func (c *Client) MessageHasBeenDeleted(ctx context.Context, hc *pluginpb.Context, post *pluginpb.Post) {
	_ = c.Call(ctx, "MessageHasBeenDeleted", func(ctx context.Context) error {
		_, err := c.rpc.MessageHasBeenDeleted(ctx, &pluginpb.MessageHasBeenDeletedRequest{Context: hc, Post: post})
		return err
	})
}

// ReactionHasBeenAdded implements [Hooks].
func (c *Client) ReactionHasBeenAdded(ctx context.Context, hc *pluginpb.Context, reaction *pluginpb.Reaction) {
	_ = c.Call(ctx, "ReactionHasBeenAdded", func(ctx context.Context) error {
		_, err := c.rpc.ReactionHasBeenAdded(ctx, &pluginpb.ReactionHasBeenAddedRequest{Context: hc, Reaction: reaction})
		return err
	})
}

// ReactionHasBeenRemoved implements [Hooks].
func (c *Client) ReactionHasBeenRemoved(ctx context.Context, hc *pluginpb.Context, reaction *pluginpb.Reaction) {
	_ = c.Call(ctx, "ReactionHasBeenRemoved", func(ctx context.Context) error {
		_, err := c.rpc.ReactionHasBeenRemoved(ctx, &pluginpb.ReactionHasBeenRemovedRequest{Context: hc, Reaction: reaction})
		return err
	})
}

// ChannelHasBeenCreated implements [Hooks].
func (c *Client) ChannelHasBeenCreated(ctx context.Context, hc *pluginpb.Context, channel *pluginpb.Channel) {
	_ = c.Call(ctx, "ChannelHasBeenCreated", func(ctx context.Context) error {
		_, err := c.rpc.ChannelHasBeenCreated(ctx, &pluginpb.ChannelHasBeenCreatedRequest{Context: hc, Channel: channel})
		return err
	})
}

// UserHasJoinedChannel implements [Hooks].
func (c *Client) UserHasJoinedChannel(ctx context.Context, hc *pluginpb.Context, member *pluginpb.ChannelMember, actor *pluginpb.User) {
	_ = c.Call(ctx, "UserHasJoinedChannel", func(ctx context.Context) error {
		_, err := c.rpc.UserHasJoinedChannel(ctx, &pluginpb.UserHasJoinedChannelRequest{Context: hc, ChannelMember: member, Actor: actor})
		return err
	})
}

// UserHasLeftChannel implements [Hooks].
func (c *Client) UserHasLeftChannel(ctx context.Context, hc *pluginpb.Context, member *pluginpb.ChannelMember, actor *pluginpb.User) {
	_ = c.Call(ctx, "UserHasLeftChannel", func(ctx context.Context) error {
		_, err := c.rpc.UserHasLeftChannel(ctx, &pluginpb.UserHasLeftChannelRequest{Context: hc, ChannelMember: member, Actor: actor})
		return err
	})
}

// TeamMemberWillBeAdded implements [Hooks]. It fails open: when the plugin
// lacks the hook or the call fails, the join goes through unchanged.
func (c *Client) TeamMemberWillBeAdded(ctx context.Context, hc *pluginpb.Context, member *pluginpb.TeamMember) (*pluginpb.TeamMember, string) {
	return keepOrReplace(c, ctx, "TeamMemberWillBeAdded", member, func(ctx context.Context) (*pluginpb.TeamMember, string, error) {
		resp, err := c.rpc.TeamMemberWillBeAdded(ctx, &pluginpb.TeamMemberWillBeAddedRequest{Context: hc, TeamMember: member})
		return resp.GetTeamMember(), resp.GetRejectionReason(), err
	})
}

// UserHasJoinedTeam implements [Hooks].
func (c *Client) UserHasJoinedTeam(ctx context.Context, hc *pluginpb.Context, member *pluginpb.TeamMember, actor *pluginpb.User) {
	_ = c.Call(ctx, "UserHasJoinedTeam", func(ctx context.Context) error {
		_, err := c.rpc.UserHasJoinedTeam(ctx, &pluginpb.UserHasJoinedTeamRequest{Context: hc, TeamMember: member, Actor: actor})
		return err
	})
}

// UserHasLeftTeam implements [Hooks].
func (c *Client) UserHasLeftTeam(ctx context.Context, hc *pluginpb.Context, member *pluginpb.TeamMember, actor *pluginpb.User) {
	_ = c.Call(ctx, "UserHasLeftTeam", func(ctx context.Context) error {
		_, err := c.rpc.UserHasLeftTeam(ctx, &pluginpb.UserHasLeftTeamRequest{Context: hc, TeamMember: member, Actor: actor})
		return err
	})
}

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

// returnedError is the error a hook returns for a failed call: the
// plugin's error, or nil when the call could not be made (the plugin is
// unavailable), which upstream only logs.
func returnedError(err error) error {
	if err == nil || errors.Is(err, ErrNotImplemented) || status.Code(err) == codes.Unavailable {
		return nil
	}
	return pluginError(err)
}

// CallError is a hook call that failed without an AppError of the plugin:
// the plugin raised another error, crashed, hung or answered garbage.
type CallError struct {
	// Err is the gRPC status error of the call.
	Err error
}

func (e *CallError) Error() string { return "plugin hook call failed: " + e.Err.Error() }

// Unwrap returns the status error.
func (e *CallError) Unwrap() error { return e.Err }

// pluginError turns a failed call's status into the plugin's AppError, or a
// [*CallError] when the status carries none.
func pluginError(err error) error {
	if err == nil {
		return nil
	}
	if st, ok := status.FromError(err); ok {
		if appErr, ok := apperror.FromStatus(st); ok {
			if appErr.StatusCode < 100 || appErr.StatusCode > 999 {
				appErr.StatusCode = 500
			}
			return appErr
		}
	}
	return &CallError{Err: err}
}
