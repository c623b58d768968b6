package memory

// This file holds the execution of slash commands: ExecuteSlashCommand,
// the built-in commands and the handling of a command's answer.

import (
	"context"
	"net/http"
	"strings"
	"unicode"

	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// Response types of model.CommandResponse.
const (
	responseInChannel = "in_channel"
	responseEphemeral = "ephemeral"
)

// maxTriggerInError is how much of an unknown trigger the not-found
// error quotes, as App.ExecuteCommand's maxTriggerLen.
const maxTriggerInError = 512

// ExecuteSlashCommand runs a slash command as a user, as
// PluginAPI.ExecuteSlashCommand and App.ExecuteCommand do
// (server/channels/app/command.go@86b60aad:App.ExecuteCommand): the user
// is looked up; the trigger is the text up to its first white space, in
// lower case, and must start with "/"; then the plugin command
// registered first for the team (or every team) runs, else, unless
// ServiceSettings.EnableCommands is off (which fails every command but a
// plugin's, 501), a custom command of the team, else a built-in one. The
// answer is posted to the channel ("in_channel") or shown to the user
// alone (the event log's "ephemeral_post"), and returned.
func (b *Backend) ExecuteSlashCommand(ctx context.Context, req *pluginpb.ExecuteSlashCommandRequest) (*pluginpb.ExecuteSlashCommandResponse, error) {
	in := req.GetCommandArgs()
	if in == nil {
		return nil, invalidParam("command_args")
	}
	args := proto.Clone(in).(*pluginpb.CommandArgs)
	b.mu.Lock()
	_, err := b.user(args.GetUserId())
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	text := args.GetCommand()
	trigger, message := text, ""
	if i := strings.IndexFunc(text, unicode.IsSpace); i >= 0 {
		trigger, message = text[:i], text[i+1:]
	}
	trigger = strings.ToLower(trigger)
	if !strings.HasPrefix(trigger, "/") {
		return nil, apperror.New("api.command.execute_command.format.app_error",
			`A command starts with "/" and its trigger.`, "", http.StatusBadRequest)
	}
	trigger = trigger[1:]

	b.mu.Lock()
	c, err := b.channel(args.GetChannelId())
	var plugin pluginRegistration
	var hasPlugin, commandsOn bool
	var custom *pluginpb.Command
	if err == nil {
		if args.GetTeamId() == "" {
			args.TeamId = c.GetTeamId()
		}
		args.TriggerId = newID()
		args.SiteUrl = b.configString("ServiceSettings", "SiteURL")
		b.commands.triggers[args.GetTriggerId()] = b.now()
		plugin, hasPlugin = b.pluginCommand(args.GetTeamId(), trigger)
		on, set := section(b.config, "ServiceSettings")["EnableCommands"].(bool)
		commandsOn = on || !set
		for _, cmd := range b.customOf(args.GetTeamId()) {
			if cmd.GetTrigger() == trigger {
				custom = cmd
			}
		}
	}
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}

	var resp *pluginpb.CommandResponse
	switch {
	case hasPlugin:
		resp, err = b.hooks.ExecuteCommand(ctx, plugin.pluginID, proto.Clone(args).(*pluginpb.CommandArgs))
		if err == nil && resp == nil {
			resp = &pluginpb.CommandResponse{}
		}
	case !commandsOn:
		err = apperror.New("api.command.disabled.app_error", "Commands have been disabled by the system admin.", "", http.StatusNotImplemented)
	case custom != nil:
		err = apperror.New("app.command.execute_command.url_not_called",
			"The reference backend does not call the URLs of custom commands.", "trigger="+trigger, http.StatusNotImplemented)
	case isBuiltIn(trigger):
		resp, err = b.runBuiltIn(ctx, trigger, strings.TrimSpace(message), args)
	default:
		if len(trigger) > maxTriggerInError {
			trigger = trigger[:maxTriggerInError] + "..."
		}
		err = apperror.New("api.command.execute_command.not_found.app_error",
			"Command with a trigger of '/"+apperror.Truncate(trigger, apperror.MaxShortBytes)+"' not found.", "", http.StatusNotFound)
	}
	if err != nil {
		return nil, err
	}
	if resp.GetTriggerId() == "" {
		resp.TriggerId = args.GetTriggerId()
	}
	if err := b.deliverResponse(ctx, resp, args); err != nil {
		return nil, err
	}
	return &pluginpb.ExecuteSlashCommandResponse{Response: resp}, nil
}

// deliverResponse posts an in-channel answer and its extra answers, or
// shows an ephemeral one to the user alone.
func (b *Backend) deliverResponse(ctx context.Context, resp *pluginpb.CommandResponse, args *pluginpb.CommandArgs) error {
	for _, r := range append([]*pluginpb.CommandResponse{resp}, resp.GetExtraResponses()...) {
		if r.GetText() == "" && len(r.GetAttachments()) == 0 {
			continue
		}
		channelID := cmpOr(r.GetChannelId(), args.GetChannelId())
		post := &pluginpb.Post{ChannelId: channelID, UserId: args.GetUserId(), Message: r.GetText(),
			Type: r.GetType(), RootId: args.GetRootId(), Props: r.GetProps()}
		if r.GetResponseType() != responseInChannel {
			b.record(ctx, "ephemeral_post", &pluginpb.SendEphemeralPostRequest{UserId: args.GetUserId(), Post: post})
			continue
		}
		if _, err := b.CreatePost(ctx, &pluginpb.CreatePostRequest{Post: post}); err != nil {
			return err
		}
	}
	return nil
}

// runBuiltIn runs one of the built-in commands.
func (b *Backend) runBuiltIn(ctx context.Context, trigger, message string, args *pluginpb.CommandArgs) (*pluginpb.CommandResponse, error) {
	switch trigger {
	case "echo":
		if message == "" {
			return &pluginpb.CommandResponse{ResponseType: responseEphemeral, Text: "Use /echo 'message' [delay in seconds]."}, nil
		}
		return &pluginpb.CommandResponse{ResponseType: responseInChannel, Text: strings.Trim(message, `"'`)}, nil
	case "me":
		return &pluginpb.CommandResponse{ResponseType: responseInChannel, Type: "me", Text: "*" + message + "*"}, nil
	case "shrug":
		return &pluginpb.CommandResponse{ResponseType: responseInChannel, Text: strings.TrimSpace(message + ` ¯\\\_(ツ)\_/¯`)}, nil
	case "away", "online", "offline", "dnd":
		if _, err := b.UpdateUserStatus(ctx, &pluginpb.UpdateUserStatusRequest{UserId: args.GetUserId(), Status: trigger}); err != nil {
			return nil, err
		}
		return &pluginpb.CommandResponse{ResponseType: responseEphemeral, Text: "You are now " + trigger + "."}, nil
	case "header", "purpose":
		got, err := b.GetChannel(ctx, &pluginpb.GetChannelRequest{ChannelId: args.GetChannelId()})
		if err != nil {
			return nil, err
		}
		c := got.GetChannel()
		if trigger == "header" {
			c.Header = message
		} else {
			c.Purpose = message
		}
		if _, err := b.UpdateChannel(ctx, &pluginpb.UpdateChannelRequest{Channel: c}); err != nil {
			return nil, err
		}
		return &pluginpb.CommandResponse{}, nil
	}
	return nil, apperror.New("api.command.execute_command.not_found.app_error", "Command not found.", "", http.StatusNotFound)
}
