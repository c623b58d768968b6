package memory

// This file holds the membership handlers of the channels domain.

import (
	"context"
	"maps"
	"net/http"

	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

func channelMemberNotFound(channelID, userID string) *apperror.Error {
	return apperror.New("app.channel.get_member.missing.app_error",
		"No channel member found for that user id and channel id.",
		"channel_id="+channelID+" user_id="+userID, http.StatusNotFound)
}

// prepareChannelJoin checks that userID may join channelID, as the app
// layer's AddChannelMember, AddUserToChannel and addUserToChannel do, in
// their order: an existing membership is returned at once; then the user
// must exist and be active, the requestor (if any) must exist, the user
// must be a current member of the channel's team and the channel must be
// public or private. An archived channel is no obstacle on this path. It
// returns the existing membership, or a new one to store. The caller
// holds the lock.
func (b *Backend) prepareChannelJoin(channelID, userID, requestorID string) (m *pluginpb.ChannelMember, existed bool, err error) {
	c, err := b.channel(channelID)
	if err != nil {
		return nil, false, err
	}
	if old, ok := b.channels.member(channelID, userID); ok {
		return old, true, nil
	}
	u, err := b.user(userID)
	if err != nil {
		return nil, false, err
	}
	if u.GetDeleteAt() != 0 {
		return nil, false, apperror.New("app.channel.add_member.deleted_user.app_error",
			"The user is deactivated.", "user_id="+userID, http.StatusForbidden)
	}
	if requestorID != "" {
		if _, err := b.user(requestorID); err != nil {
			return nil, false, err
		}
	}
	tm, ok := b.teams.member(c.GetTeamId(), userID)
	switch {
	case !ok:
		return nil, false, teamMemberNotFound("team_id=" + c.GetTeamId() + " user_id=" + userID)
	case tm.GetDeleteAt() != 0:
		return nil, false, apperror.New("api.channel.add_user.to.channel.failed.deleted.app_error",
			"The user is no longer a member of the channel's team.", "channel_id="+channelID+" user_id="+userID,
			http.StatusBadRequest)
	case c.GetType() != channelOpen && c.GetType() != channelPrivate:
		return nil, false, apperror.New("api.channel.add_user_to_channel.type.app_error",
			"Members can only be added to a public or private channel.", "channel_id="+channelID,
			http.StatusBadRequest)
	}
	return b.newChannelMember(c, u), false, nil
}

// addChannelMember adds userID to channelID, or returns the existing
// membership. A new membership goes through ChannelMemberWillBeAdded
// first, which may change its notification settings and roles or reject
// it, and UserHasJoinedChannel runs after it is stored, with the
// requestor as its actor: none for AddChannelMember, as upstream's
// plugin API passes no requestor there.
func (b *Backend) addChannelMember(ctx context.Context, channelID, userID, requestorID string) (*pluginpb.ChannelMember, error) {
	b.mu.Lock()
	m, existed, err := b.prepareChannelJoin(channelID, userID, requestorID)
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if existed {
		return withChannelRoles(m), nil
	}
	answer, reason := b.hooks.ChannelMemberWillBeAdded(ctx, withChannelRoles(m))
	if reason != "" {
		return nil, rejectedByPlugin("app.channel.add_user.to.channel.rejected_by_plugin", "A plugin rejected the channel member", reason)
	}
	var actor *pluginpb.User
	b.mu.Lock()
	// Check again: the state may have changed while the hook ran.
	m, existed, err = b.prepareChannelJoin(channelID, userID, requestorID)
	if err == nil && !existed {
		err = mergeMemberAnswer(m, answer)
	}
	if err == nil && !existed {
		b.channels.members[membershipKey{channelID, userID}] = m
		b.touchChannelMembers(channelID)
		if s, ok := b.users.byID[requestorID]; ok {
			actor = sanitized(s.user)
		}
	}
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if !existed {
		b.hooks.UserHasJoinedChannel(ctx, withChannelRoles(m), actor)
	}
	return withChannelRoles(m), nil
}

// mergeMemberAnswer takes into a new membership what a
// ChannelMemberWillBeAdded answer may change: notification settings,
// which it adds to (as upstream's merged reply, it cannot blank one), and
// the admin flag and explicit roles.
func mergeMemberAnswer(m, answer *pluginpb.ChannelMember) error {
	if answer == nil {
		return nil
	}
	if len(answer.GetNotifyProps()) > 0 {
		if m.NotifyProps == nil {
			m.NotifyProps = map[string]string{}
		}
		maps.Copy(m.NotifyProps, answer.GetNotifyProps())
		if err := validateChannelNotifyProps(m.GetNotifyProps()); err != nil {
			return err
		}
	}
	m.SchemeAdmin = answer.GetSchemeAdmin()
	m.ExplicitRoles = answer.GetExplicitRoles()
	return nil
}

// touchChannelMembers records a change to a channel's members. The caller
// holds the lock.
func (b *Backend) touchChannelMembers(channelID string) {
	if c, ok := b.channels.byID[channelID]; ok {
		c = proto.Clone(c).(*pluginpb.Channel)
		c.ExtraUpdateAt = b.nowMillis()
		b.channels.put(c)
	}
}

// AddChannelMember adds a user to a channel, as if the user joined it.
// UserHasJoinedChannel then gets no actor.
func (b *Backend) AddChannelMember(ctx context.Context, req *pluginpb.AddChannelMemberRequest) (*pluginpb.AddChannelMemberResponse, error) {
	m, err := b.addChannelMember(ctx, req.GetChannelId(), req.GetUserId(), "")
	if err != nil {
		return nil, err
	}
	return &pluginpb.AddChannelMemberResponse{ChannelMember: m}, nil
}

// AddUserToChannel adds a user to a channel on behalf of another user,
// who is UserHasJoinedChannel's actor.
func (b *Backend) AddUserToChannel(ctx context.Context, req *pluginpb.AddUserToChannelRequest) (*pluginpb.AddUserToChannelResponse, error) {
	m, err := b.addChannelMember(ctx, req.GetChannelId(), req.GetUserId(), req.GetAsUserId())
	if err != nil {
		return nil, err
	}
	return &pluginpb.AddUserToChannelResponse{ChannelMember: m}, nil
}

// GetChannelMember returns one membership.
// As upstream's App.GetChannelMember (the store's GetMember), a malformed
// id is a membership not found.
func (b *Backend) GetChannelMember(_ context.Context, req *pluginpb.GetChannelMemberRequest) (*pluginpb.GetChannelMemberResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	m, ok := b.channels.member(req.GetChannelId(), req.GetUserId())
	if !ok {
		if !isValidID(req.GetChannelId()) || !isValidID(req.GetUserId()) {
			return nil, channelMemberNotFound("", "")
		}
		return nil, channelMemberNotFound(req.GetChannelId(), req.GetUserId())
	}
	return &pluginpb.GetChannelMemberResponse{ChannelMember: withChannelRoles(m)}, nil
}

// GetChannelMembers returns one page of a channel's members, by user id.
func (b *Backend) GetChannelMembers(_ context.Context, req *pluginpb.GetChannelMembersRequest) (*pluginpb.GetChannelMembersResponse, error) {
	if err := validatePaging(req.GetPage(), req.GetPerPage()); err != nil {
		return nil, err
	}
	// As SqlChannelStore.GetMembers: no channel lookup (an unknown channel
	// has no members), and a per_page of 0 sets no limit.
	b.mu.Lock()
	defer b.mu.Unlock()
	all := b.channels.membersWhere(func(m *pluginpb.ChannelMember) bool { return m.GetChannelId() == req.GetChannelId() })
	if req.GetPerPage() == 0 {
		return &pluginpb.GetChannelMembersResponse{ChannelMembers: all}, nil
	}
	return &pluginpb.GetChannelMembersResponse{ChannelMembers: page(all, req.GetPage(), req.GetPerPage())}, nil
}

// GetChannelMembersByIds returns the memberships of the given users who
// are members of a channel.
func (b *Backend) GetChannelMembersByIds(_ context.Context, req *pluginpb.GetChannelMembersByIdsRequest) (*pluginpb.GetChannelMembersByIdsResponse, error) {
	// As SqlChannelStore.GetMembersByIds: no channel lookup and no id
	// check; ids that are not members are left out.
	b.mu.Lock()
	defer b.mu.Unlock()
	wanted := make(map[string]bool, len(req.GetUserIds()))
	for _, id := range req.GetUserIds() {
		wanted[id] = true
	}
	out := b.channels.membersWhere(func(m *pluginpb.ChannelMember) bool {
		return m.GetChannelId() == req.GetChannelId() && wanted[m.GetUserId()]
	})
	return &pluginpb.GetChannelMembersByIdsResponse{ChannelMembers: out}, nil
}

// GetChannelMembersForUser returns one page of all a user's memberships,
// of every team's channels and of direct and group messages, by channel
// id; the team id is ignored, as upstream's plugin API ignores it.
func (b *Backend) GetChannelMembersForUser(_ context.Context, req *pluginpb.GetChannelMembersForUserRequest) (*pluginpb.GetChannelMembersForUserResponse, error) {
	if err := validatePaging(req.GetPage(), req.GetPerPage()); err != nil {
		return nil, err
	}
	// Upstream's plugin API ignores the team id ("never used in the SQL
	// query"): SqlChannelStore.GetMembersForUserWithPagination lists all
	// the user's memberships by channel id.
	b.mu.Lock()
	defer b.mu.Unlock()
	all := b.channels.membersWhere(func(m *pluginpb.ChannelMember) bool { return m.GetUserId() == req.GetUserId() })
	return &pluginpb.GetChannelMembersForUserResponse{ChannelMembers: page(all, req.GetPage(), req.GetPerPage())}, nil
}

// UpdateChannelMemberRoles replaces the roles of a membership. The scheme
// roles channel_user, channel_admin and channel_guest set the scheme
// flags; any other role is kept as an explicit role.
func (b *Backend) UpdateChannelMemberRoles(_ context.Context, req *pluginpb.UpdateChannelMemberRolesRequest) (*pluginpb.UpdateChannelMemberRolesResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	// As App.updateChannelMemberRolesInternal: the membership first (its
	// channel and user then exist), the guest flag compared with the
	// membership's own, and a member must keep a base role.
	old, ok := b.channels.member(req.GetChannelId(), req.GetUserId())
	if !ok {
		return nil, channelMemberNotFound(apperror.Truncate(req.GetChannelId(), apperror.MaxShortBytes),
			apperror.Truncate(req.GetUserId(), apperror.MaxShortBytes))
	}
	r, err := channelSchemeRoles.parse(req.GetNewRoles(), old.GetSchemeGuest())
	if err != nil {
		return nil, err
	}
	if !r.guest && !r.user {
		return nil, apperror.New("api.channel.update_channel_member_roles.unset_user_scheme.app_error",
			"A channel member needs the channel_user or channel_guest role.", "", http.StatusBadRequest)
	}
	m := proto.Clone(old).(*pluginpb.ChannelMember)
	m.SchemeGuest, m.SchemeUser, m.SchemeAdmin, m.ExplicitRoles = r.guest, r.user, r.admin, r.explicit
	m.LastUpdateAt = b.nowMillis()
	b.channels.members[membershipKey{req.GetChannelId(), req.GetUserId()}] = m
	return &pluginpb.UpdateChannelMemberRolesResponse{ChannelMember: withChannelRoles(m)}, nil
}

// patchNotifyProps sets props on one membership. As the store's
// PatchMultipleMembersNotifyProps, it checks the patch, not the merged
// props (channel_store.go@003a6338). The caller holds the lock.
func (b *Backend) patchNotifyProps(channelID, userID string, props map[string]string) (*pluginpb.ChannelMember, error) {
	if err := validateChannelNotifyProps(props); err != nil {
		return nil, err
	}
	old, ok := b.channels.member(channelID, userID)
	if !ok {
		return nil, channelMemberNotFound(apperror.Truncate(channelID, apperror.MaxShortBytes),
			apperror.Truncate(userID, apperror.MaxShortBytes))
	}
	m := proto.Clone(old).(*pluginpb.ChannelMember)
	if m.NotifyProps == nil {
		m.NotifyProps = map[string]string{}
	}
	maps.Copy(m.NotifyProps, props)
	m.LastUpdateAt = b.nowMillis()
	return m, nil
}

// memberNotifyPropKeys are the notify props that upstream's
// App.UpdateChannelMemberNotifyProps passes on; it drops any other key.
var memberNotifyPropKeys = []string{
	"mark_unread", "desktop", "desktop_sound", "desktop_notification_sound", "desktop_threads",
	"email", "push", "push_threads", "ignore_channel_mentions", "channel_auto_follow_threads",
}

// UpdateChannelMemberNotifications sets notify props of a membership and
// keeps the others. As App.UpdateChannelMemberNotifyProps and the store's
// UpdateMemberNotifyProps: only the known keys are kept, their values are
// not checked, the patch's size is, and there is no channel lookup (a
// missing membership is the answer).
func (b *Backend) UpdateChannelMemberNotifications(_ context.Context, req *pluginpb.UpdateChannelMemberNotificationsRequest) (*pluginpb.UpdateChannelMemberNotificationsResponse, error) {
	patch := map[string]string{}
	size := 0
	for _, k := range memberNotifyPropKeys {
		if v, ok := req.GetNotifications()[k]; ok {
			patch[k] = v
			size += len(k) + len(v)
		}
	}
	if size > notifyPropsMaxBytes {
		return nil, apperror.New("app.channel.update_member.notify_props_limit_exceeded.app_error",
			"The notify props are too large.", "", http.StatusBadRequest)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	old, ok := b.channels.member(req.GetChannelId(), req.GetUserId())
	if !ok {
		return nil, channelMemberNotFound(apperror.Truncate(req.GetChannelId(), apperror.MaxShortBytes),
			apperror.Truncate(req.GetUserId(), apperror.MaxShortBytes))
	}
	m := proto.Clone(old).(*pluginpb.ChannelMember)
	if m.NotifyProps == nil {
		m.NotifyProps = map[string]string{}
	}
	maps.Copy(m.NotifyProps, patch)
	m.LastUpdateAt = b.nowMillis()
	b.channels.members[membershipKey{req.GetChannelId(), req.GetUserId()}] = m
	return &pluginpb.UpdateChannelMemberNotificationsResponse{ChannelMember: withChannelRoles(m)}, nil
}

// PatchChannelMembersNotifications sets notify props on up to 200
// memberships, all or none.
func (b *Backend) PatchChannelMembersNotifications(_ context.Context, req *pluginpb.PatchChannelMembersNotificationsRequest) (*pluginpb.PatchChannelMembersNotificationsResponse, error) {
	if len(req.GetMembers()) > patchNotifyPropsMax {
		return nil, apperror.New("app.channel.patch_channel_members_notify_props.too_many",
			"Too many members: at most 200 at once.", "members="+itoa(len(req.GetMembers())), http.StatusBadRequest)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	patched := make([]*pluginpb.ChannelMember, 0, len(req.GetMembers()))
	for _, id := range req.GetMembers() {
		m, err := b.patchNotifyProps(id.GetChannelId(), id.GetUserId(), req.GetNotifyProps())
		if err != nil {
			return nil, err
		}
		patched = append(patched, m)
	}
	for _, m := range patched {
		b.channels.members[membershipKey{m.GetChannelId(), m.GetUserId()}] = m
	}
	return &pluginpb.PatchChannelMembersNotificationsResponse{}, nil
}

// DeleteChannelMember removes a user from a channel. Nobody leaves a
// team's town-square, nor a direct or group message.
func (b *Backend) DeleteChannelMember(ctx context.Context, req *pluginpb.DeleteChannelMemberRequest) (*pluginpb.DeleteChannelMemberResponse, error) {
	b.mu.Lock()
	c, err := b.channel(req.GetChannelId())
	var m *pluginpb.ChannelMember
	if err == nil {
		_, err = b.user(req.GetUserId())
	}
	if err == nil {
		var ok bool
		if m, ok = b.channels.member(c.GetId(), req.GetUserId()); !ok {
			err = channelMemberNotFound(c.GetId(), req.GetUserId())
		}
	}
	if err == nil {
		switch {
		case c.GetName() == townSquare && c.GetTeamId() != "":
			err = apperror.New("api.channel.remove.default.app_error",
				"Unable to remove a user from the default channel "+townSquare+".", "channel_id="+c.GetId(),
				http.StatusBadRequest)
		case c.GetType() == channelDirect || c.GetType() == channelGroup:
			err = apperror.New("api.channel.remove_user_from_channel.direct.app_error",
				"Users cannot be removed from a direct or group message.", "channel_id="+c.GetId(), http.StatusBadRequest)
		}
	}
	var actor *pluginpb.User
	if err == nil {
		b.channels.removeMember(c.GetId(), req.GetUserId(), b.nowMillis())
		b.touchChannelMembers(c.GetId())
		// The plugin API's DeleteChannelMember is App.LeaveChannel, which
		// removes the user as their own remover: they are the actor.
		actor = sanitized(b.users.byID[req.GetUserId()].user)
	}
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	b.hooks.UserHasLeftChannel(ctx, withChannelRoles(m), actor)
	return &pluginpb.DeleteChannelMemberResponse{}, nil
}
