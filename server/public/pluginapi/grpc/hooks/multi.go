package hooks

import (
	"cmp"
	"context"
	"io"
	"slices"
	"sync"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// Plugin is the hooks of one plugin at one moment, with the plugin's id.
type Plugin struct {
	// ID is the plugin's id, by which [Multi] orders the plugins.
	ID string
	Hooks
}

// Multi runs each hook across a set of plugins, as Mattermost's
// RunMultiHook does (server/public/plugin/environment.go of
// mattermost/mattermost):
//
//   - every plugin in turn, in plugin id order;
//   - a hook that keeps, replaces or rejects a value ([Chain]) gives each
//     plugin the answer of the one before, and a plugin's answer of nothing
//     keeps the value ([Keep]); the first rejection stops the walk;
//   - a hook whose answer replaces the value whole ([ChainWhole]) stops at
//     the first rejection or answer of nothing;
//   - a hook that only allows or rejects ([Multi.FirstReason]) stops at the
//     first reason;
//   - a notification hook ([Multi.Later]) runs after the request, in a
//     goroutine of its own, with the request's values but not its
//     cancellation.
//
// The methods named by hooks, in multi_generated.go, apply these rules to
// every hook of the contract whose shape has one; the hook context of each
// call is made from its ctx. The set of plugins may change between calls:
// each call goes to the plugins of its moment. A Multi is safe for
// concurrent use.
type Multi struct {
	plugins     func() []Plugin
	hookContext func(context.Context) *pluginpb.Context
	inFlight    sync.WaitGroup
}

// NewMulti returns a Multi over the plugins that plugins returns at each
// call, in any order. hookContext makes the hook context of a call from
// its ctx; nil gives every call an empty one.
func NewMulti(plugins func() []Plugin, hookContext func(context.Context) *pluginpb.Context) *Multi {
	if hookContext == nil {
		hookContext = func(context.Context) *pluginpb.Context { return &pluginpb.Context{} }
	}
	return &Multi{plugins: plugins, hookContext: hookContext}
}

// Plugins returns the plugins of the moment, in plugin id order.
func (m *Multi) Plugins() []Plugin {
	ps := m.plugins()
	byID := func(a, b Plugin) int { return cmp.Compare(a.ID, b.ID) }
	if !slices.IsSortedFunc(ps, byID) {
		ps = slices.Clone(ps)
		slices.SortStableFunc(ps, byID)
	}
	return ps
}

// Chain runs a hook that keeps, replaces or rejects a value in every plugin
// in turn, each with the value that the ones before left: a plugin's answer
// replaces it, and an answer of nothing keeps it ([Keep]). The first
// rejection stops the walk, and is returned with the rejecting plugin's
// answer.
func Chain[T comparable](m *Multi, ctx context.Context, in T, call func(ctx context.Context, hc *pluginpb.Context, h Hooks, in T) (T, string)) (T, string) {
	hc := m.hookContext(ctx)
	for _, p := range m.Plugins() {
		out, reason := call(ctx, hc, p.Hooks, in)
		if reason != "" {
			return out, reason
		}
		in = Keep(in, out)
	}
	return in, ""
}

// ChainWhole runs a hook whose answer replaces the value whole in every
// plugin in turn, each with the answer of the one before. The first
// rejection, or a plugin's answer of nothing (which rejects the change),
// stops the walk and is returned.
func ChainWhole[T comparable](m *Multi, ctx context.Context, in T, call func(ctx context.Context, hc *pluginpb.Context, h Hooks, in T) (T, string)) (T, string) {
	hc := m.hookContext(ctx)
	var unset T
	for _, p := range m.Plugins() {
		out, reason := call(ctx, hc, p.Hooks, in)
		if reason != "" || out == unset {
			return out, reason
		}
		in = out
	}
	return in, ""
}

// FirstReason runs a hook that allows or rejects in every plugin in turn,
// until one gives a reason, which it returns.
func (m *Multi) FirstReason(ctx context.Context, call func(ctx context.Context, hc *pluginpb.Context, h Hooks) string) string {
	hc := m.hookContext(ctx)
	for _, p := range m.Plugins() {
		if reason := call(ctx, hc, p.Hooks); reason != "" {
			return reason
		}
	}
	return ""
}

// Later runs a notification hook in every plugin of the moment, in turn,
// after the request: in a goroutine of its own, with ctx's values but not
// its cancellation. [Multi.Wait] waits for it.
func (m *Multi) Later(ctx context.Context, call func(ctx context.Context, hc *pluginpb.Context, p Plugin)) {
	ps := m.Plugins()
	hc := m.hookContext(ctx)
	ctx = context.WithoutCancel(ctx)
	m.inFlight.Add(1)
	go func() {
		defer m.inFlight.Done()
		for _, p := range ps {
			call(ctx, hc, p)
		}
	}()
}

// Wait waits for the notification hooks that [Multi.Later] started.
func (m *Multi) Wait() { m.inFlight.Wait() }

// ConfigurationWillBeSaved chains the configuration through every plugin:
// a plugin's answer replaces it for the next, and the first error stops
// the walk. It returns the configuration to save instead, or nil when no
// plugin replaced it.
func (m *Multi) ConfigurationWillBeSaved(ctx context.Context, newConfig *pluginpb.Config) (*pluginpb.Config, error) {
	var replaced *pluginpb.Config
	for _, p := range m.Plugins() {
		answer, err := p.ConfigurationWillBeSaved(ctx, newConfig)
		if err != nil {
			return nil, err
		}
		if answer != nil {
			replaced, newConfig = answer, answer
		}
	}
	return replaced, nil
}

// FileWillBeUploaded gives every plugin in turn the one reader of the
// stored data and the one writer of its replacement, as upstream's upload
// path does: a plugin reads what the one before left unread, and the
// replacement is everything they wrote. The info is chained as [Chain]
// chains a value.
func (m *Multi) FileWillBeUploaded(ctx context.Context, info *pluginpb.FileInfo, file io.Reader, output io.Writer) (*pluginpb.FileInfo, string) {
	return Chain(m, ctx, info, func(ctx context.Context, hc *pluginpb.Context, h Hooks, in *pluginpb.FileInfo) (*pluginpb.FileInfo, string) {
		return h.FileWillBeUploaded(ctx, hc, in, file, output)
	})
}
