package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"strings"
	"time"

	"google.golang.org/grpc"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/auth"
	hookspkg "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/hooks"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/server"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/supervisor"
)

// runHooks starts the Python plugin in -plugin under the supervisor and
// measures the hooks client's MessageWillBePosted round trip; the first
// line reports its start: spawn to handshake, handshake to activated, and
// activated to the first hook's answer.
func runHooks(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("hooks", flag.ContinueOnError)
	var c commonFlags
	c.register(fs)
	dir := fs.String("plugin", "", "the plugin directory")
	python := fs.String("python", "", "the plugin's interpreter")
	target := fs.String("target", "unix:///nonexistent", "the Plugin API target the plugin gets")
	token := fs.String("token", "unused", "the Plugin API token the plugin gets")
	name := fs.String("name", "python/hook", "the measurement's name")
	stream := fs.Bool("stream", false, "serve a Plugin API server with a hook stream and call the hooks on the stream the plugin opens (-target and -token are then its)")
	stop, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	defer stop()
	bundle, err := supervisor.Load(*dir)
	if err != nil {
		return err
	}
	ctx := context.Background()
	cfg := supervisor.Config{
		APITarget: *target, APIToken: *token, Python: *python,
		Logger: slog.New(slog.DiscardHandler),
	}
	var conn *hookspkg.StreamConn
	if *stream {
		stopAPI, err := serveHookStream(bundle.Manifest.ID, &cfg, &conn)
		if err != nil {
			return err
		}
		defer stopAPI()
	}
	spawn := time.Now()
	sup, err := supervisor.Start(ctx, bundle, cfg)
	if err != nil {
		return err
	}
	defer sup.Stop(context.Background())
	if *stream {
		for deadline := time.Now().Add(10 * time.Second); !conn.Open(); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				return errors.New("the plugin opened no hook stream within 10 s")
			}
		}
	}
	activated := time.Now()
	toHandshake, toActivated, _ := sup.Timing()
	hooks := sup.Hooks()
	hc := &pluginpb.Context{RequestId: "bench"}
	call := func() error {
		post, reason := hooks.MessageWillBePosted(ctx, hc, &pluginpb.Post{Id: "p", ChannelId: "c", Message: "hello"})
		if reason != "" || !strings.HasSuffix(post.GetMessage(), "!") {
			return errors.New("the plugin's answer is not the marked post: " + post.GetMessage() + reason)
		}
		return nil
	}
	if err := call(); err != nil {
		return err
	}
	firstHook := time.Since(activated)
	if err := emit(out, sample{Name: *name + "/start", Extra: map[string]int64{
		"spawn_to_handshake_ns":   int64(toHandshake),
		"handshake_to_active_ns":  int64(toActivated),
		"active_to_first_hook_ns": int64(firstHook),
		"spawn_to_first_hook_ns":  int64(time.Since(spawn)),
	}}); err != nil {
		return err
	}
	for _, n := range c.concurrency {
		s, err := measure(*name, c.calls, n, c.warmup, call)
		if err != nil {
			return err
		}
		if err := emit(out, s); err != nil {
			return err
		}
	}
	return nil
}

// serveHookStream serves a Plugin API server (no API methods, only the
// hook stream) for plugin id on a unix socket, points cfg at it, and makes
// cfg's hooks client a hooks.StreamConn (set in *conn once the supervisor
// has dialled the plugin) that takes the stream the plugin opens.
func serveHookStream(id string, cfg *supervisor.Config, conn **hookspkg.StreamConn) (stop func(), err error) {
	token, err := auth.NewToken()
	if err != nil {
		return nil, err
	}
	ready := make(chan *hookspkg.StreamConn, 1)
	handler := func(pluginID string, stream server.HookStream) error {
		if _, err := stream.Recv(); err != nil { // the hello
			return err
		}
		sc := <-ready
		ready <- sc
		return sc.Serve(stream)
	}
	unused, err := auth.NewToken()
	if err != nil {
		return nil, err
	}
	srv, err := server.New(pluginpb.UnimplementedPluginAPIServer{}, unused,
		server.PluginTokens(auth.PluginToken{Token: token, PluginID: id}), server.HookStreams(handler),
		server.Logger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return nil, err
	}
	lis, err := server.ListenUnix("")
	if err != nil {
		return nil, err
	}
	go func() { _ = srv.Serve(lis) }()
	cfg.APITarget, cfg.APIToken = lis.Target, token
	cfg.HookConn = func(unary grpc.ClientConnInterface) grpc.ClientConnInterface {
		sc := hookspkg.NewStreamConn(unary, nil)
		*conn = sc
		ready <- sc
		return sc
	}
	return func() {
		srv.Stop()
		lis.Close()
	}, nil
}
