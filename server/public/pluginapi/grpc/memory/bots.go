package memory

// This file holds the handlers of the bots domain. A bot is a user with
// is_bot set, plus the bot record that bots_store.go keeps by user id.

import (
	"context"
	"crypto/sha256"
	"maps"
	"net/http"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/store"
)

// Limits of model.Bot.IsValid, and the KV key under which Mattermost keeps
// the id of a plugin's bot (EnsureBot).
const (
	botDisplayNameMaxRunes = 64
	botDescriptionMaxRunes = 1024
	botOwnerIDMaxRunes     = 190
	pluginBotKVKey         = "mmi_botid"
)

// DefaultPluginID is the id of the plugin that a Backend serves, unless
// [PluginID] sets another. Bots that the plugin creates are owned by it.
const DefaultPluginID = "com.example.plugin"

func botNotFound(botUserID string) *apperror.Error {
	return apperror.New("store.sql_bot.get.missing.app_error", "Unable to find the bot.",
		"user_id="+botUserID, http.StatusNotFound)
}

func invalidBot(field, message string) *apperror.Error {
	e := apperror.New("model.bot.is_valid."+field+".app_error", message, "", http.StatusBadRequest)
	e.Where = "Bot.IsValid"
	return e
}

// validateBotFields checks the fields of model.Bot.IsValid that a caller
// sets.
func validateBotFields(bot *pluginpb.Bot) error {
	switch {
	case len(bot.GetUsername()) == 0 || len(bot.GetUsername()) > usernameMaxLen ||
		!validUsername.MatchString(bot.GetUsername()) || isRestrictedUsername(bot.GetUsername()):
		return invalidBot("username", "Invalid username, as for users.")
	case utf8.RuneCountInString(bot.GetDisplayName()) > botDisplayNameMaxRunes:
		return invalidBot("user_id", "Invalid display name: at most 64 characters.")
	case utf8.RuneCountInString(bot.GetDescription()) > botDescriptionMaxRunes:
		return invalidBot("description", "Invalid description: at most 1,024 characters.")
	case bot.GetOwnerId() == "" || utf8.RuneCountInString(bot.GetOwnerId()) > botOwnerIDMaxRunes:
		return invalidBot("creator_id", "Invalid owner id: 1 to 190 characters.")
	}
	return nil
}

// botUser is the user of a bot, as model.UserFromBot makes it.
func botUser(bot *pluginpb.Bot) *pluginpb.User {
	return &pluginpb.User{
		Username: bot.GetUsername(), Email: bot.GetUsername() + "@localhost", FirstName: bot.GetDisplayName(),
		IsBot: true, BotDescription: bot.GetDescription(), Roles: defaultUserRoles, Locale: defaultLocale,
		NotifyProps: defaultNotifyProps(),
	}
}

// createBot stores a new bot and its user. The caller holds the lock.
func (b *Backend) createBot(owner string, in *pluginpb.Bot) (*pluginpb.Bot, error) {
	bot := proto.Clone(in).(*pluginpb.Bot)
	bot.Username = strings.ToLower(strings.TrimSpace(bot.GetUsername()))
	if bot.GetOwnerId() == "" {
		bot.OwnerId = owner
	}
	// Bots cannot own bots: upstream's plugin API refuses a bot owner
	// before the app layer validates the bot.
	if s, ok := b.users.byID[bot.GetOwnerId()]; ok && s.user.GetIsBot() {
		return nil, apperror.New("plugin_api.bot_cant_create_bot", "A bot cannot create a bot.",
			"owner_id="+bot.GetOwnerId(), http.StatusBadRequest)
	}
	if err := validateBotFields(bot); err != nil {
		return nil, err
	}
	u := botUser(bot)
	now := b.nowMillis()
	u.Id, u.CreateAt, u.UpdateAt = newID(), now, now
	if err := validateUser(u); err != nil {
		return nil, err
	}
	if err := b.users.checkUnique(u); err != nil {
		return nil, err
	}
	b.users.put(&storedUser{user: u, passwordHash: sha256.Sum256(nil)})
	bot.UserId, bot.CreateAt, bot.UpdateAt, bot.DeleteAt = u.GetId(), now, now, 0
	b.bots.put(bot)
	return bot, nil
}

