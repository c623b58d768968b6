package memory

// This file holds the handlers and the state of the commands domain:
// built-in commands, the plugin's registered commands, custom commands and
// their execution.

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// Limits of model.Command.IsValid.
const (
	commandTriggerMaxRunes     = 128
	commandDisplayNameMaxRunes = 64
	commandDescriptionMaxRunes = 128
	commandUsernameMaxRunes    = 64
	commandIconURLMaxRunes     = 1024
)

// commandStore holds custom commands by id, the plugin's registered
// commands by team and trigger, and the trigger ids of recent executions.
type commandStore struct {
	custom   map[string]*pluginpb.Command
	plugin   map[membershipKey]*pluginpb.Command
	triggers map[string]time.Time
}

func newCommandStore() commandStore {
	return commandStore{
		custom:   make(map[string]*pluginpb.Command),
		plugin:   make(map[membershipKey]*pluginpb.Command),
		triggers: make(map[string]time.Time),
	}
}

// builtInCommands are the built-in commands that the backend runs.
func builtInCommands() []*pluginpb.Command {
	c := func(trigger, hint, desc string) *pluginpb.Command {
		return &pluginpb.Command{Trigger: trigger, AutoComplete: true, AutoCompleteHint: hint,
			AutoCompleteDesc: desc, DisplayName: trigger, Description: desc}
	}
	return []*pluginpb.Command{
		c("away", "", "Set your status away"),
		c("dnd", "", "Do not disturb disables desktop and mobile push notifications."),
		c("echo", "'message' [delay in seconds]", "Echo back text from your account"),
		c("header", "[text]", "Edit the channel header"),
		c("me", "[message]", "Do an action"),
		c("offline", "", "Set your status offline"),
		c("online", "", "Set your status online"),
		c("purpose", "[text]", "Edit the channel purpose"),
		c("shrug", "[message]", `Adds ¯\_(ツ)_/¯ to your message`),
	}
}

func isBuiltIn(trigger string) bool {
	return slices.ContainsFunc(builtInCommands(), func(c *pluginpb.Command) bool { return c.GetTrigger() == trigger })
}

// validTrigger reports whether a trigger is 1 to 128 characters without
// a leading "/" or spaces.
func validTrigger(trigger string) bool {
	n := utf8.RuneCountInString(trigger)
	return n > 0 && n <= commandTriggerMaxRunes && !strings.HasPrefix(trigger, "/") && !strings.ContainsAny(trigger, " \t\n")
}

func invalidCommand(field, message string) *apperror.Error {
	e := apperror.New("model.command.is_valid."+field+".app_error", message, "", http.StatusBadRequest)
	e.Where = "Command.IsValid"
	return e
}

// validateCommand checks a custom command against model.Command.IsValid.
func validateCommand(c *pluginpb.Command) error {
	switch {
	case !isValidID(c.GetTeamId()):
		return invalidCommand("team_id", "Invalid team id.")
	case !validTrigger(c.GetTrigger()):
		return invalidCommand("trigger", `Invalid trigger: 1 to 128 characters, without a leading "/" or spaces.`)
	case c.GetUrl() == "" && c.GetPluginId() == "" || c.GetUrl() != "" && !isValidHTTPURL(c.GetUrl()):
		return invalidCommand("url", "Invalid URL: an absolute http or https URL.")
	case c.GetMethod() != "P" && c.GetMethod() != "G":
		return invalidCommand("method", `Invalid method: "P" or "G".`)
	case utf8.RuneCountInString(c.GetDisplayName()) > commandDisplayNameMaxRunes:
		return invalidCommand("display_name", "Invalid display name: at most 64 characters.")
	case utf8.RuneCountInString(c.GetDescription()) > commandDescriptionMaxRunes:
		return invalidCommand("description", "Invalid description: at most 128 characters.")
	case utf8.RuneCountInString(c.GetUsername()) > commandUsernameMaxRunes:
		return invalidCommand("username", "Invalid username: at most 64 characters.")
	case utf8.RuneCountInString(c.GetIconUrl()) > commandIconURLMaxRunes:
		return invalidCommand("icon_url", "Invalid icon URL: at most 1,024 characters.")
	}
	return nil
}

// checkTriggerFree rejects a trigger that a built-in or another live custom
// command of the team has. The caller holds the lock.
func (b *Backend) checkTriggerFree(teamID, trigger, exceptID string) error {
	taken := isBuiltIn(trigger)
	for _, c := range b.commands.custom {
		if c.GetTeamId() == teamID && c.GetTrigger() == trigger && c.GetDeleteAt() == 0 && c.GetId() != exceptID {
			taken = true
		}
	}
	if taken {
		return apperror.New("api.command.duplicate_trigger.app_error",
			"This trigger word is already in use.", "trigger="+apperror.Truncate(trigger, apperror.MaxShortBytes), http.StatusBadRequest)
	}
	return nil
}

