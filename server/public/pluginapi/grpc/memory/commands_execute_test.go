package memory

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// scriptedHooks answers each plugin command by its trigger and keeps the
// args it was given.
type scriptedHooks struct {
	NoHooks
	elsewhere string // a channel the user is not a member of

	mu   sync.Mutex
	seen []*pluginpb.CommandArgs
}

func (h *scriptedHooks) ExecuteCommand(_ context.Context, _ string, args *pluginpb.CommandArgs) (*pluginpb.CommandResponse, error) {
	h.mu.Lock()
	h.seen = append(h.seen, args)
	h.mu.Unlock()
	switch strings.Fields(args.GetCommand())[0] {
	case "/quiet":
		return &pluginpb.CommandResponse{ResponseType: responseEphemeral, Text: "shh"}, nil
	case "/elsewhere":
		return &pluginpb.CommandResponse{ResponseType: responseInChannel, Text: "x", ChannelId: h.elsewhere}, nil
	case "/sys":
		return &pluginpb.CommandResponse{ResponseType: responseEphemeral, Text: "x", Type: "system_join_channel"}, nil
	}
	// No answer and no error, as a plugin without the hook.
	return nil, nil
}

// TestExecuteSlashCommandLookups follows
// server/channels/app/command.go@86b60aad:App.ExecuteCommand and
// App.tryExecuteCustomCommand: a plugin command runs with the args' team
// as given and neither the team nor the channel looked up
// (server/channels/app/plugin_commands.go@030e24f3:App.tryExecutePluginCommand),
// and a plugin that answers nothing falls through; anything else needs
// EnableCommands, then the team (an empty one is not the channel's), the
// user and the channel; App.HandleCommandResponse turns any failed answer
// into create_post_failed (500).
func TestExecuteSlashCommandLookups(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		text    string
		team    bool // send the team's id (else none)
		channel bool // send the town square's id (else an unknown one)
		off     bool // EnableCommands off
		id      string
		status  int
	}{
		{"a built-in with no team", "/echo x", false, true, false, "app.team.get.find.app_error", http.StatusNotFound},
		{"an unknown trigger with no team", "/nope", false, true, false, "app.team.get.find.app_error", http.StatusNotFound},
		{"a built-in in an unknown channel", "/echo x", true, false, false, "app.channel.get.existing.app_error", http.StatusNotFound},
		{"commands off before the team", "/echo x", false, false, true, "api.command.disabled.app_error", http.StatusNotImplemented},
		{"an unknown trigger", "/nope", true, true, false, "api.command.execute_command.not_found.app_error", http.StatusNotFound},
		{"a plugin command with no team and no channel", "/quiet", false, false, false, "", 0},
		{"a plugin command with commands off", "/quiet", false, false, true, "", 0},
		{"a plugin that answers nothing falls through", "/none", false, true, false, "app.team.get.find.app_error", http.StatusNotFound},
		{"an answer in a channel the user is not in", "/elsewhere", true, true, false,
			"api.command.execute_command.create_post_failed.app_error", http.StatusInternalServerError},
		{"an answer of a system type", "/sys", true, true, false,
			"api.command.execute_command.create_post_failed.app_error", http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hooks := &scriptedHooks{}
			b := New(WithHooks(hooks))
			team := createTeam(t, b, newTeam("core"))
			u := create(t, b, newUser("alice"))
			join(t, b, team.GetId(), u.GetId())
			town, _ := b.GetChannelByName(ctx, &pluginpb.GetChannelByNameRequest{TeamId: team.GetId(), Name: townSquare})
			hooks.elsewhere = createChannel(t, b, &pluginpb.Channel{TeamId: team.GetId(), Name: "elsewhere", DisplayName: "E", Type: channelOpen}).GetId()
			for _, trigger := range []string{"quiet", "none", "elsewhere", "sys"} {
				if _, err := b.RegisterCommand(ctx, &pluginpb.RegisterCommandRequest{Command: &pluginpb.Command{Trigger: trigger}}); err != nil {
					t.Fatal(err)
				}
			}
			if tt.off {
				cfg, _ := b.GetConfig(ctx, &pluginpb.GetConfigRequest{})
				off := strings.Replace(cfg.GetConfig().GetJson(), `"EnableCommands":true`, `"EnableCommands":false`, 1)
				if _, err := b.SaveConfig(ctx, &pluginpb.SaveConfigRequest{Config: &pluginpb.Config{Json: off}}); err != nil {
					t.Fatal(err)
				}
			}
			args := &pluginpb.CommandArgs{UserId: u.GetId(), ChannelId: newID(), Command: tt.text}
			if tt.team {
				args.TeamId = team.GetId()
			}
			if tt.channel {
				args.ChannelId = town.GetChannel().GetId()
			}
			resp, err := b.ExecuteSlashCommand(ctx, &pluginpb.ExecuteSlashCommandRequest{CommandArgs: args})
			if tt.id != "" {
				wantAppErrorID(t, "ExecuteSlashCommand("+tt.text+")", err, tt.id, tt.status)
				return
			}
			if err != nil || resp.GetResponse().GetText() != "shh" {
				t.Fatalf("ExecuteSlashCommand(%s) = %v, %v; want the plugin's answer", tt.text, resp, err)
			}
			if got := hooks.seen[0].GetTeamId(); got != "" {
				t.Errorf("the plugin got team id %q; want it left empty", got)
			}
		})
	}

	t.Run("a plugin that answers nothing falls through to a built-in", func(t *testing.T) {
		b := New(WithHooks(&scriptedHooks{}))
		team := createTeam(t, b, newTeam("core"))
		u := create(t, b, newUser("alice"))
		join(t, b, team.GetId(), u.GetId())
		town, _ := b.GetChannelByName(ctx, &pluginpb.GetChannelByNameRequest{TeamId: team.GetId(), Name: townSquare})
		if _, err := b.RegisterCommand(ctx, &pluginpb.RegisterCommandRequest{Command: &pluginpb.Command{Trigger: "echo"}}); err != nil {
			t.Fatal(err)
		}
		resp, err := b.ExecuteSlashCommand(ctx, &pluginpb.ExecuteSlashCommandRequest{CommandArgs: &pluginpb.CommandArgs{
			UserId: u.GetId(), ChannelId: town.GetChannel().GetId(), TeamId: team.GetId(), Command: "/echo hi"}})
		if err != nil || resp.GetResponse().GetText() != "hi" {
			t.Errorf("ExecuteSlashCommand(/echo hi) = %v, %v; want the built-in's answer", resp, err)
		}
	})
}
