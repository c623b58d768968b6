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
// lower case, and must start with "/"; a trigger id is made. Then the
// plugin command registered first for the args' team (or every team)
// runs, with neither the team nor the channel looked up
// (plugin_commands.go@030e24f3:App.tryExecutePluginCommand); a plugin
// answering no response and no error falls through to the rest. The rest
// is App.tryExecuteCustomCommand's: ServiceSettings.EnableCommands off
// fails with 501; the args' team, as given (an empty one is not filled
// in), the user and the channel are looked up, in that order; a custom
// command of the team matches, else a built-in one, else the trigger is
// not found. The answer is delivered by deliverResponse, and returned.
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
	args.TriggerId = newID()
	args.SiteUrl = b.configString("ServiceSettings", "SiteURL")
	b.commands.triggers[args.GetTriggerId()] = b.now()
	plugin, hasPlugin := b.pluginCommand(args.GetTeamId(), trigger)
	b.mu.Unlock()

	var resp *pluginpb.CommandResponse
	if hasPlugin {
		resp, err = b.hooks.ExecuteCommand(ctx, plugin.pluginID, proto.Clone(args).(*pluginpb.CommandArgs))
		if err != nil {
			return nil, err
		}
	}
	if resp == nil {
		if resp, err = b.runNonPluginCommand(ctx, trigger, message, args); err != nil {
			return nil, err
		}
	}
	if resp.GetTriggerId() == "" {
		resp.TriggerId = args.GetTriggerId()
	}
	if err := b.deliverResponse(ctx, resp, args, trigger); err != nil {
		return nil, err
	}
	return &pluginpb.ExecuteSlashCommandResponse{Response: resp}, nil
}

// runNonPluginCommand runs what App.ExecuteCommand runs when no plugin
// answered: App.tryExecuteCustomCommand's checks and lookups
// (command.go@86b60aad), then a built-in command, else the trigger is not
// found.
func (b *Backend) runNonPluginCommand(ctx context.Context, trigger, message string, args *pluginpb.CommandArgs) (*pluginpb.CommandResponse, error) {
	b.mu.Lock()
	on, set := section(b.config, "ServiceSettings")["EnableCommands"].(bool)
	if set && !on {
		b.mu.Unlock()
		return nil, apperror.New("api.command.disabled.app_error", "Commands have been disabled by the system admin.", "", http.StatusNotImplemented)
	}
	var custom *pluginpb.Command
	_, err := b.team(args.GetTeamId())
	if err == nil {
		_, err = b.user(args.GetUserId())
	}
	if err == nil {
		_, err = b.channel(args.GetChannelId())
	}
	if err == nil {
		for _, cmd := range b.customOf(args.GetTeamId()) {
			if cmd.GetTrigger() == trigger {
				custom = cmd
			}
		}
	}
	b.mu.Unlock()
	switch {
	case err != nil:
		return nil, err
	case custom != nil:
		return nil, apperror.New("app.command.execute_command.url_not_called",
			"The reference backend does not call the URLs of custom commands.", "trigger="+trigger, http.StatusNotImplemented)
	case isBuiltIn(trigger):
		return b.runBuiltIn(ctx, trigger, strings.TrimSpace(message), args)
	}
	if len(trigger) > maxTriggerInError {
		trigger = trigger[:maxTriggerInError] + "..."
	}
	return nil, apperror.New("api.command.execute_command.not_found.app_error",
		"Command with a trigger of '/"+apperror.Truncate(trigger, apperror.MaxShortBytes)+"' not found.", "", http.StatusNotFound)
}

// deliverResponse delivers an answer and its extra answers, as
// App.HandleCommandResponse and HandleCommandResponsePost do
// (command.go@86b60aad): an answer naming another channel needs the user
// to be a member of it (api.command.command_post.forbidden.app_error); an
// in-channel answer is posted, any other with text or attachments is
// shown to the user alone (the event log's "ephemeral_post") when its
// type is empty or ephemeral; a system post type fails the answer
// (App.CreateCommandPost). Every
// answer is tried; if any failed, the call fails with
// api.command.execute_command.create_post_failed.app_error (500).
func (b *Backend) deliverResponse(ctx context.Context, resp *pluginpb.CommandResponse, args *pluginpb.CommandArgs, trigger string) error {
	failed := false
	for _, r := range append([]*pluginpb.CommandResponse{resp}, resp.GetExtraResponses()...) {
		channelID := args.GetChannelId()
		if r.GetChannelId() != "" {
			b.mu.Lock()
			_, member := b.channels.member(r.GetChannelId(), args.GetUserId())
			b.mu.Unlock()
			if !member {
				failed = true
				continue
			}
			channelID = r.GetChannelId()
		}
		if strings.HasPrefix(r.GetType(), "system_") {
			// App.CreateCommandPost refuses model.PostSystemMessagePrefix
			// (api.context.invalid_param.app_error).
			failed = true
			continue
		}
		post := &pluginpb.Post{ChannelId: channelID, UserId: args.GetUserId(), Message: r.GetText(),
			Type: r.GetType(), RootId: args.GetRootId(), Props: r.GetProps()}
		switch r.GetResponseType() {
		case responseInChannel:
			if _, err := b.CreatePost(ctx, &pluginpb.CreatePostRequest{Post: post}); err != nil {
				failed = true
			}
			continue
		case "", responseEphemeral:
		default:
			continue
		}
		if r.GetText() != "" || len(r.GetAttachments()) > 0 {
			b.record(ctx, "ephemeral_post", &pluginpb.SendEphemeralPostRequest{UserId: args.GetUserId(), Post: post})
		}
	}
	if failed {
		return apperror.New("api.command.execute_command.create_post_failed.app_error",
			"Command '/"+apperror.Truncate(trigger, apperror.MaxShortBytes)+"' failed to post response.", "",
			http.StatusInternalServerError)
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
