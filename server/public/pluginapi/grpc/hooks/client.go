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

// lifecycle calls a lifecycle hook: the plugin's error, or a call that
// cannot be made, is returned.
func (c *Client) lifecycle(ctx context.Context, hook string, fn func(ctx context.Context) error) error {
	if err := c.Call(ctx, hook, fn); err != nil && !errors.Is(err, ErrNotImplemented) {
		return pluginError(err)
	}
	return nil
}

// keepOrReplace calls a hook that keeps, replaces or rejects a value, with
// upstream's fail-open rule: when the plugin lacks the hook or the call
// fails, the input goes through unchanged, as it does when the answer has
// no value ([Keep]).
func keepOrReplace[T comparable](c *Client, ctx context.Context, hook string, input T, call func(context.Context) (T, string, error)) (T, string) {
	result, reason := input, ""
	_ = c.Call(ctx, hook, func(ctx context.Context) error {
		value, why, err := call(ctx)
		if err != nil {
			return err
		}
		result, reason = Keep(input, value), why
		return nil
	})
	return result, reason
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
