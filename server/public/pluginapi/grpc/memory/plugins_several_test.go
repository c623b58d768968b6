package memory

import (
	"context"
	"testing"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/auth"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// commandRouter answers a plugin command with the id of the plugin it was
// routed to.
type commandRouter struct{ NoHooks }

func (commandRouter) ExecuteCommand(_ context.Context, pluginID string, args *pluginpb.CommandArgs) (*pluginpb.CommandResponse, error) {
	return &pluginpb.CommandResponse{Text: pluginID}, nil
}

// TestSeveralPlugins: calls made with a plugin's token act as that plugin,
// with its own KV store, settings, bot and commands, and a command runs in
// the plugin that registered it.
func TestSeveralPlugins(t *testing.T) {
	b := New(WithHooks(commandRouter{}), Manifest(&pluginpb.Manifest{Id: "com.example.a"}, &pluginpb.Manifest{Id: "com.example.b"}))
	a := auth.NewContext(context.Background(), "com.example.a")
	bee := auth.NewContext(context.Background(), "com.example.b")
	anon := context.Background()

	for ctx, want := range map[context.Context]string{a: "com.example.a", bee: "com.example.b", anon: "com.example.a"} {
		if got, _ := b.GetPluginID(ctx, &pluginpb.GetPluginIDRequest{}); got.GetId() != want {
			t.Errorf("GetPluginID = %q; want %q", got.GetId(), want)
		}
	}
	if _, err := b.KVSet(bee, &pluginpb.KVSetRequest{Key: "k", Value: []byte("b's")}); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.KVGet(a, &pluginpb.KVGetRequest{Key: "k"}); got.GetValue() != nil {
		t.Errorf("plugin a reads b's key: %q", got.GetValue())
	}
	if _, err := b.KVDeleteAll(a, &pluginpb.KVDeleteAllRequest{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.KVGet(bee, &pluginpb.KVGetRequest{Key: "k"}); string(got.GetValue()) != "b's" {
		t.Errorf("after a's KVDeleteAll, b's key = %q; want it kept", got.GetValue())
	}

	settings, _ := structpb.NewStruct(map[string]any{"greeting": "hi from b"})
	if _, err := b.SavePluginConfig(bee, &pluginpb.SavePluginConfigRequest{Config: settings}); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.GetPluginConfig(a, &pluginpb.GetPluginConfigRequest{}); len(got.GetConfig().GetFields()) != 0 {
		t.Errorf("plugin a's settings = %v; want none", got.GetConfig())
	}
	if got, _ := b.GetPluginConfig(bee, &pluginpb.GetPluginConfigRequest{}); got.GetConfig().GetFields()["greeting"].GetStringValue() != "hi from b" {
		t.Errorf("plugin b's settings = %v", got.GetConfig())
	}

	bot, err := b.EnsureBotUser(bee, &pluginpb.EnsureBotUserRequest{Bot: &pluginpb.Bot{Username: "bee-bot"}})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := b.GetBot(a, &pluginpb.GetBotRequest{BotUserId: bot.GetBotUserId()})
	if got.GetBot().GetOwnerId() != "com.example.b" {
		t.Errorf("bot owner = %q; want com.example.b", got.GetBot().GetOwnerId())
	}

	team := createTeam(t, b, newTeam("core"))
	u := create(t, b, newUser("alice"))
	join(t, b, team.GetId(), u.GetId())
	town, _ := b.GetChannelByName(anon, &pluginpb.GetChannelByNameRequest{TeamId: team.GetId(), Name: townSquare})
	for ctx, trigger := range map[context.Context]string{a: "alpha", bee: "beta"} {
		if _, err := b.RegisterCommand(ctx, &pluginpb.RegisterCommandRequest{Command: &pluginpb.Command{Trigger: trigger}}); err != nil {
			t.Fatal(err)
		}
	}
	for trigger, want := range map[string]string{"alpha": "com.example.a", "beta": "com.example.b"} {
		resp, err := b.ExecuteSlashCommand(anon, &pluginpb.ExecuteSlashCommandRequest{CommandArgs: &pluginpb.CommandArgs{
			UserId: u.GetId(), ChannelId: town.GetChannel().GetId(), Command: "/" + trigger}})
		if err != nil || resp.GetResponse().GetText() != want {
			t.Errorf("/%s ran in %q (%v); want %s", trigger, resp.GetResponse().GetText(), err, want)
		}
	}
	// b unregisters a's command too: App.UnregisterPluginCommand
	// (server/channels/app/plugin_commands.go@03138b54) removes every
	// registration with the team and trigger, whichever plugin made it.
	if _, err := b.UnregisterCommand(bee, &pluginpb.UnregisterCommandRequest{Trigger: "ALPHA"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ExecuteSlashCommand(anon, &pluginpb.ExecuteSlashCommandRequest{CommandArgs: &pluginpb.CommandArgs{
		UserId: u.GetId(), ChannelId: town.GetChannel().GetId(), Command: "/alpha"}}); err == nil {
		t.Errorf("/alpha still runs after b unregistered it")
	}
}