// CreateBot creates a bot and its user; the calling plugin owns a bot
// created without an owner.
func (b *Backend) CreateBot(ctx context.Context, req *pluginpb.CreateBotRequest) (*pluginpb.CreateBotResponse, error) {
	if req.GetBot() == nil {
		return nil, invalidParam("bot")
	}
	if req.GetBot().GetUserId() != "" {
		return nil, apperror.New("app.bot.createbot.existing.app_error", "Cannot create an existing bot.", "", http.StatusBadRequest)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	bot, err := b.createBot(b.caller(ctx), req.GetBot())
	if err != nil {
		return nil, err
	}
	return &pluginpb.CreateBotResponse{Bot: bot}, nil
}

// liveBot returns a copy of a bot; a deactivated one only with
// includeDeleted. Any
// id that names no bot, malformed ones included, is
// store.sql_bot.get.missing.app_error (404), as SqlBotStore.Get answers
// through App.GetBot: there is no id check on the plugin path. The caller
// holds the lock.
func (b *Backend) liveBot(botUserID string, includeDeleted bool) (*pluginpb.Bot, error) {
	bot, ok := b.bots.get(botUserID)
	if !ok || bot.GetDeleteAt() != 0 && !includeDeleted {
		return nil, botNotFound(botUserID)
	}
	return bot, nil
}

// wouldPatch reports whether patch changes bot, as model.Bot.WouldPatch.
func wouldPatch(bot *pluginpb.Bot, patch *pluginpb.BotPatch) bool {
	return patch.Username != nil && patch.GetUsername() != bot.GetUsername() ||
		patch.DisplayName != nil && patch.GetDisplayName() != bot.GetDisplayName() ||
		patch.Description != nil && patch.GetDescription() != bot.GetDescription()
}

// patchBot applies a patch to a bot and its user. The caller holds the
// lock.
func (b *Backend) patchBot(old *pluginpb.Bot, patch *pluginpb.BotPatch) (*pluginpb.Bot, error) {
	// App.PatchBot returns the bot unchanged, update_at included, when
	// the patch changes nothing.
	if !wouldPatch(old, patch) {
		return proto.Clone(old).(*pluginpb.Bot), nil
	}
	bot := proto.Clone(old).(*pluginpb.Bot)
	if patch.Username != nil {
		bot.Username = strings.ToLower(strings.TrimSpace(patch.GetUsername()))
	}
	if patch.DisplayName != nil {
		bot.DisplayName = patch.GetDisplayName()
	}
	if patch.Description != nil {
		bot.Description = patch.GetDescription()
	}
	// App.PatchBot updates the user first, as model.UserFromBot makes it
	// (username, username@localhost, first name): the user store's
	// User.IsValid and its unique keys answer before the bot store's
	// Bot.IsValid (server/channels/app/bot.go@0bc448c3:App.PatchBot).
	u := proto.Clone(b.users.byID[bot.GetUserId()].user).(*pluginpb.User)
	u.Username, u.Email, u.FirstName = bot.GetUsername(), bot.GetUsername()+"@localhost", bot.GetDisplayName()
	u.BotDescription = bot.GetDescription()
	normalizeUser(u)
	if err := validateUser(u); err != nil {
		return nil, err
	}
	if err := b.users.checkUnique(u); err != nil {
		return nil, err
	}
	if err := validateBotFields(bot); err != nil {
		return nil, err
	}
	b.updateUser(u)
	bot.UpdateAt = b.nowMillis()
	b.bots.put(bot)
	return bot, nil
}

// PatchBot changes the username, display name or description of a bot.
func (b *Backend) PatchBot(_ context.Context, req *pluginpb.PatchBotRequest) (*pluginpb.PatchBotResponse, error) {
	if req.GetBotPatch() == nil {
		return nil, invalidParam("bot_patch")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	old, err := b.liveBot(req.GetBotUserId(), true)
	if err != nil {
		return nil, err
	}
	bot, err := b.patchBot(old, req.GetBotPatch())
	if err != nil {
		return nil, err
	}
	return &pluginpb.PatchBotResponse{Bot: bot}, nil
}

// GetBot returns a bot by its user id.
func (b *Backend) GetBot(_ context.Context, req *pluginpb.GetBotRequest) (*pluginpb.GetBotResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	bot, err := b.liveBot(req.GetBotUserId(), req.GetIncludeDeleted())
	if err != nil {
		return nil, err
	}
	return &pluginpb.GetBotResponse{Bot: bot}, nil
}

// GetBots returns one page of the bots that the options select, oldest
// first and then by username, as SqlBotStore.GetAll orders them.
func (b *Backend) GetBots(_ context.Context, req *pluginpb.GetBotsRequest) (*pluginpb.GetBotsResponse, error) {
	o := req.GetOptions()
	if err := validatePaging(o.GetPage(), o.GetPerPage()); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.bots.sorted(func(bot *pluginpb.Bot) bool {
		if bot.GetDeleteAt() != 0 && !o.GetIncludeDeleted() || o.GetOwnerId() != "" && bot.GetOwnerId() != o.GetOwnerId() {
			return false
		}
		if o.GetOnlyOrphaned() {
			owner, ok := b.users.byID[bot.GetOwnerId()]
			return ok && owner.user.GetDeleteAt() != 0
		}
		return true
	})
	return &pluginpb.GetBotsResponse{Bots: page(out, o.GetPage(), o.GetPerPage())}, nil
}

// liveBotsOwnedBy returns the live bots of an owner, oldest first and
// then by username, as App.disableUserBots pages through them with
// SqlBotStore.GetAll. The caller holds the lock.
func (b *Backend) liveBotsOwnedBy(ownerID string) []*pluginpb.Bot {
	return b.bots.sorted(func(bot *pluginpb.Bot) bool { return bot.GetOwnerId() == ownerID && bot.GetDeleteAt() == 0 })
}

// updateBotActive deactivates or reactivates a bot as App.UpdateBotActive
// does (server/channels/app/bot.go@0bc448c3): the user store first (an id
// that names no user is app.user.missing_account.const, 404), then
// App.UpdateActive on that user, whoever it is (see [Backend.updateActive]),
// and only then the bot store, whose miss is
// store.sql_bot.get.missing.app_error (404): a person's account is
// deactivated or reactivated before that answer. The bot record (and its
// update_at) changes only when its state does. It returns the bot and the
// users deactivated, for UserHasBeenDeactivated, also with the bot's
// error. The caller holds the lock.
func (b *Backend) updateBotActive(userID string, active bool) (*pluginpb.Bot, []*pluginpb.User, error) {
	s, ok := b.users.byID[userID]
	if !ok {
		return nil, nil, userNotFound("user_id=" + userID)
	}
	deactivated := b.updateActive(s.user, active)
	bot, err := b.liveBot(userID, true)
	if err != nil {
		return nil, deactivated, err
	}
	now := b.nowMillis()
	switch {
	case active && bot.GetDeleteAt() != 0:
		bot.DeleteAt = 0
	case !active && bot.GetDeleteAt() == 0:
		bot.DeleteAt = now
	default:
		return bot, deactivated, nil
	}
	bot.UpdateAt = now
	b.bots.put(bot)
	return bot, deactivated, nil
}

// UpdateBotActive deactivates or reactivates a bot and its user, as
// [Backend.updateBotActive] describes; UserHasBeenDeactivated then runs for
// every user deactivated, a person answered with the bot's 404 included.
func (b *Backend) UpdateBotActive(ctx context.Context, req *pluginpb.UpdateBotActiveRequest) (*pluginpb.UpdateBotActiveResponse, error) {
	b.mu.Lock()
	bot, deactivated, err := b.updateBotActive(req.GetBotUserId(), req.GetActive())
	b.mu.Unlock()
	b.userHooksDeactivated(ctx, deactivated)
	if err != nil {
		return nil, err
	}
	return &pluginpb.UpdateBotActiveResponse{Bot: bot}, nil
}

// PermanentDeleteBot deletes a bot and its user for good. As
// App.PermanentDeleteBot, whose store deletes by id, an id that names no
// bot is no error; a person's account is left alone (upstream deletes the
// users row of any id).
func (b *Backend) PermanentDeleteBot(_ context.Context, req *pluginpb.PermanentDeleteBotRequest) (*pluginpb.PermanentDeleteBotResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	bot, ok := b.bots.get(req.GetBotUserId())
	if !ok {
		return &pluginpb.PermanentDeleteBotResponse{}, nil
	}
	b.bots.remove(bot.GetUserId())
	u := b.users.byID[bot.GetUserId()].user
	delete(b.users.byUsername, u.GetUsername())
	delete(b.users.byEmail, u.GetEmail())
	delete(b.users.byID, u.GetId())
	b.forgetMemberships(u.GetId())
	return &pluginpb.PermanentDeleteBotResponse{}, nil
}

// forgetMemberships removes a deleted user's team, channel and group
// memberships. Upstream's store leaves those rows behind, but every query
// that lists members joins Users, so none of them shows; the backend keeps
// no membership without its user. The caller holds the lock.
func (b *Backend) forgetMemberships(userID string) {
	maps.DeleteFunc(b.teams.members, func(k membershipKey, _ *pluginpb.TeamMember) bool { return k.user == userID })
	maps.DeleteFunc(b.channels.members, func(k membershipKey, _ *pluginpb.ChannelMember) bool { return k.user == userID })
	maps.DeleteFunc(b.channels.left, func(k membershipKey, _ int64) bool { return k.user == userID })
	maps.DeleteFunc(b.groups.members, func(k membershipKey, _ *pluginpb.GroupMember) bool { return k.user == userID })
}

// EnsureBotUser returns the user id of the plugin's bot, as App.EnsureBot
// does through PluginAPI.EnsureBotUser, which makes the plugin the owner
// whatever the caller gave. A bot with no username is refused. The bot
// recorded under the plugin's "mmi_botid" KV key, if it still exists
// (deactivated or not), is patched with the given username, display name
// and description and returned as it is, not reactivated. Else an account
// with that username is returned untouched: a bot is recorded under the
// key, a person is not (upstream logs an error and still returns the
// person's id). Else a new bot is created and recorded.
func (b *Backend) EnsureBotUser(ctx context.Context, req *pluginpb.EnsureBotUserRequest) (*pluginpb.EnsureBotUserResponse, error) {
	in := req.GetBot()
	if in == nil {
		return nil, invalidParam("bot")
	}
	// App.EnsureBot answers a plain "passed a bot with no username" error,
	// with no error id.
	if in.GetUsername() == "" {
		return nil, invalidParam("bot.username")
	}
	owner := b.caller(ctx)
	// The KV store is called without the lock: it may be a database.
	recorded, err := b.kv.Get(ctx, owner, pluginBotKVKey)
	if err != nil {
		return nil, err
	}
	id, outcome, err := b.ensureBot(owner, string(recorded), in)
	if err != nil {
		return nil, err
	}
	if outcome != botKept {
		if _, err := b.kv.Set(ctx, owner, pluginBotKVKey, []byte(id), store.SetOptions{}); err != nil {
			// Upstream's EnsureBot fails when it cannot record a bot it
			// created, and only warns when it cannot record one it claimed.
			if outcome == botCreated {
				return nil, err
			}
			b.logger.Warn("failed to record the claimed bot user id", "plugin_id", owner, "bot_user_id", id, "error", err)
		}
	}
	return &pluginpb.EnsureBotUserResponse{BotUserId: id}, nil
}

// ensureBotOutcome says what ensureBot did with the bot, and so whether
// its id is to be recorded in the owner's KV store.
type ensureBotOutcome int

const (
	botKept    ensureBotOutcome = iota // the recorded bot, or a person's account: nothing to record
	botClaimed                         // an existing bot with the username: recorded
	botCreated                         // a new bot: recorded
)

// ensureBot is EnsureBotUser's work under the lock: recorded is the bot id
// that the owner's KV store holds, or empty. It returns the bot user's id,
// and what it did.
func (b *Backend) ensureBot(owner, recorded string, in *pluginpb.Bot) (string, ensureBotOutcome, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if recorded != "" {
		if bot, known := b.bots.get(recorded); known {
			patch := &pluginpb.BotPatch{
				Username:    proto.String(in.GetUsername()),
				DisplayName: proto.String(in.GetDisplayName()),
				Description: proto.String(in.GetDescription()),
			}
			if _, err := b.patchBot(bot, patch); err != nil {
				return "", botKept, err
			}
			return bot.GetUserId(), botKept, nil
		}
	}
	// App.GetUserByUsername: the store matches Username = lower(?).
	if id, taken := b.users.byUsername[strings.ToLower(in.GetUsername())]; taken {
		if b.bots.isBot(id) {
			return id, botClaimed, nil
		}
		return id, botKept, nil
	}
	bot, err := b.createBot(owner, &pluginpb.Bot{Username: in.GetUsername(), DisplayName: in.GetDisplayName(), Description: in.GetDescription()})
	if err != nil {
		return "", botKept, err
	}
	return bot.GetUserId(), botCreated, nil
}
