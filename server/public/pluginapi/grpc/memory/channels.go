package memory

// This file holds the channel handlers of the channels domain;
// channels_members.go holds its membership handlers, channels_store.go its
// state and channels_validate.go the rules of model.Channel.IsValid.

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

func channelNotFound(details string) *apperror.Error {
	return apperror.New("app.channel.get.existing.app_error", "Unable to find the existing channel.", details, http.StatusNotFound)
}

// channel returns the stored channel channelID, or NOT_FOUND. As
// upstream's App.GetChannel (the store's Get), it has no id format check:
// a malformed id is simply not found; the details do not echo it.
func (b *Backend) channel(channelID string) (*pluginpb.Channel, error) {
	c, ok := b.channels.byID[channelID]
	if !ok {
		if !isValidID(channelID) {
			return nil, channelNotFound("")
		}
		return nil, channelNotFound("channel_id=" + channelID)
	}
	return c, nil
}

// saveNewChannel assigns c its id and timestamps, validates it and stores
// it. The caller holds the lock.
func (b *Backend) saveNewChannel(c *pluginpb.Channel) error {
	now := b.nowMillis()
	c.Id = newID()
	c.CreateAt = now
	c.UpdateAt = now
	c.DeleteAt = 0
	if err := validateChannel(c); err != nil {
		return err
	}
	if _, taken := b.channels.byName[membershipKey{c.GetTeamId(), c.GetName()}]; taken {
		return apperror.New("store.sql_channel.save_channel.exists.app_error",
			"A channel with that name already exists on the same team.", "name="+c.GetName(), http.StatusBadRequest)
	}
	b.channels.put(c)
	return nil
}

// createDefaultChannels gives a new team the channels every team has. The
// caller holds the lock.
func (b *Backend) createDefaultChannels(teamID string) error {
	for _, c := range []*pluginpb.Channel{
		{TeamId: teamID, Type: channelOpen, Name: townSquare, DisplayName: "Town Square"},
		{TeamId: teamID, Type: channelOpen, Name: offTopic, DisplayName: "Off-Topic"},
	} {
		if err := b.saveNewChannel(c); err != nil {
			return err
		}
	}
	return nil
}

// CreateChannel creates a channel of a team. It refuses what Mattermost's
// channel store refuses on this path, in its order: an archived channel, a
// direct message (GetDirectChannel makes those) and a channel with an id.
// A group message passes, as it does there.
func (b *Backend) CreateChannel(ctx context.Context, req *pluginpb.CreateChannelRequest) (*pluginpb.CreateChannelResponse, error) {
	if req.GetChannel() == nil {
		return nil, invalidParam("channel")
	}
	c := proto.Clone(req.GetChannel()).(*pluginpb.Channel)
	switch {
	case c.GetDeleteAt() != 0:
		return nil, apperror.New("store.sql_channel.save.archived_channel.app_error",
			"Cannot create an archived channel.", "", http.StatusBadRequest)
	case c.GetType() == channelDirect:
		return nil, apperror.New("store.sql_channel.save.direct_channel.app_error",
			"Use GetDirectChannel for a direct message.", "", http.StatusBadRequest)
	case c.GetId() != "":
		return nil, apperror.New("store.sql_channel.save_channel.existing.app_error",
			"Must call update for an existing channel.", "id="+c.GetId(), http.StatusBadRequest)
	}
	b.mu.Lock()
	t, err := b.team(c.GetTeamId())
	if err == nil && t.GetDeleteAt() != 0 {
		err = apperror.New("api.channel.create_channel.archived_team.app_error",
			"Cannot create a channel in an archived team.", "team_id="+t.GetId(), http.StatusBadRequest)
	}
	if err == nil {
		c.TotalMsgCount, c.TotalMsgCountRoot, c.LastPostAt, c.LastRootPostAt = 0, 0, 0, 0
		err = b.saveNewChannel(c)
	}
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	out := proto.Clone(c).(*pluginpb.Channel)
	b.hooks.ChannelHasBeenCreated(ctx, proto.Clone(c).(*pluginpb.Channel))
	return &pluginpb.CreateChannelResponse{Channel: out}, nil
}

