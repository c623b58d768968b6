package memory

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// answeringHooks answers every plugin command with its own text.
type answeringHooks struct{ NoHooks }

func (answeringHooks) ExecuteCommand(_ context.Context, pluginID string, args *pluginpb.CommandArgs) (*pluginpb.CommandResponse, error) {
	return &pluginpb.CommandResponse{ResponseType: responseInChannel, Text: pluginID + " ran " + args.GetCommand()}, nil
}

func TestSlashCommands(t *testing.T) {
	b := New(WithHooks(answeringHooks{}))
	ctx := context.Background()
	team := createTeam(t, b, newTeam("core"))
	u := create(t, b, newUser("alice"))
	join(t, b, team.GetId(), u.GetId())
	town, _ := b.GetChannelByName(ctx, &pluginpb.GetChannelByNameRequest{TeamId: team.GetId(), Name: townSquare})
	run := func(text string) (*pluginpb.CommandResponse, error) {
		resp, err := b.ExecuteSlashCommand(ctx, &pluginpb.ExecuteSlashCommandRequest{CommandArgs: &pluginpb.CommandArgs{
			UserId: u.GetId(), ChannelId: town.GetChannel().GetId(), TeamId: team.GetId(), Command: text}})
		return resp.GetResponse(), err
	}
	if _, err := b.RegisterCommand(ctx, &pluginpb.RegisterCommandRequest{Command: &pluginpb.Command{Trigger: "Deploy"}}); err != nil {
		t.Fatal(err)
	}
	resp, err := run("/deploy now")
	if err != nil || resp.GetText() != DefaultPluginID+" ran /deploy now" || resp.GetTriggerId() == "" {
		t.Fatalf("run(/deploy) = %v, %v", resp, err)
	}
	if _, err := run("/echo hello"); err != nil {
		t.Fatal(err)
	}
	posts, _ := b.GetPostsForChannel(ctx, &pluginpb.GetPostsForChannelRequest{ChannelId: town.GetChannel().GetId(), PerPage: 10})
	if len(posts.GetPostList().GetOrder()) != 2 {
		t.Errorf("posts = %d; want the plugin's and echo's answers", len(posts.GetPostList().GetOrder()))
	}
	tests := []struct {
		text string
		code int
	}{
		{"no slash", http.StatusBadRequest},
		{"/nope", http.StatusNotFound},
	}
	for _, tt := range tests {
		_, err := run(tt.text)
		wantAppError(t, "run("+tt.text+")", err, tt.code)
	}
	// A dialog needs a fresh trigger id.
	dialog := &pluginpb.OpenDialogRequest{TriggerId: resp.GetTriggerId(), Url: "http://localhost/submit", Dialog: &pluginpb.Dialog{Title: "Deploy"}}
	if _, err := b.OpenInteractiveDialog(ctx, &pluginpb.OpenInteractiveDialogRequest{Dialog: dialog}); err != nil {
		t.Errorf("OpenInteractiveDialog = %v", err)
	}
	dialog.TriggerId = newID()
	_, err = b.OpenInteractiveDialog(ctx, &pluginpb.OpenInteractiveDialogRequest{Dialog: dialog})
	wantAppError(t, "OpenInteractiveDialog(unknown trigger)", err, http.StatusBadRequest)

	created, err := b.CreateCommand(ctx, &pluginpb.CreateCommandRequest{Cmd: &pluginpb.Command{
		TeamId: team.GetId(), Trigger: "build", Method: "P", Url: "https://ci.example.com/build"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.CreateCommand(ctx, &pluginpb.CreateCommandRequest{Cmd: &pluginpb.Command{
		TeamId: team.GetId(), Trigger: "echo", Method: "P", Url: "https://ci.example.com/echo"}})
	wantAppError(t, "CreateCommand(built-in trigger)", err, http.StatusBadRequest)
	list, _ := b.ListCommands(ctx, &pluginpb.ListCommandsRequest{TeamId: team.GetId()})
	if n := len(list.GetCommands()); n != len(builtInCommands())+2 {
		t.Errorf("ListCommands = %d commands; want the built-ins, deploy and build", n)
	}
	if _, err := b.DeleteCommand(ctx, &pluginpb.DeleteCommandRequest{CommandId: created.GetCommand().GetId()}); err != nil {
		t.Fatal(err)
	}
	_, err = b.GetCommand(ctx, &pluginpb.GetCommandRequest{CommandId: created.GetCommand().GetId()})
	wantAppErrorID(t, "GetCommand(deleted)", err, "store.sql_command.get.missing.app_error", http.StatusNotFound)
}

// wantInvalidParam fails unless err is the invalid_param AppError (400)
// with details, the text of upstream's plain error.
func wantInvalidParam(t *testing.T, call string, err error, details string) {
	t.Helper()
	var appErr *apperror.Error
	if !errors.As(err, &appErr) || appErr.ID != apperror.InvalidParamID || appErr.DetailedError != details {
		t.Errorf("%s = %v; want invalid_param with details %q", call, err, details)
	}
}

// TestRegisterCommandFollowsTheAppLayer follows
// server/channels/app/plugin_commands.go@03138b54:App.RegisterPluginCommand
// and App.UnregisterPluginCommand: only an empty trigger is refused (a
// plain error), the autocomplete tree is checked as
// server/public/model/command_autocomplete.go@4226a453:AutocompleteData.IsValid
// does, the trigger is kept in lower case with the autocomplete fields
// only, and unregistering never fails.
func TestRegisterCommandFollowsTheAppLayer(t *testing.T) {
	b := New()
	ctx := context.Background()
	tests := []struct {
		name string
		cmd  *pluginpb.Command
		err  string // the details of the invalid_param error; "" for none
	}{
		{"empty trigger", &pluginpb.Command{}, "invalid command"},
		{"leading slash", &pluginpb.Command{Trigger: "/slashed"}, ""},
		{"space", &pluginpb.Command{Trigger: "has space"}, ""},
		{"long", &pluginpb.Command{Trigger: strings.Repeat("x", 300)}, ""},
		{"any team id", &pluginpb.Command{Trigger: "t", TeamId: "not-an-id"}, ""},
		{"upper-case autocomplete", &pluginpb.Command{Trigger: "up", AutocompleteData: &pluginpb.AutocompleteData{Trigger: "Up"}},
			"invalid autocomplete data in command: Command should be lowercase"},
		{"bad role", &pluginpb.Command{Trigger: "r", AutocompleteData: &pluginpb.AutocompleteData{Trigger: "r", RoleId: "team_admin"}},
			"invalid autocomplete data in command: Wrong role in the autocomplete data"},
		{"optional positional", &pluginpb.Command{Trigger: "o", AutocompleteData: &pluginpb.AutocompleteData{Trigger: "o",
			Arguments: []*pluginpb.AutocompleteArg{{Type: argTextInput}}}},
			"invalid autocomplete data in command: Positional argument can not be optional"},
	}
	for _, tt := range tests {
		_, err := b.RegisterCommand(ctx, &pluginpb.RegisterCommandRequest{Command: tt.cmd})
		if tt.err == "" && err != nil {
			t.Errorf("%s: RegisterCommand = %v; want it registered", tt.name, err)
		}
		if tt.err != "" {
			wantInvalidParam(t, tt.name, err, tt.err)
		}
	}
	_, err := b.RegisterCommand(ctx, &pluginpb.RegisterCommandRequest{Command: &pluginpb.Command{
		Trigger: "Deploy", Description: "dropped", Url: "https://dropped.example.com", AutoCompleteHint: "[env]",
		AutocompleteData: &pluginpb.AutocompleteData{Trigger: "deploy", Arguments: []*pluginpb.AutocompleteArg{
			{Type: argDynamicList, FetchUrl: "envs"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	list, _ := b.ListPluginCommands(ctx, &pluginpb.ListPluginCommandsRequest{TeamId: "x"})
	var deploy *pluginpb.Command
	for _, c := range list.GetCommands() {
		if c.GetTrigger() == "deploy" {
			deploy = c
		}
	}
	if deploy.GetDescription() != "" || deploy.GetUrl() != "" || deploy.GetAutoCompleteHint() != "[env]" ||
		deploy.GetAutocompleteData().GetArguments()[0].GetFetchUrl() != "/plugins/"+DefaultPluginID+"/envs" {
		t.Errorf("registered deploy = %v; want only the autocomplete fields kept, its fetch URL under the plugin", deploy)
	}
	for _, trigger := range []string{"", "has space", "/x"} {
		if _, err := b.UnregisterCommand(ctx, &pluginpb.UnregisterCommandRequest{Trigger: trigger}); err != nil {
			t.Errorf("UnregisterCommand(%q) = %v; want nil", trigger, err)
		}
	}
}

// TestCustomCommandsFollowTheStore follows
// server/channels/app/command.go@86b60aad:App.createCommand,
// server/channels/store/sqlstore/command_store.go@b738d771 (Save, Get,
// Update, Delete), server/public/model/command.go@1140b87e:Command.IsValid
// and server/channels/app/plugin_api.go@f56166d6 (CreateCommand,
// GetCommand, UpdateCommand, DeleteCommand).
func TestCustomCommandsFollowTheStore(t *testing.T) {
	b := New()
	ctx := context.Background()
	team := newID()
	valid := func(edit func(c *pluginpb.Command)) *pluginpb.Command {
		c := &pluginpb.Command{TeamId: team, Trigger: "build", Method: "P", Url: "https://ci.example.com"}
		edit(c)
		return c
	}
	if _, err := b.CreateCommand(ctx, &pluginpb.CreateCommandRequest{Cmd: valid(func(*pluginpb.Command) {})}); err != nil {
		t.Fatalf("CreateCommand on a team that is not there = %v; want it created (no team lookup)", err)
	}
	tests := []struct {
		name   string
		cmd    *pluginpb.Command
		id     string
		status int
	}{
		{"taken trigger, any case", valid(func(c *pluginpb.Command) { c.Trigger = "BUILD" }), "api.command.duplicate_trigger.app_error", 400},
		{"built-in trigger", valid(func(c *pluginpb.Command) { c.Trigger = "echo" }), "api.command.duplicate_trigger.app_error", 400},
		{"taken trigger before a given id", valid(func(c *pluginpb.Command) { c.Id = newID() }), "api.command.duplicate_trigger.app_error", 400},
		{"given id", valid(func(c *pluginpb.Command) { c.Trigger, c.Id = "new", newID() }), "app.command.createcommand.internal_error", 500},
		{"short token", valid(func(c *pluginpb.Command) { c.Trigger, c.Token = "new", "abc" }), "model.command.is_valid.token.app_error", 400},
		{"bad team", valid(func(c *pluginpb.Command) { c.Trigger, c.TeamId = "new", "x" }), "model.command.is_valid.team_id.app_error", 400},
		{"empty url", valid(func(c *pluginpb.Command) { c.Trigger, c.Url = "new", "" }), "model.command.is_valid.url.app_error", 400},
		{"ftp url", valid(func(c *pluginpb.Command) { c.Trigger, c.Url = "new", "ftp://x" }), "model.command.is_valid.url_http.app_error", 400},
		{"method", valid(func(c *pluginpb.Command) { c.Trigger, c.Method = "new", "" }), "model.command.is_valid.method.app_error", 400},
		{"display name in bytes", valid(func(c *pluginpb.Command) { c.Trigger, c.DisplayName = "new", strings.Repeat("é", 33) }), "model.command.is_valid.display_name.app_error", 400},
		{"trigger before url", valid(func(c *pluginpb.Command) { c.Trigger, c.Url = "a b", "" }), "model.command.is_valid.trigger.app_error", 400},
	}
	for _, tt := range tests {
		_, err := b.CreateCommand(ctx, &pluginpb.CreateCommandRequest{Cmd: tt.cmd})
		wantAppErrorID(t, "CreateCommand("+tt.name+")", err, tt.id, tt.status)
	}
	kept, err := b.CreateCommand(ctx, &pluginpb.CreateCommandRequest{Cmd: valid(func(c *pluginpb.Command) { c.Trigger, c.Token = "tok", newID() })})
	if err != nil || len(kept.GetCommand().GetToken()) != 26 {
		t.Fatalf("CreateCommand(a token given) = %v, %v; want it kept", kept, err)
	}

	unknown := newID()
	_, err = b.GetCommand(ctx, &pluginpb.GetCommandRequest{CommandId: unknown})
	wantAppErrorID(t, "GetCommand(unknown)", err, "store.sql_command.get.missing.app_error", http.StatusNotFound)
	_, err = b.UpdateCommand(ctx, &pluginpb.UpdateCommandRequest{CommandId: unknown, UpdatedCmd: valid(func(*pluginpb.Command) {})})
	wantAppErrorID(t, "UpdateCommand(unknown)", err, "store.sql_command.get.missing.app_error", http.StatusNotFound)
	if _, err := b.DeleteCommand(ctx, &pluginpb.DeleteCommandRequest{CommandId: unknown}); err != nil {
		t.Errorf("DeleteCommand(unknown) = %v; want nil, as the store's Delete", err)
	}

	// UpdateCommand: another team is taken, an empty one keeps the team,
	// a creator with the plugin is refused, a duplicate trigger is not.
	id := kept.GetCommand().GetId()
	other := newID()
	moved, err := b.UpdateCommand(ctx, &pluginpb.UpdateCommandRequest{CommandId: id, UpdatedCmd: valid(func(c *pluginpb.Command) { c.TeamId = other })})
	if err != nil || moved.GetCommand().GetTeamId() != other || moved.GetCommand().GetTrigger() != "build" {
		t.Errorf("UpdateCommand(other team, taken trigger) = %v, %v; want it moved", moved, err)
	}
	kept2, err := b.UpdateCommand(ctx, &pluginpb.UpdateCommandRequest{CommandId: id, UpdatedCmd: valid(func(c *pluginpb.Command) { c.TeamId = "" })})
	if err != nil || kept2.GetCommand().GetTeamId() != other {
		t.Errorf("UpdateCommand(no team) = %v, %v; want the team kept", kept2, err)
	}
	_, err = b.UpdateCommand(ctx, &pluginpb.UpdateCommandRequest{CommandId: id, UpdatedCmd: valid(func(c *pluginpb.Command) { c.CreatorId = newID() })})
	wantAppErrorID(t, "UpdateCommand(a creator)", err, "model.command.is_valid.plugin_id.app_error", 400)
}

// TestExecuteSlashCommandOrder follows
// server/channels/app/command.go@86b60aad:App.ExecuteCommand: a plugin's
// command overrides a custom one, which overrides a built-in; commands
// turned off fail all but plugin commands with 501; the trigger ends at
// the first white space and must start with "/".
func TestExecuteSlashCommandOrder(t *testing.T) {
	b := New(WithHooks(answeringHooks{}))
	ctx := context.Background()
	team := createTeam(t, b, newTeam("core"))
	u := create(t, b, newUser("alice"))
	join(t, b, team.GetId(), u.GetId())
	town, _ := b.GetChannelByName(ctx, &pluginpb.GetChannelByNameRequest{TeamId: team.GetId(), Name: townSquare})
	run := func(text string) (*pluginpb.CommandResponse, error) {
		resp, err := b.ExecuteSlashCommand(ctx, &pluginpb.ExecuteSlashCommandRequest{CommandArgs: &pluginpb.CommandArgs{
			UserId: u.GetId(), ChannelId: town.GetChannel().GetId(), TeamId: team.GetId(), Command: text}})
		return resp.GetResponse(), err
	}
	if _, err := b.CreateCommand(ctx, &pluginpb.CreateCommandRequest{Cmd: &pluginpb.Command{
		TeamId: team.GetId(), Trigger: "build", Method: "P", Url: "https://ci.example.com"}}); err != nil {
		t.Fatal(err)
	}
	_, err := run("/build")
	wantAppErrorID(t, "run(/build), a custom command", err, "app.command.execute_command.url_not_called", 501)
	for _, trigger := range []string{"echo", "build"} {
		if _, err := b.RegisterCommand(ctx, &pluginpb.RegisterCommandRequest{Command: &pluginpb.Command{Trigger: trigger}}); err != nil {
			t.Fatal(err)
		}
		resp, err := run("/" + strings.ToUpper(trigger) + "\tnow")
		if err != nil || resp.GetText() != DefaultPluginID+" ran /"+strings.ToUpper(trigger)+"\tnow" {
			t.Errorf("run(/%s) = %v, %v; want the plugin's command to run", trigger, resp, err)
		}
	}
	_, err = run(" /echo x")
	wantAppErrorID(t, "run(a leading space)", err, "api.command.execute_command.format.app_error", 400)

	cfg, _ := b.GetConfig(ctx, &pluginpb.GetConfigRequest{})
	off := strings.Replace(cfg.GetConfig().GetJson(), `"EnableCommands":true`, `"EnableCommands":false`, 1)
	if _, err := b.SaveConfig(ctx, &pluginpb.SaveConfigRequest{Config: &pluginpb.Config{Json: off}}); err != nil {
		t.Fatal(err)
	}
	_, err = run("/shrug")
	wantAppErrorID(t, "run(/shrug), commands off", err, "api.command.disabled.app_error", 501)
	if _, err := run("/echo x"); err != nil {
		t.Errorf("run(/echo), a plugin command with commands off = %v; want it run", err)
	}
}

func TestEventLog(t *testing.T) {
	b, _ := newTestBackend(t)
	ctx := context.Background()
	if _, err := b.SendMail(ctx, &pluginpb.SendMailRequest{To: "a@example.com", Subject: "s", HtmlBody: "<p>b</p>"}); err != nil {
		t.Fatal(err)
	}
	_, err := b.SendMail(ctx, &pluginpb.SendMailRequest{To: "a@example.com"})
	wantAppError(t, "SendMail(no subject)", err, http.StatusBadRequest)
	for range maxEvents + 5 {
		if _, err := b.PublishWebSocketEvent(ctx, &pluginpb.PublishWebSocketEventRequest{Event: "tick"}); err != nil {
			t.Fatal(err)
		}
	}
	events := b.Events()
	if len(events) != maxEvents || events[0].Kind != "websocket_event" {
		t.Errorf("events = %d, first %q; want the newest %d", len(events), events[0].Kind, maxEvents)
	}
}
