package memory

import (
	"context"
	"net/http"
	"testing"

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
			UserId: u.GetId(), ChannelId: town.GetChannel().GetId(), Command: text}})
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
	wantAppError(t, "GetCommand(deleted)", err, http.StatusNotFound)
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
