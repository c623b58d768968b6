package main

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/hooks"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/memory"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/supervisor"
)

// pythonEnv names the default interpreter of Python plugins.
const pythonEnv = "MATTERMOST_PLUGIN_PYTHON"

// pluginHooks fires the backend's hooks in the plugin that the
// supervisor runs, as Mattermost does: the "will be" hooks and commands on
// the caller's goroutine, the "has been" hooks in a goroutine of their own
// (fire and forget). Until a supervisor is set, and while its process is
// down, every hook fails open.
type pluginHooks struct {
	sup      atomic.Pointer[supervisor.Supervisor]
	inFlight sync.WaitGroup
}

var _ memory.Hooks = (*pluginHooks)(nil)

func (p *pluginHooks) current() hooks.Hooks {
	if s := p.sup.Load(); s != nil {
		return s.Hooks()
	}
	return hooks.None{}
}

// later runs a notification hook after the request, with the request's
// values but not its cancellation.
func (p *pluginHooks) later(ctx context.Context, fn func(ctx context.Context, h hooks.Hooks)) {
	h := p.current()
	ctx = context.WithoutCancel(ctx)
	p.inFlight.Add(1)
	go func() {
		defer p.inFlight.Done()
		fn(ctx, h)
	}()
}

// wait waits for the notification hooks in flight.
func (p *pluginHooks) wait() { p.inFlight.Wait() }

func (p *pluginHooks) TeamMemberWillBeAdded(ctx context.Context, member *pluginpb.TeamMember) (*pluginpb.TeamMember, string) {
	return p.current().TeamMemberWillBeAdded(ctx, nil, member)
}

func (p *pluginHooks) UserHasJoinedTeam(ctx context.Context, member *pluginpb.TeamMember, actor *pluginpb.User) {
	p.later(ctx, func(ctx context.Context, h hooks.Hooks) { h.UserHasJoinedTeam(ctx, nil, member, actor) })
}

func (p *pluginHooks) UserHasLeftTeam(ctx context.Context, member *pluginpb.TeamMember, actor *pluginpb.User) {
	p.later(ctx, func(ctx context.Context, h hooks.Hooks) { h.UserHasLeftTeam(ctx, nil, member, actor) })
}

func (p *pluginHooks) ChannelHasBeenCreated(ctx context.Context, channel *pluginpb.Channel) {
	p.later(ctx, func(ctx context.Context, h hooks.Hooks) { h.ChannelHasBeenCreated(ctx, nil, channel) })
}

func (p *pluginHooks) UserHasJoinedChannel(ctx context.Context, member *pluginpb.ChannelMember, actor *pluginpb.User) {
	p.later(ctx, func(ctx context.Context, h hooks.Hooks) { h.UserHasJoinedChannel(ctx, nil, member, actor) })
}

func (p *pluginHooks) UserHasLeftChannel(ctx context.Context, member *pluginpb.ChannelMember, actor *pluginpb.User) {
	p.later(ctx, func(ctx context.Context, h hooks.Hooks) { h.UserHasLeftChannel(ctx, nil, member, actor) })
}

func (p *pluginHooks) MessageWillBePosted(ctx context.Context, post *pluginpb.Post) (*pluginpb.Post, string) {
	return p.current().MessageWillBePosted(ctx, nil, post)
}

func (p *pluginHooks) MessageHasBeenPosted(ctx context.Context, post *pluginpb.Post) {
	p.later(ctx, func(ctx context.Context, h hooks.Hooks) { h.MessageHasBeenPosted(ctx, nil, post) })
}

func (p *pluginHooks) MessageWillBeUpdated(ctx context.Context, newPost, oldPost *pluginpb.Post) (*pluginpb.Post, string) {
	return p.current().MessageWillBeUpdated(ctx, nil, newPost, oldPost)
}

func (p *pluginHooks) MessageHasBeenUpdated(ctx context.Context, newPost, oldPost *pluginpb.Post) {
	p.later(ctx, func(ctx context.Context, h hooks.Hooks) { h.MessageHasBeenUpdated(ctx, nil, newPost, oldPost) })
}

func (p *pluginHooks) MessageHasBeenDeleted(ctx context.Context, post *pluginpb.Post) {
	p.later(ctx, func(ctx context.Context, h hooks.Hooks) { h.MessageHasBeenDeleted(ctx, nil, post) })
}

func (p *pluginHooks) UserHasBeenCreated(ctx context.Context, user *pluginpb.User) {
	p.later(ctx, func(ctx context.Context, h hooks.Hooks) { h.UserHasBeenCreated(ctx, nil, user) })
}

func (p *pluginHooks) ReactionHasBeenAdded(ctx context.Context, reaction *pluginpb.Reaction) {
	p.later(ctx, func(ctx context.Context, h hooks.Hooks) { h.ReactionHasBeenAdded(ctx, nil, reaction) })
}

func (p *pluginHooks) ReactionHasBeenRemoved(ctx context.Context, reaction *pluginpb.Reaction) {
	p.later(ctx, func(ctx context.Context, h hooks.Hooks) { h.ReactionHasBeenRemoved(ctx, nil, reaction) })
}

// ExecuteCommand passes the plugin's AppError through; a plugin that
// crashed, hung or answered garbage gets Mattermost's crash error.
func (p *pluginHooks) ExecuteCommand(ctx context.Context, args *pluginpb.CommandArgs) (*pluginpb.CommandResponse, error) {
	resp, err := p.current().ExecuteCommand(ctx, nil, args)
	var callErr *hooks.CallError
	if errors.As(err, &callErr) {
		trigger, _, _ := strings.Cut(strings.TrimSpace(args.GetCommand()), " ")
		return nil, apperror.New("model.plugin_command_crash.error.app_error",
			fmt.Sprintf("%s command failed. Please contact your system administrator.", apperror.Truncate(trigger, apperror.MaxShortBytes)),
			apperror.Truncate(callErr.Error(), 1024), http.StatusInternalServerError)
	}
	return resp, err
}

// pluginHTTP routes /plugins/{plugin_id}/... to the plugin's ServeHTTP, as
// Mattermost's router does: the prefix is removed from the URL, the
// client's Mattermost-User-Id and Mattermost-Plugin-ID headers are
// dropped, and the hook context gets a new request id, the client's IP,
// Accept-Language and User-Agent.
func (p *pluginHooks) pluginHTTP(pluginID string) http.Handler {
	mux := http.NewServeMux()
	serve := func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != pluginID || p.sup.Load() == nil {
			http.NotFound(w, r)
			return
		}
		prefix := "/plugins/" + pluginID
		r2 := r.Clone(r.Context())
		r2.URL.Path = strings.TrimPrefix(r.URL.Path, prefix)
		r2.URL.RawPath = strings.TrimPrefix(r.URL.RawPath, prefix)
		if r2.URL.Path == "" {
			r2.URL.Path = "/"
		}
		r2.Header.Del("Mattermost-User-Id")
		r2.Header.Del("Mattermost-Plugin-ID")
		ip, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			ip = r.RemoteAddr
		}
		hc := &pluginpb.Context{
			RequestId:      requestID(),
			IpAddress:      ip,
			AcceptLanguage: r.Header.Get("Accept-Language"),
			UserAgent:      r.Header.Get("User-Agent"),
		}
		p.current().ServeHTTP(hc, w, r2)
	}
	mux.HandleFunc("/plugins/{id}", serve)
	mux.HandleFunc("/plugins/{id}/", serve)
	return mux
}

// requestID returns a new 26-character id, as Mattermost's request ids.
func requestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}