// RegisterCommand registers a slash command of the plugin, for one team or
// for every team; registering a trigger again replaces it.
func (b *Backend) RegisterCommand(ctx context.Context, req *pluginpb.RegisterCommandRequest) (*pluginpb.RegisterCommandResponse, error) {
	in := req.GetCommand()
	if in == nil {
		return nil, invalidParam("command")
	}
	c := proto.Clone(in).(*pluginpb.Command)
	c.Trigger = strings.ToLower(c.GetTrigger())
	if !validTrigger(c.GetTrigger()) {
		return nil, invalidCommand("trigger", `Invalid trigger: 1 to 128 characters, without a leading "/" or spaces.`)
	}
	if c.GetTeamId() != "" && !isValidID(c.GetTeamId()) {
		return nil, invalidParam("command.team_id")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	c.PluginId = b.caller(ctx)
	b.commands.plugin[membershipKey{c.GetTeamId(), c.GetTrigger()}] = c
	return &pluginpb.RegisterCommandResponse{}, nil
}

// UnregisterCommand removes a registered command of the calling plugin;
// one that is not registered, or is another plugin's, is left as it is.
func (b *Backend) UnregisterCommand(ctx context.Context, req *pluginpb.UnregisterCommandRequest) (*pluginpb.UnregisterCommandResponse, error) {
	if !validTrigger(req.GetTrigger()) {
		return nil, invalidParam("trigger")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	key := membershipKey{req.GetTeamId(), strings.ToLower(req.GetTrigger())}
	if c, ok := b.commands.plugin[key]; ok && c.GetPluginId() == b.caller(ctx) {
		delete(b.commands.plugin, key)
	}
	return &pluginpb.UnregisterCommandResponse{}, nil
}

// pluginCommand finds the plugin's command for a team: one registered for
// the team, else one for every team. The caller holds the lock.
func (b *Backend) pluginCommand(teamID, trigger string) (*pluginpb.Command, bool) {
	if c, ok := b.commands.plugin[membershipKey{teamID, trigger}]; ok {
		return c, true
	}
	c, ok := b.commands.plugin[membershipKey{"", trigger}]
	return c, ok
}

// CreateCommand creates a custom command owned by the plugin.
func (b *Backend) CreateCommand(ctx context.Context, req *pluginpb.CreateCommandRequest) (*pluginpb.CreateCommandResponse, error) {
	if req.GetCmd() == nil {
		return nil, invalidParam("cmd")
	}
	c := proto.Clone(req.GetCmd()).(*pluginpb.Command)
	if c.GetId() != "" {
		return nil, apperror.New("api.command.create_command.existing.app_error", "Cannot create an existing command.", "", http.StatusBadRequest)
	}
	c.Trigger = strings.ToLower(c.GetTrigger())
	b.mu.Lock()
	defer b.mu.Unlock()
	c.CreatorId, c.PluginId = "", b.caller(ctx)
	if err := validateCommand(c); err != nil {
		return nil, err
	}
	if _, err := b.team(c.GetTeamId()); err != nil {
		return nil, err
	}
	if err := b.checkTriggerFree(c.GetTeamId(), c.GetTrigger(), ""); err != nil {
		return nil, err
	}
	now := b.nowMillis()
	c.Id, c.Token, c.CreateAt, c.UpdateAt, c.DeleteAt = newID(), newID(), now, now, 0
	b.commands.custom[c.GetId()] = c
	return &pluginpb.CreateCommandResponse{Command: proto.Clone(c).(*pluginpb.Command)}, nil
}

// sortedCommands returns copies of commands, by trigger.
func sortedCommands(cmds []*pluginpb.Command) []*pluginpb.Command {
	out := make([]*pluginpb.Command, len(cmds))
	for i, c := range cmds {
		out[i] = proto.Clone(c).(*pluginpb.Command)
	}
	slices.SortFunc(out, func(x, y *pluginpb.Command) int {
		return cmp.Or(cmp.Compare(x.GetTrigger(), y.GetTrigger()), cmp.Compare(x.GetTeamId(), y.GetTeamId()))
	})
	return out
}

// customOf and pluginOf list a team's custom and plugin commands. The
// caller holds the lock.
func (b *Backend) customOf(teamID string) []*pluginpb.Command {
	var out []*pluginpb.Command
	for _, c := range b.commands.custom {
		if c.GetTeamId() == teamID && c.GetDeleteAt() == 0 {
			out = append(out, c)
		}
	}
	return out
}

func (b *Backend) pluginOf(teamID string) []*pluginpb.Command {
	var out []*pluginpb.Command
	for k, c := range b.commands.plugin {
		if k.container == teamID || k.container == "" {
			out = append(out, c)
		}
	}
	return out
}

// ListCommands returns the built-in, plugin and custom commands of a team.
func (b *Backend) ListCommands(_ context.Context, req *pluginpb.ListCommandsRequest) (*pluginpb.ListCommandsResponse, error) {
	if !isValidID(req.GetTeamId()) {
		return nil, invalidParam("team_id")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	all := append(append(builtInCommands(), b.pluginOf(req.GetTeamId())...), b.customOf(req.GetTeamId())...)
	return &pluginpb.ListCommandsResponse{Commands: sortedCommands(all)}, nil
}

// ListCustomCommands returns the live custom commands of a team.
func (b *Backend) ListCustomCommands(_ context.Context, req *pluginpb.ListCustomCommandsRequest) (*pluginpb.ListCustomCommandsResponse, error) {
	if !isValidID(req.GetTeamId()) {
		return nil, invalidParam("team_id")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return &pluginpb.ListCustomCommandsResponse{Commands: sortedCommands(b.customOf(req.GetTeamId()))}, nil
}

// ListPluginCommands returns the plugin commands of a team, those for
// every team included.
func (b *Backend) ListPluginCommands(_ context.Context, req *pluginpb.ListPluginCommandsRequest) (*pluginpb.ListPluginCommandsResponse, error) {
	if !isValidID(req.GetTeamId()) {
		return nil, invalidParam("team_id")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return &pluginpb.ListPluginCommandsResponse{Commands: sortedCommands(b.pluginOf(req.GetTeamId()))}, nil
}

// ListBuiltInCommands returns the built-in commands.
func (b *Backend) ListBuiltInCommands(context.Context, *pluginpb.ListBuiltInCommandsRequest) (*pluginpb.ListBuiltInCommandsResponse, error) {
	return &pluginpb.ListBuiltInCommandsResponse{Commands: sortedCommands(builtInCommands())}, nil
}

// liveCommand returns a live custom command. The caller holds the lock.
func (b *Backend) liveCommand(id string) (*pluginpb.Command, error) {
	if !isValidID(id) {
		return nil, invalidParam("command_id")
	}
	c, ok := b.commands.custom[id]
	if !ok || c.GetDeleteAt() != 0 {
		return nil, apperror.New("app.command.getcommand.app_error", "Unable to find the command.", "command_id="+id, http.StatusNotFound)
	}
	return c, nil
}

// GetCommand returns a live custom command.
func (b *Backend) GetCommand(_ context.Context, req *pluginpb.GetCommandRequest) (*pluginpb.GetCommandResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, err := b.liveCommand(req.GetCommandId())
	if err != nil {
		return nil, err
	}
	return &pluginpb.GetCommandResponse{Command: proto.Clone(c).(*pluginpb.Command)}, nil
}

// UpdateCommand updates a custom command; its id, token, creator, plugin,
// team and creation time are kept.
func (b *Backend) UpdateCommand(_ context.Context, req *pluginpb.UpdateCommandRequest) (*pluginpb.UpdateCommandResponse, error) {
	if req.GetUpdatedCmd() == nil {
		return nil, invalidParam("updated_cmd")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	old, err := b.liveCommand(req.GetCommandId())
	if err != nil {
		return nil, err
	}
	c := proto.Clone(req.GetUpdatedCmd()).(*pluginpb.Command)
	c.Trigger = strings.ToLower(c.GetTrigger())
	c.Id, c.Token, c.CreateAt, c.DeleteAt = old.GetId(), old.GetToken(), old.GetCreateAt(), old.GetDeleteAt()
	c.CreatorId, c.PluginId, c.TeamId = old.GetCreatorId(), old.GetPluginId(), old.GetTeamId()
	c.UpdateAt = b.nowMillis()
	if err := validateCommand(c); err != nil {
		return nil, err
	}
	if err := b.checkTriggerFree(c.GetTeamId(), c.GetTrigger(), c.GetId()); err != nil {
		return nil, err
	}
	b.commands.custom[c.GetId()] = c
	return &pluginpb.UpdateCommandResponse{Command: proto.Clone(c).(*pluginpb.Command)}, nil
}

// DeleteCommand deletes a custom command; the row stays with delete_at
// set.
func (b *Backend) DeleteCommand(_ context.Context, req *pluginpb.DeleteCommandRequest) (*pluginpb.DeleteCommandResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, err := b.liveCommand(req.GetCommandId())
	if err != nil {
		return nil, err
	}
	c = proto.Clone(c).(*pluginpb.Command)
	now := b.nowMillis()
	c.DeleteAt, c.UpdateAt = now, now
	b.commands.custom[c.GetId()] = c
	return &pluginpb.DeleteCommandResponse{}, nil
}
