package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"strings"
	"time"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
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
	spawn := time.Now()
	sup, err := supervisor.Start(ctx, bundle, supervisor.Config{
		APITarget: *target, APIToken: *token, Python: *python,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return err
	}
	defer sup.Stop(context.Background())
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