// DeleteChannel archives a channel, of any type but the default one.
// ChannelWillBeArchived runs first and may reject it.
func (b *Backend) DeleteChannel(ctx context.Context, req *pluginpb.DeleteChannelRequest) (*pluginpb.DeleteChannelResponse, error) {
	b.mu.Lock()
	c, err := b.archivable(req.GetChannelId())
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if reason := b.hooks.ChannelWillBeArchived(ctx, proto.Clone(c).(*pluginpb.Channel)); reason != "" {
		return nil, rejectedByPlugin("app.channel.delete_channel.rejected_by_plugin", "A plugin rejected archiving the channel", reason)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	// Check again: the state may have changed while the hook ran.
	if c, err = b.archivable(req.GetChannelId()); err != nil {
		return nil, err
	}
	archived := proto.Clone(c).(*pluginpb.Channel)
	now := b.nowMillis()
	archived.DeleteAt = now
	archived.UpdateAt = now
	b.channels.put(archived)
	return &pluginpb.DeleteChannelResponse{}, nil
}

// archivable returns a channel that may be archived. The caller holds the
// lock.
func (b *Backend) archivable(channelID string) (*pluginpb.Channel, error) {
	c, err := b.channel(channelID)
	if err != nil {
		return nil, err
	}
	switch {
	case c.GetDeleteAt() != 0:
		return nil, apperror.New("api.channel.delete_channel.deleted.app_error",
			"The channel is archived already.", "channel_id="+c.GetId(), http.StatusBadRequest)
	case c.GetName() == townSquare:
		return nil, apperror.New("api.channel.delete_channel.cannot.app_error",
			"Unable to archive the default channel "+townSquare+".", "channel_id="+c.GetId(), http.StatusBadRequest)
	}
	return c, nil
}

// RestoreChannel brings an archived channel back, with its posts and
// members. ChannelWillBeRestored runs first and may reject it.
func (b *Backend) RestoreChannel(ctx context.Context, req *pluginpb.RestoreChannelRequest) (*pluginpb.RestoreChannelResponse, error) {
	b.mu.Lock()
	c, err := b.restorable(req.GetChannelId())
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if reason := b.hooks.ChannelWillBeRestored(ctx, proto.Clone(c).(*pluginpb.Channel)); reason != "" {
		return nil, rejectedByPlugin("app.channel.restore_channel.rejected_by_plugin", "A plugin rejected restoring the channel", reason)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if c, err = b.restorable(req.GetChannelId()); err != nil {
		return nil, err
	}
	restored := proto.Clone(c).(*pluginpb.Channel)
	restored.DeleteAt = 0
	restored.UpdateAt = b.nowMillis()
	b.channels.put(restored)
	return &pluginpb.RestoreChannelResponse{}, nil
}

// restorable returns an archived channel. The caller holds the lock.
func (b *Backend) restorable(channelID string) (*pluginpb.Channel, error) {
	c, err := b.channel(channelID)
	if err != nil {
		return nil, err
	}
	if c.GetDeleteAt() == 0 {
		return nil, apperror.New("api.channel.restore_channel.restored.app_error",
			"The channel is not archived.", "channel_id="+c.GetId(), http.StatusBadRequest)
	}
	return c, nil
}

// GetChannel returns a channel by id.
func (b *Backend) GetChannel(_ context.Context, req *pluginpb.GetChannelRequest) (*pluginpb.GetChannelResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, err := b.channel(req.GetChannelId())
	if err != nil {
		return nil, err
	}
	return &pluginpb.GetChannelResponse{Channel: proto.Clone(c).(*pluginpb.Channel)}, nil
}

// GetChannelOfType returns a channel if it has the given type; a channel
// of another type is reported as not found.
func (b *Backend) GetChannelOfType(_ context.Context, req *pluginpb.GetChannelOfTypeRequest) (*pluginpb.GetChannelOfTypeResponse, error) {
	switch req.GetChannelType() {
	case channelOpen, channelPrivate, channelDirect, channelGroup:
	default:
		return nil, invalidParam("channel_type")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	c, err := b.channel(req.GetChannelId())
	if err != nil {
		return nil, err
	}
	if c.GetType() != req.GetChannelType() {
		return nil, channelNotFound("channel_id=" + c.GetId() + " type=" + req.GetChannelType())
	}
	return &pluginpb.GetChannelOfTypeResponse{Channel: proto.Clone(c).(*pluginpb.Channel)}, nil
}

// GetPublicChannelsForTeam returns one page of a team's live public
// channels.
func (b *Backend) GetPublicChannelsForTeam(_ context.Context, req *pluginpb.GetPublicChannelsForTeamRequest) (*pluginpb.GetPublicChannelsForTeamResponse, error) {
	if err := validatePaging(req.GetPage(), req.GetPerPage()); err != nil {
		return nil, err
	}
	// SqlChannelStore.GetPublicChannelsForTeam has no team lookup: an
	// unknown team has no channels.
	b.mu.Lock()
	defer b.mu.Unlock()
	all := b.channels.sorted(func(c *pluginpb.Channel) bool {
		return c.GetTeamId() == req.GetTeamId() && c.GetType() == channelOpen && c.GetDeleteAt() == 0
	})
	return &pluginpb.GetPublicChannelsForTeamResponse{Channels: page(all, req.GetPage(), req.GetPerPage())}, nil
}

// channelByName finds a channel by team id and name. The caller holds the
// lock.
func (b *Backend) channelByName(teamID, name string, includeDeleted bool) (*pluginpb.Channel, error) {
	id, ok := b.channels.byName[membershipKey{teamID, name}]
	if !ok || !includeDeleted && b.channels.byID[id].GetDeleteAt() != 0 {
		return nil, apperror.New("app.channel.get_by_name.missing.app_error",
			"Unable to find the existing channel.", "name="+name, http.StatusNotFound)
	}
	return proto.Clone(b.channels.byID[id]).(*pluginpb.Channel), nil
}

// GetChannelByName returns a channel by team id and name.
func (b *Backend) GetChannelByName(_ context.Context, req *pluginpb.GetChannelByNameRequest) (*pluginpb.GetChannelByNameResponse, error) {
	// No id format check: upstream's App.GetChannelByName asks the store,
	// for which a malformed team id is a name not found.
	b.mu.Lock()
	defer b.mu.Unlock()
	c, err := b.channelByName(req.GetTeamId(), req.GetName(), req.GetIncludeDeleted())
	if err != nil {
		return nil, err
	}
	return &pluginpb.GetChannelByNameResponse{Channel: c}, nil
}

// GetChannelByNameForTeamName returns a channel by team name and name.
func (b *Backend) GetChannelByNameForTeamName(_ context.Context, req *pluginpb.GetChannelByNameForTeamNameRequest) (*pluginpb.GetChannelByNameForTeamNameResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	teamID, ok := b.teams.byName[req.GetTeamName()]
	if !ok {
		return nil, apperror.New("app.team.get_by_name.missing.app_error",
			"Unable to find the existing team.", "name="+req.GetTeamName(), http.StatusNotFound)
	}
	c, err := b.channelByName(teamID, req.GetChannelName(), req.GetIncludeDeleted())
	if err != nil {
		return nil, err
	}
	return &pluginpb.GetChannelByNameForTeamNameResponse{Channel: c}, nil
}

// GetChannelsForTeamForUser returns the channels of a team, with the
// direct and group messages, that a user is a member of. As in Mattermost,
// a user with no such channel gets NOT_FOUND.
func (b *Backend) GetChannelsForTeamForUser(_ context.Context, req *pluginpb.GetChannelsForTeamForUserRequest) (*pluginpb.GetChannelsForTeamForUserResponse, error) {
	// No id format check: SqlChannelStore.GetChannels finds no channel for
	// a malformed id, which is the not-found answer below.
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.channels.sorted(func(c *pluginpb.Channel) bool {
		if _, member := b.channels.member(c.GetId(), req.GetUserId()); !member {
			return false
		}
		inTeam := req.GetTeamId() == "" || c.GetTeamId() == req.GetTeamId() || c.GetTeamId() == ""
		return inTeam && (req.GetIncludeDeleted() || c.GetDeleteAt() == 0)
	})
	if len(out) == 0 {
		return nil, apperror.New("app.channel.get_channels.not_found.app_error",
			"No channels were found.", "user_id="+req.GetUserId(), http.StatusNotFound)
	}
	return &pluginpb.GetChannelsForTeamForUserResponse{Channels: out}, nil
}

// GetChannelStats answers as PluginAPI.GetChannelStats
// (server/channels/app/plugin_api.go@f56166d6), which calls
// App.GetChannelMemberCount twice: member_count is the channel's members
// whose account is active, and guest_count is that same count; no pinned
// post or file count is set, and the channel is not looked up, so an
// unknown one counts zero. A plugin tested here sees what a server gives.
func (b *Backend) GetChannelStats(_ context.Context, req *pluginpb.GetChannelStatsRequest) (*pluginpb.GetChannelStatsResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	stats := &pluginpb.ChannelStats{ChannelId: req.GetChannelId()}
	for _, m := range b.channels.membersWhere(func(m *pluginpb.ChannelMember) bool { return m.GetChannelId() == req.GetChannelId() }) {
		if s, ok := b.users.byID[m.GetUserId()]; ok && s.user.GetDeleteAt() == 0 {
			stats.MemberCount++
		}
	}
	stats.GuestCount = stats.MemberCount
	return &pluginpb.GetChannelStatsResponse{ChannelStats: stats}, nil
}

// directOrGroup returns the channel named name, or creates it of type
// kind with these members. The caller holds the lock; created reports
// whether the channel is new.
func (b *Backend) directOrGroup(kind, name, displayName string, userIDs []string) (c *pluginpb.Channel, created bool, err error) {
	if id, ok := b.channels.byName[membershipKey{"", name}]; ok {
		return proto.Clone(b.channels.byID[id]).(*pluginpb.Channel), false, nil
	}
	c = &pluginpb.Channel{Type: kind, Name: name, DisplayName: displayName}
	if err := b.saveNewChannel(c); err != nil {
		return nil, false, err
	}
	for _, userID := range userIDs {
		b.channels.members[membershipKey{c.GetId(), userID}] = b.newChannelMember(c, b.users.byID[userID].user)
	}
	return proto.Clone(c).(*pluginpb.Channel), true, nil
}

// newChannelMember is a new membership of u in c, with the defaults of
// Mattermost. The caller holds the lock.
func (b *Backend) newChannelMember(c *pluginpb.Channel, u *pluginpb.User) *pluginpb.ChannelMember {
	guest := isGuest(u)
	return &pluginpb.ChannelMember{
		ChannelId:    c.GetId(),
		UserId:       u.GetId(),
		SchemeGuest:  guest,
		SchemeUser:   !guest,
		NotifyProps:  defaultChannelNotifyProps(),
		LastViewedAt: 0,
		MsgCount:     0,
		LastUpdateAt: b.nowMillis(),
	}
}

// GetDirectChannel returns the direct message channel of two users, and
// creates it, with both as members, if it does not exist.
func (b *Backend) GetDirectChannel(ctx context.Context, req *pluginpb.GetDirectChannelRequest) (*pluginpb.GetDirectChannelResponse, error) {
	b.mu.Lock()
	var (
		c       *pluginpb.Channel
		created bool
	)
	// App.createDirectChannel answers any user it cannot find with
	// invalid_user (400), not the user lookup's 404.
	var err error
	if !b.userExists(req.GetUserId_1()) || !b.userExists(req.GetUserId_2()) {
		err = apperror.New("api.channel.create_direct_channel.invalid_user.app_error",
			"Unable to find the users of the direct message.", "", http.StatusBadRequest)
	}
	if err == nil {
		ids := slices.Compact([]string{req.GetUserId_1(), req.GetUserId_2()})
		c, created, err = b.directOrGroup(channelDirect, directChannelName(req.GetUserId_1(), req.GetUserId_2()), "", ids)
	}
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if created {
		b.hooks.ChannelHasBeenCreated(ctx, proto.Clone(c).(*pluginpb.Channel))
	}
	return &pluginpb.GetDirectChannelResponse{Channel: c}, nil
}

// GetGroupChannel returns the group message channel of 3 to 8 users, and
// creates it, with them as members, if it does not exist.
func (b *Backend) GetGroupChannel(ctx context.Context, req *pluginpb.GetGroupChannelRequest) (*pluginpb.GetGroupChannelResponse, error) {
	// As App.createGroupChannel: the size is that of the list as given,
	// and a list with a user it cannot find, or with a repeat, is
	// bad_user (its profiles are fewer than its ids).
	if n := len(req.GetUserIds()); n < groupMinUsers || n > groupMaxUsers {
		return nil, apperror.New("api.channel.create_group.bad_size.app_error",
			"Group messages must contain 3 to 8 users.", "users="+itoa(n), http.StatusBadRequest)
	}
	ids := slices.Clone(req.GetUserIds())
	slices.Sort(ids)
	ids = slices.Compact(ids)
	b.mu.Lock()
	var names []string
	var err error
	if len(ids) != len(req.GetUserIds()) {
		err = groupBadUser()
	}
	for _, id := range ids {
		if err != nil {
			break
		}
		if !b.userExists(id) {
			err = groupBadUser()
			break
		}
		names = append(names, b.users.byID[id].user.GetUsername())
	}
	var (
		c       *pluginpb.Channel
		created bool
	)
	if err == nil {
		slices.Sort(names)
		c, created, err = b.directOrGroup(channelGroup, groupChannelName(ids), strings.Join(names, ", "), ids)
	}
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if created {
		b.hooks.ChannelHasBeenCreated(ctx, proto.Clone(c).(*pluginpb.Channel))
	}
	return &pluginpb.GetGroupChannelResponse{Channel: c}, nil
}

// groupBadUser is App.createGroupChannel's answer to a list of users that
// it cannot all find, once each.
func groupBadUser() error {
	return apperror.New("api.channel.create_group.bad_user.app_error",
		"Unable to find each user of the group message once.", "", http.StatusBadRequest)
}

// userExists reports whether userID is a stored user, active or not. The
// caller holds the lock.
func (b *Backend) userExists(userID string) bool {
	_, ok := b.users.byID[userID]
	return ok
}

// UpdateChannel updates a channel's names, header, purpose, type, props
// and settings; its team, creator, timestamps and counters are kept.
// ChannelWillBeUpdated runs before the checks and may replace the update,
// whole, or reject it.
func (b *Backend) UpdateChannel(ctx context.Context, req *pluginpb.UpdateChannelRequest) (*pluginpb.UpdateChannelResponse, error) {
	in := req.GetChannel()
	if in == nil {
		return nil, invalidParam("channel")
	}
	b.mu.Lock()
	old, err := b.channel(in.GetId())
	if err == nil {
		old = proto.Clone(old).(*pluginpb.Channel)
	}
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	answer, reason := b.hooks.ChannelWillBeUpdated(ctx, b.channelUpdate(in, old), old)
	if reason != "" {
		return nil, rejectedByPlugin("app.channel.update_channel.rejected_by_plugin", "A plugin rejected the channel update", reason)
	}
	if answer != nil {
		in = answer
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	// Check again: the channel may have changed while the hook ran.
	if old, err = b.channel(req.GetChannel().GetId()); err != nil {
		return nil, err
	}
	// The store's updateChannelT refuses a channel given as archived
	// (ErrInvalidInput, which App.UpdateChannel answers with bad_id).
	if in.GetDeleteAt() != 0 {
		return nil, apperror.New("app.channel.update.bad_id",
			"An archived channel cannot be updated.", "", http.StatusBadRequest)
	}
	c := b.channelUpdate(in, old)
	isDM := func(t string) bool { return t == channelDirect || t == channelGroup }
	if isDM(old.GetType()) != isDM(c.GetType()) || isDM(old.GetType()) && c.GetType() != old.GetType() {
		return nil, apperror.New("api.channel.update_channel.typechange.app_error",
			"A direct or group message cannot change its type, and no channel can become one.", "", http.StatusBadRequest)
	}
	if isDM(old.GetType()) && c.GetName() != old.GetName() {
		return nil, apperror.New("api.channel.update_channel.name.app_error",
			"The name of a direct or group message cannot change.", "", http.StatusBadRequest)
	}
	if err := validateChannel(c); err != nil {
		return nil, err
	}
	if id, taken := b.channels.byName[membershipKey{c.GetTeamId(), c.GetName()}]; taken && id != c.GetId() {
		// App.UpdateChannel answers the store's unique-name error with
		// store.ChannelExistsError.
		return nil, apperror.New("store.sql_channel.save_channel.exists.app_error",
			"A channel with that name already exists on the same team.", "name="+c.GetName(), http.StatusBadRequest)
	}
	b.channels.put(c)
	return &pluginpb.UpdateChannelResponse{Channel: proto.Clone(c).(*pluginpb.Channel)}, nil
}

// channelUpdate returns in as an update of old: the id, team, creator,
// timestamps and counters are old's.
func (b *Backend) channelUpdate(in, old *pluginpb.Channel) *pluginpb.Channel {
	c := proto.Clone(in).(*pluginpb.Channel)
	c.Id = old.GetId()
	c.TeamId = old.GetTeamId()
	c.CreatorId = old.GetCreatorId()
	c.CreateAt = old.GetCreateAt()
	c.DeleteAt = old.GetDeleteAt()
	c.LastPostAt = old.GetLastPostAt()
	c.LastRootPostAt = old.GetLastRootPostAt()
	c.TotalMsgCount = old.GetTotalMsgCount()
	c.TotalMsgCountRoot = old.GetTotalMsgCountRoot()
	c.ExtraUpdateAt = old.GetExtraUpdateAt()
	c.UpdateAt = b.nowMillis()
	return c
}

// guardChannelID checks a channel id as upstream's App.RegisterChannelGuard
// and App.UnregisterChannelGuard do (channel_guards.go): empty, then not
// an id, each with its own error id, both 400. op is "register" or
// "unregister".
func guardChannelID(op, channelID string) error {
	if channelID == "" {
		return apperror.New("app.channel_guard."+op+".empty_channel.app_error",
			"A channel id is required.", "", http.StatusBadRequest)
	}
	if !isValidID(channelID) {
		return apperror.New("app.channel_guard.invalid_channel.app_error",
			"The channel id is not valid.", "", http.StatusBadRequest)
	}
	return nil
}

// RegisterChannelGuard claims a channel for this plugin; claiming it again
// changes nothing. Claims survive archiving. Upstream saves a claim on any
// well-formed id; here the channel must exist, as the state file's
// guarded channels must.
func (b *Backend) RegisterChannelGuard(_ context.Context, req *pluginpb.RegisterChannelGuardRequest) (*pluginpb.RegisterChannelGuardResponse, error) {
	if err := guardChannelID("register", req.GetChannelId()); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	c, err := b.channel(req.GetChannelId())
	if err != nil {
		return nil, err
	}
	b.channels.guarded[c.GetId()] = true
	return &pluginpb.RegisterChannelGuardResponse{}, nil
}

// UnregisterChannelGuard releases this plugin's claim on a channel; a
// channel it does not claim, or that does not exist, is a no-op, as the
// store's Delete of no row is upstream.
func (b *Backend) UnregisterChannelGuard(_ context.Context, req *pluginpb.UnregisterChannelGuardRequest) (*pluginpb.UnregisterChannelGuardResponse, error) {
	if err := guardChannelID("unregister", req.GetChannelId()); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.channels.guarded, req.GetChannelId())
	return &pluginpb.UnregisterChannelGuardResponse{}, nil
}

// SearchChannels returns up to 100 of a team's public channels, archived
// ones included, whose name, display name or purpose contains the term,
// ignoring case; an empty term matches them all. It follows upstream's
// App.SearchChannels (includeDeleted true) and SqlChannelStore.SearchInTeam,
// whose LIKE clause wraps the term in % on both sides: no team id check,
// so an unknown team has no channels.
func (b *Backend) SearchChannels(_ context.Context, req *pluginpb.SearchChannelsRequest) (*pluginpb.SearchChannelsResponse, error) {
	term := strings.ToLower(strings.TrimSpace(req.GetTerm()))
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.channels.sorted(func(c *pluginpb.Channel) bool {
		if c.GetTeamId() != req.GetTeamId() || c.GetType() != channelOpen {
			return false
		}
		for _, field := range []string{c.GetName(), c.GetDisplayName(), c.GetPurpose()} {
			if strings.Contains(strings.ToLower(field), term) {
				return true
			}
		}
		return false
	})
	if len(out) > searchChannelsLimit {
		out = out[:searchChannelsLimit]
	}
	return &pluginpb.SearchChannelsResponse{Channels: out}, nil
}

// searchChannelsLimit is SqlChannelStore.SearchInTeam's LIMIT.
const searchChannelsLimit = 100

// retentionPolicyUnlicensed is the answer of the data-retention methods on
// a server without an Enterprise license, which this backend models.
func retentionPolicyUnlicensed(where string) error {
	e := apperror.New("ent.data_retention.generic.license.error",
		"Your license does not support data retention.", "", http.StatusNotImplemented)
	e.Where = where
	return e
}

// AddChannelsToRetentionPolicy fails as on a server without an Enterprise
// license.
func (b *Backend) AddChannelsToRetentionPolicy(context.Context, *pluginpb.AddChannelsToRetentionPolicyRequest) (*pluginpb.AddChannelsToRetentionPolicyResponse, error) {
	return nil, retentionPolicyUnlicensed("AddChannelsToRetentionPolicy")
}

// RemoveChannelsFromRetentionPolicy fails as on a server without an
// Enterprise license.
func (b *Backend) RemoveChannelsFromRetentionPolicy(context.Context, *pluginpb.RemoveChannelsFromRetentionPolicyRequest) (*pluginpb.RemoveChannelsFromRetentionPolicyResponse, error) {
	return nil, retentionPolicyUnlicensed("RemoveChannelsFromRetentionPolicy")
}
