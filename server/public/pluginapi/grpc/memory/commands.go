package memory

// This file holds the handlers and the state of the commands domain:
// built-in commands, the plugin's registered commands, custom commands and
// their execution.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/ids"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// Limits of model.Command.IsValid, in bytes as upstream counts them.
const (
	commandTriggerMaxBytes     = 128
	commandURLMaxBytes         = 1024
	commandDisplayNameMaxBytes = 64
	commandDescriptionMaxBytes = 128
)

// Roles that model.AutocompleteData.IsValid accepts.
const (
	roleSystemAdmin = "system_admin"
	roleSystemUser  = "system_user"
)

// Argument types of model.AutocompleteArg.
const (
	argTextInput   = "TextInput"
	argStaticList  = "StaticList"
	argDynamicList = "DynamicList"
)

// pluginRegistration is one command that a plugin registered, as
// upstream's PluginCommand: the plugin that registered it beside it.
type pluginRegistration struct {
	pluginID string
	cmd      *pluginpb.Command
}

// commandStore holds custom commands by id, the plugins' registered
// commands in the order they were registered, and the trigger ids of
// recent executions.
type commandStore struct {
	custom   map[string]*pluginpb.Command
	plugin   []pluginRegistration
	triggers map[string]time.Time
}

func newCommandStore() commandStore {
	return commandStore{
		custom:   make(map[string]*pluginpb.Command),
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

func invalidCommand(field string) *apperror.Error {
	e := apperror.New("model.command.is_valid."+field+".app_error", "Invalid command: "+strings.ReplaceAll(field, "_", " ")+".", "", http.StatusBadRequest)
	e.Where = "Command.IsValid"
	return e
}

// validateCommand checks a custom command as model.Command.IsValid does
// (server/public/model/command.go@1140b87e:Command.IsValid), in its order;
// lengths are in bytes, and only a space (not a tab) breaks a trigger.
func validateCommand(c *pluginpb.Command) error {
	t := c.GetTrigger()
	switch {
	case !isValidID(c.GetId()):
		return invalidCommand("id")
	case len(c.GetToken()) != ids.Len:
		return invalidCommand("token")
	case c.GetCreateAt() == 0:
		return invalidCommand("create_at")
	case c.GetUpdateAt() == 0:
		return invalidCommand("update_at")
	case c.GetCreatorId() == "" && !validPluginID.MatchString(c.GetPluginId()):
		return invalidCommand("plugin_id")
	case c.GetPluginId() == "" && !isValidID(c.GetCreatorId()):
		return invalidCommand("user_id")
	case c.GetCreatorId() != "" && c.GetPluginId() != "":
		e := invalidCommand("plugin_id")
		e.DetailedError = "command cannot have both a CreatorId and a PluginId"
		return e
	case !isValidID(c.GetTeamId()):
		return invalidCommand("team_id")
	case len(t) < 1 || len(t) > commandTriggerMaxBytes || strings.HasPrefix(t, "/") || strings.Contains(t, " "):
		return invalidCommand("trigger")
	case c.GetUrl() == "" || len(c.GetUrl()) > commandURLMaxBytes:
		return invalidCommand("url")
	case !isValidHTTPURL(c.GetUrl()):
		return invalidCommand("url_http")
	case c.GetMethod() != "P" && c.GetMethod() != "G":
		return invalidCommand("method")
	case len(c.GetDisplayName()) > commandDisplayNameMaxBytes:
		return invalidCommand("display_name")
	case len(c.GetDescription()) > commandDescriptionMaxBytes:
		return invalidCommand("description")
	}
	if ad := c.GetAutocompleteData(); ad != nil {
		if err := validateAutocomplete(ad); err != nil {
			e := invalidCommand("autocomplete_data")
			e.DetailedError = err.Error()
			return e
		}
	}
	return nil
}

// validateAutocomplete checks an autocomplete tree as
// model.AutocompleteData.IsValid does
// (server/public/model/command_autocomplete.go@4226a453:AutocompleteData.IsValid);
// its errors are plain ones, as upstream's.
func validateAutocomplete(ad *pluginpb.AutocompleteData) error {
	switch {
	case ad.GetTrigger() == "":
		return errors.New("An empty command name in the autocomplete data")
	case strings.ToLower(ad.GetTrigger()) != ad.GetTrigger():
		return errors.New("Command should be lowercase")
	case ad.GetRoleId() != "" && ad.GetRoleId() != roleSystemAdmin && ad.GetRoleId() != roleSystemUser:
		return errors.New("Wrong role in the autocomplete data")
	case len(ad.GetArguments()) > 0 && len(ad.GetSubCommands()) > 0:
		return errors.New("Command can't have arguments and subcommands")
	}
	named := false
	for _, arg := range ad.GetArguments() {
		if arg.GetName() != "" {
			named = true
		} else if named {
			return errors.New("Named argument should not be before positional argument")
		}
		switch arg.GetType() {
		case argDynamicList:
			if _, err := url.Parse(arg.GetFetchUrl()); err != nil {
				return fmt.Errorf("FetchURL is not a proper url: %w", err)
			}
		case argStaticList:
			for _, item := range arg.GetPossibleArguments() {
				if item.GetItem() == "" {
					return errors.New("Possible argument name not set in StaticList argument")
				}
			}
		case argTextInput:
			if arg.GetName() == "" && !arg.GetRequired() {
				return errors.New("Positional argument can not be optional")
			}
		}
	}
	for _, sub := range ad.GetSubCommands() {
		if err := validateAutocomplete(sub); err != nil {
			return err
		}
	}
	return nil
}

// pluginRelativeURLs makes the relative fetch URLs of dynamic-list
// arguments absolute paths under /plugins/<plugin id>, as
// AutocompleteData.UpdateRelativeURLsForPluginCommands does.
func pluginRelativeURLs(ad *pluginpb.AutocompleteData, pluginID string) error {
	for _, arg := range ad.GetArguments() {
		if arg.GetType() != argDynamicList {
			continue
		}
		u, err := url.Parse(arg.GetFetchUrl())
		if err != nil {
			return fmt.Errorf("FetchURL is not a proper url: %w", err)
		}
		if !u.IsAbs() {
			arg.FetchUrl = path.Join("/plugins/"+pluginID, arg.GetFetchUrl())
		}
	}
	for _, sub := range ad.GetSubCommands() {
		if err := pluginRelativeURLs(sub, pluginID); err != nil {
			return err
		}
	}
	return nil
}

// RegisterCommand registers a slash command of the calling plugin, for
// one team or for every team, as App.RegisterPluginCommand does
// (server/channels/app/plugin_commands.go@03138b54:App.RegisterPluginCommand):
// only an empty trigger is refused; an autocomplete tree is checked, or
// made from the hint and description. Upstream's refusals are plain
// errors; here they are invalid_param (400) with upstream's text as
// details, as every failure of the backend carries an AppError; the trigger is kept in lower case with the autocomplete
// fields and the display name, nothing else. The plugin's own command
// with the same team and trigger is replaced; another plugin's stays, and
// the one registered first runs.
func (b *Backend) RegisterCommand(ctx context.Context, req *pluginpb.RegisterCommandRequest) (*pluginpb.RegisterCommandResponse, error) {
	in := req.GetCommand()
	if in == nil {
		return nil, invalidParam("command")
	}
	if in.GetTrigger() == "" {
		return nil, apperror.InvalidParam("command.trigger", "invalid command")
	}
	pluginID := b.caller(ctx)
	ad := in.GetAutocompleteData()
	if ad != nil {
		if err := validateAutocomplete(ad); err != nil {
			return nil, apperror.InvalidParam("command.autocomplete_data", "invalid autocomplete data in command: "+err.Error())
		}
		ad = proto.Clone(ad).(*pluginpb.AutocompleteData)
		if err := pluginRelativeURLs(ad, pluginID); err != nil {
			return nil, apperror.InvalidParam("command.autocomplete_data", "Can't update relative urls for plugin commands: "+err.Error())
		}
	} else {
		ad = &pluginpb.AutocompleteData{Trigger: in.GetTrigger(), Hint: in.GetAutoCompleteHint(),
			HelpText: in.GetAutoCompleteDesc(), RoleId: roleSystemUser}
	}
	c := &pluginpb.Command{
		Trigger: strings.ToLower(in.GetTrigger()), TeamId: in.GetTeamId(),
		AutoComplete: in.GetAutoComplete(), AutoCompleteDesc: in.GetAutoCompleteDesc(),
		AutoCompleteHint: in.GetAutoCompleteHint(), DisplayName: in.GetDisplayName(),
		AutocompleteData: ad, AutocompleteIconData: in.GetAutocompleteIconData(),
		PluginId: pluginID,
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, r := range b.commands.plugin {
		if r.pluginID == pluginID && r.cmd.GetTrigger() == c.GetTrigger() && r.cmd.GetTeamId() == c.GetTeamId() {
			b.commands.plugin[i].cmd = c
			return &pluginpb.RegisterCommandResponse{}, nil
		}
	}
	b.commands.plugin = append(b.commands.plugin, pluginRegistration{pluginID, c})
	return &pluginpb.RegisterCommandResponse{}, nil
}

// UnregisterCommand removes every registered command with this team and
// trigger (in any case), whichever plugin registered it; it never fails,
// as App.UnregisterPluginCommand
// (server/channels/app/plugin_commands.go@03138b54:App.UnregisterPluginCommand),
// which takes the plugin id but does not filter on it.
func (b *Backend) UnregisterCommand(_ context.Context, req *pluginpb.UnregisterCommandRequest) (*pluginpb.UnregisterCommandResponse, error) {
	trigger := strings.ToLower(req.GetTrigger())
	b.mu.Lock()
	defer b.mu.Unlock()
	b.commands.plugin = slices.DeleteFunc(b.commands.plugin, func(r pluginRegistration) bool {
		return r.cmd.GetTeamId() == req.GetTeamId() && r.cmd.GetTrigger() == trigger
	})
	return &pluginpb.UnregisterCommandResponse{}, nil
}

// unregisterPluginCommands removes every command that the plugin id
// registered, as Channels.unregisterPluginCommands does when the plugin
// is disabled or removed. The caller holds the lock.
func (b *Backend) unregisterPluginCommands(id string) {
	b.commands.plugin = slices.DeleteFunc(b.commands.plugin, func(r pluginRegistration) bool { return r.pluginID == id })
}

// pluginCommand finds the registered command that runs for a team: the
// first registered, for the team or for every team. The caller holds the
// lock.
func (b *Backend) pluginCommand(teamID, trigger string) (pluginRegistration, bool) {
	for _, r := range b.commands.plugin {
		if (r.cmd.GetTeamId() == "" || r.cmd.GetTeamId() == teamID) && r.cmd.GetTrigger() == trigger {
			return r, true
		}
	}
	return pluginRegistration{}, false
}

// CreateCommand creates a custom command owned by the calling plugin, as
// PluginAPI.CreateCommand and App.createCommand do: the trigger in lower
// case must not be a live custom command's of the team nor a built-in's
// (api.command.duplicate_trigger.app_error), then the store's Save: a
// given id is refused (its plain ErrInvalidInput, which createCommand
// answers with app.command.createcommand.internal_error, 500), PreSave
// (a new id, a token unless one is given, the times) and IsValid. The
// team is not looked up.
func (b *Backend) CreateCommand(ctx context.Context, req *pluginpb.CreateCommandRequest) (*pluginpb.CreateCommandResponse, error) {
	if req.GetCmd() == nil {
		return nil, invalidParam("cmd")
	}
	c := proto.Clone(req.GetCmd()).(*pluginpb.Command)
	c.CreatorId, c.PluginId = "", b.caller(ctx)
	c.Trigger = strings.ToLower(c.GetTrigger())
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, other := range b.customOf(c.GetTeamId()) {
		if other.GetTrigger() == c.GetTrigger() {
			return nil, duplicateTrigger()
		}
	}
	if isBuiltIn(c.GetTrigger()) {
		return nil, duplicateTrigger()
	}
	if c.GetId() != "" {
		return nil, apperror.New("app.command.createcommand.internal_error", "Unable to save the command.",
			"invalid input: entity: Command field: CommandId value: "+apperror.Truncate(c.GetId(), apperror.MaxShortBytes),
			http.StatusInternalServerError)
	}
	now := b.nowMillis()
	c.Id, c.CreateAt, c.UpdateAt = newID(), now, now
	if c.GetToken() == "" {
		c.Token = newID()
	}
	if err := validateCommand(c); err != nil {
		return nil, err
	}
	b.commands.custom[c.GetId()] = c
	return &pluginpb.CreateCommandResponse{Command: proto.Clone(c).(*pluginpb.Command)}, nil
}

func duplicateTrigger() *apperror.Error {
	return apperror.New("api.command.duplicate_trigger.app_error", "This trigger word is already in use.", "", http.StatusBadRequest)
}

// sortedCommands returns copies of commands, by trigger.
func sortedCommands(cmds []*pluginpb.Command) []*pluginpb.Command {
	out := clones(cmds)
	slices.SortFunc(out, func(x, y *pluginpb.Command) int {
		return cmp.Or(cmp.Compare(x.GetTrigger(), y.GetTrigger()), cmp.Compare(x.GetTeamId(), y.GetTeamId()))
	})
	return out
}

// clones returns copies of commands, in their order.
func clones(cmds []*pluginpb.Command) []*pluginpb.Command {
	out := make([]*pluginpb.Command, len(cmds))
	for i, c := range cmds {
		out[i] = proto.Clone(c).(*pluginpb.Command)
	}
	return out
}

// customOf lists a team's live custom commands, as the store's GetByTeam:
// any team id, an unknown or malformed one having none. The caller holds
// the lock.
func (b *Backend) customOf(teamID string) []*pluginpb.Command {
	var out []*pluginpb.Command
	for _, c := range b.commands.custom {
		if c.GetTeamId() == teamID && c.GetDeleteAt() == 0 {
			out = append(out, c)
		}
	}
	return out
}

// pluginOf lists the registered commands of a team, those of every team
// included, in registration order, the first of each trigger only, as
// PluginAPI.ListPluginCommands does. The caller holds the lock.
func (b *Backend) pluginOf(teamID string) []*pluginpb.Command {
	var out []*pluginpb.Command
	seen := map[string]bool{}
	for _, r := range b.commands.plugin {
		if (r.cmd.GetTeamId() == "" || r.cmd.GetTeamId() == teamID) && !seen[r.cmd.GetTrigger()] {
			seen[r.cmd.GetTrigger()] = true
			out = append(out, r.cmd)
		}
	}
	return out
}

// ListCommands returns a team's plugin commands, then the built-in ones,
// then its custom ones, as PluginAPI.ListCommands concatenates them; no
// team id is refused.
func (b *Backend) ListCommands(_ context.Context, req *pluginpb.ListCommandsRequest) (*pluginpb.ListCommandsResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	all := append(clones(b.pluginOf(req.GetTeamId())), sortedCommands(builtInCommands())...)
	all = append(all, sortedCommands(b.customOf(req.GetTeamId()))...)
	return &pluginpb.ListCommandsResponse{Commands: all}, nil
}

// ListCustomCommands returns the live custom commands of a team, by
// trigger; an unknown or malformed team has none, as the store's
// GetByTeam answers.
func (b *Backend) ListCustomCommands(_ context.Context, req *pluginpb.ListCustomCommandsRequest) (*pluginpb.ListCustomCommandsResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return &pluginpb.ListCustomCommandsResponse{Commands: sortedCommands(b.customOf(req.GetTeamId()))}, nil
}

// ListPluginCommands returns the registered commands of a team, those of
// every team included, in registration order (see pluginOf).
func (b *Backend) ListPluginCommands(_ context.Context, req *pluginpb.ListPluginCommandsRequest) (*pluginpb.ListPluginCommandsResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return &pluginpb.ListPluginCommandsResponse{Commands: clones(b.pluginOf(req.GetTeamId()))}, nil
}

// ListBuiltInCommands returns the built-in commands.
func (b *Backend) ListBuiltInCommands(context.Context, *pluginpb.ListBuiltInCommandsRequest) (*pluginpb.ListBuiltInCommandsResponse, error) {
	return &pluginpb.ListBuiltInCommandsResponse{Commands: sortedCommands(builtInCommands())}, nil
}

// liveCommand returns a live custom command as the store's Get does. A
// missing one is, upstream, the store's ErrNotFound, a plain error that
// the Plugin API passes on with no AppError; here it is the AppError that
// App.GetCommand makes of it, store.sql_command.get.missing.app_error
// (404), as every failure of the backend carries an AppError. The caller
// holds the lock.
func (b *Backend) liveCommand(id string) (*pluginpb.Command, error) {
	c, ok := b.commands.custom[id]
	if !ok || c.GetDeleteAt() != 0 {
		return nil, apperror.New("store.sql_command.get.missing.app_error", "Unable to find the command.",
			"resource: Command id: "+apperror.Truncate(id, apperror.MaxShortBytes), http.StatusNotFound)
	}
	return c, nil
}

// GetCommand returns a live custom command, as PluginAPI.GetCommand
// reads the store.
func (b *Backend) GetCommand(_ context.Context, req *pluginpb.GetCommandRequest) (*pluginpb.GetCommandResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, err := b.liveCommand(req.GetCommandId())
	if err != nil {
		return nil, err
	}
	return &pluginpb.GetCommandResponse{Command: proto.Clone(c).(*pluginpb.Command)}, nil
}

// UpdateCommand updates a live custom command as PluginAPI.UpdateCommand
// does: the trigger in lower case; id, token, creation and deletion
// times kept; the calling plugin becomes its plugin; an empty team id
// keeps the team; the creator is the one given. The store's Update then
// checks IsValid; triggers are not checked for duplicates.
func (b *Backend) UpdateCommand(ctx context.Context, req *pluginpb.UpdateCommandRequest) (*pluginpb.UpdateCommandResponse, error) {
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
	c.UpdateAt = b.nowMillis()
	c.PluginId = b.caller(ctx)
	if c.GetTeamId() == "" {
		c.TeamId = old.GetTeamId()
	}
	if err := validateCommand(c); err != nil {
		return nil, err
	}
	b.commands.custom[c.GetId()] = c
	return &pluginpb.UpdateCommandResponse{Command: proto.Clone(c).(*pluginpb.Command)}, nil
}

// DeleteCommand marks a custom command deleted, as the store's Delete
// does: any command with that id, deleted already or not, gets delete_at
// and update_at set; an unknown id changes nothing; it never fails.
func (b *Backend) DeleteCommand(_ context.Context, req *pluginpb.DeleteCommandRequest) (*pluginpb.DeleteCommandResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if c, ok := b.commands.custom[req.GetCommandId()]; ok {
		c = proto.Clone(c).(*pluginpb.Command)
		now := b.nowMillis()
		c.DeleteAt, c.UpdateAt = now, now
		b.commands.custom[c.GetId()] = c
	}
	return &pluginpb.DeleteCommandResponse{}, nil
}
