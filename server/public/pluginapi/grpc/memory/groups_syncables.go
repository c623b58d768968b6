package memory

// This file holds the links ("syncables") of groups to teams and channels,
// and the memberships that those links imply.

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

func syncableNotFound(k syncableKey) *apperror.Error {
	return apperror.New("app.group.no_rows", "No matching group link found.",
		"group_id="+k.group+" syncable_id="+k.syncable+" type="+k.kind, http.StatusNotFound)
}

// checkSyncableKey validates the ids and type of a link, and that its
// group exists. The caller holds the lock.
func (b *Backend) checkSyncableKey(k syncableKey) error {
	if k.kind != syncableTeam && k.kind != syncableChannel {
		return invalidParam("syncable_type")
	}
	if !isValidID(k.syncable) {
		return invalidParam("syncable_id")
	}
	_, err := b.group(k.group)
	return err
}

// existingSyncable returns a link, deleted or not, after checking its key.
// The caller holds the lock.
func (b *Backend) existingSyncable(k syncableKey) (*pluginpb.GroupSyncable, error) {
	if err := b.checkSyncableKey(k); err != nil {
		return nil, err
	}
	s, ok := b.groups.syncables[k]
	if !ok {
		return nil, syncableNotFound(k)
	}
	return s, nil
}

// liveSyncable reports whether a group has a live link of the kind to the
// team or channel. The caller holds the lock.
func (b *Backend) liveSyncable(groupID, syncableID, kind string) bool {
	s, ok := b.groups.syncables[syncableKey{groupID, syncableID, kind}]
	return ok && s.GetDeleteAt() == 0
}

// syncableOut returns a copy of a link with the display fields of its team
// and channel filled in. The caller holds the lock.
func (b *Backend) syncableOut(s *pluginpb.GroupSyncable) *pluginpb.GroupSyncable {
	out := proto.Clone(s).(*pluginpb.GroupSyncable)
	teamID := s.GetSyncableId()
	if s.GetType() == syncableChannel {
		if c, ok := b.channels.byID[s.GetSyncableId()]; ok {
			out.ChannelDisplayName, out.ChannelType, teamID = c.GetDisplayName(), c.GetType(), c.GetTeamId()
		}
	}
	if t, ok := b.teams.byID[teamID]; ok {
		out.TeamId, out.TeamDisplayName, out.TeamType = t.GetId(), t.GetDisplayName(), t.GetType()
	}
	return out
}

// GetGroupSyncable returns a group's link to a team or channel, deleted or
// not.
func (b *Backend) GetGroupSyncable(_ context.Context, req *pluginpb.GetGroupSyncableRequest) (*pluginpb.GetGroupSyncableResponse, error) {
	k := syncableKey{req.GetGroupId(), req.GetSyncableId(), req.GetSyncableType()}
	b.mu.Lock()
	defer b.mu.Unlock()
	s, err := b.existingSyncable(k)
	if err != nil {
		return nil, err
	}
	return &pluginpb.GetGroupSyncableResponse{GroupSyncable: b.syncableOut(s)}, nil
}

// GetGroupSyncables returns a group's live links of one type.
func (b *Backend) GetGroupSyncables(_ context.Context, req *pluginpb.GetGroupSyncablesRequest) (*pluginpb.GetGroupSyncablesResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.checkSyncableKey(syncableKey{req.GetGroupId(), newID(), req.GetSyncableType()}); err != nil {
		return nil, err
	}
	return &pluginpb.GetGroupSyncablesResponse{GroupSyncables: b.syncablesWhere(func(s *pluginpb.GroupSyncable) bool {
		return s.GetGroupId() == req.GetGroupId() && s.GetType() == req.GetSyncableType() && s.GetDeleteAt() == 0
	})}, nil
}

// syncablesWhere returns the links that keep selects, oldest first. The
// caller holds the lock.
func (b *Backend) syncablesWhere(keep func(*pluginpb.GroupSyncable) bool) []*pluginpb.GroupSyncable {
	out := []*pluginpb.GroupSyncable{}
	for _, s := range b.groups.syncables {
		if keep(s) {
			out = append(out, b.syncableOut(s))
		}
	}
	slices.SortFunc(out, func(x, y *pluginpb.GroupSyncable) int {
		return cmp.Or(cmp.Compare(x.GetCreateAt(), y.GetCreateAt()), cmp.Compare(x.GetSyncableId(), y.GetSyncableId()))
	})
	return out
}

// upsertSyncable stores a link, as Mattermost's UpsertGroupSyncable does:
// the team or channel must exist; a channel link needs its team linked to
// the group too, and creates that link unless the team is group
// constrained, where it is refused. An existing link, deleted or not, takes
// the new auto_add, scheme_admin and delete_at. The caller holds the lock.
func (b *Backend) upsertSyncable(in *pluginpb.GroupSyncable) (*pluginpb.GroupSyncable, error) {
	k := syncableKey{in.GetGroupId(), in.GetSyncableId(), in.GetType()}
	if err := b.checkSyncableKey(k); err != nil {
		return nil, err
	}
	if k.kind == syncableTeam {
		if _, err := b.team(k.syncable); err != nil {
			return nil, err
		}
	} else {
		c, err := b.channel(k.syncable)
		if err != nil {
			return nil, err
		}
		t, err := b.team(c.GetTeamId())
		if err != nil {
			return nil, apperror.New("app.group.syncable_channel_without_team",
				"Only channels of a team can be linked to a group.", "channel_id="+c.GetId(), http.StatusBadRequest)
		}
		if t.GetGroupConstrained() {
			if !b.liveSyncable(k.group, t.GetId(), syncableTeam) {
				return nil, apperror.New("group_not_associated_to_synced_team",
					"The group is not linked to the channel's group-constrained team.",
					"group_id="+k.group+" team_id="+t.GetId(), http.StatusBadRequest)
			}
		} else if _, err := b.upsertSyncable(&pluginpb.GroupSyncable{
			GroupId: k.group, SyncableId: t.GetId(), Type: syncableTeam, AutoAdd: in.GetAutoAdd(),
		}); err != nil {
			return nil, err
		}
	}
	now := b.nowMillis()
	s, ok := b.groups.syncables[k]
	if !ok {
		s = &pluginpb.GroupSyncable{GroupId: k.group, SyncableId: k.syncable, Type: k.kind, CreateAt: now}
	} else {
		s = proto.Clone(s).(*pluginpb.GroupSyncable)
	}
	s.AutoAdd, s.SchemeAdmin, s.DeleteAt, s.UpdateAt = in.GetAutoAdd(), in.GetSchemeAdmin(), in.GetDeleteAt(), now
	b.groups.syncables[k] = s
	return b.syncableOut(s), nil
}

// UpsertGroupSyncable links a group to a team or channel, or updates the
// link.
func (b *Backend) UpsertGroupSyncable(_ context.Context, req *pluginpb.UpsertGroupSyncableRequest) (*pluginpb.UpsertGroupSyncableResponse, error) {
	if req.GetGroupSyncable() == nil {
		return nil, invalidParam("group_syncable")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	s, err := b.upsertSyncable(req.GetGroupSyncable())
	if err != nil {
		return nil, err
	}
	return &pluginpb.UpsertGroupSyncableResponse{GroupSyncable: s}, nil
}

// UpdateGroupSyncable updates an existing link: auto_add, scheme_admin and
// delete_at change. A link that stays live goes through the upsert rules.
func (b *Backend) UpdateGroupSyncable(_ context.Context, req *pluginpb.UpdateGroupSyncableRequest) (*pluginpb.UpdateGroupSyncableResponse, error) {
	in := req.GetGroupSyncable()
	if in == nil {
		return nil, invalidParam("group_syncable")
	}
	k := syncableKey{in.GetGroupId(), in.GetSyncableId(), in.GetType()}
	b.mu.Lock()
	defer b.mu.Unlock()
	old, err := b.existingSyncable(k)
	if err != nil {
		return nil, err
	}
	if in.GetDeleteAt() == 0 {
		s, err := b.upsertSyncable(in)
		if err != nil {
			return nil, err
		}
		return &pluginpb.UpdateGroupSyncableResponse{GroupSyncable: s}, nil
	}
	s := proto.Clone(old).(*pluginpb.GroupSyncable)
	s.AutoAdd, s.SchemeAdmin, s.DeleteAt, s.UpdateAt = in.GetAutoAdd(), in.GetSchemeAdmin(), in.GetDeleteAt(), b.nowMillis()
	b.groups.syncables[k] = s
	return &pluginpb.UpdateGroupSyncableResponse{GroupSyncable: b.syncableOut(s)}, nil
}

// DeleteGroupSyncable deletes a live link; the row stays with delete_at
// set. Deleting a team link deletes the group's links to that team's
// channels too.
func (b *Backend) DeleteGroupSyncable(_ context.Context, req *pluginpb.DeleteGroupSyncableRequest) (*pluginpb.DeleteGroupSyncableResponse, error) {
	k := syncableKey{req.GetGroupId(), req.GetSyncableId(), req.GetSyncableType()}
	b.mu.Lock()
	defer b.mu.Unlock()
	old, err := b.existingSyncable(k)
	if err != nil {
		return nil, err
	}
	if old.GetDeleteAt() != 0 {
		return nil, apperror.New("app.group.group_syncable_already_deleted", "The group link is already deleted.",
			"group_id="+k.group+" syncable_id="+k.syncable, http.StatusBadRequest)
	}
	now := b.nowMillis()
	del := func(key syncableKey, s *pluginpb.GroupSyncable) *pluginpb.GroupSyncable {
		s = proto.Clone(s).(*pluginpb.GroupSyncable)
		s.DeleteAt, s.UpdateAt = now, now
		b.groups.syncables[key] = s
		return s
	}
	s := del(k, old)
	if k.kind == syncableTeam {
		for ck, cs := range b.groups.syncables {
			c, isChannel := b.channels.byID[ck.syncable]
			if ck.group == k.group && ck.kind == syncableChannel && cs.GetDeleteAt() == 0 && isChannel && c.GetTeamId() == k.syncable {
				del(ck, cs)
			}
		}
	}
	return &pluginpb.DeleteGroupSyncableResponse{GroupSyncable: b.syncableOut(s)}, nil
}

// groupsLinkedTo returns the ids of the live groups with a live link to a
// team or channel. The caller holds the lock.
func (b *Backend) groupsLinkedTo(syncableID, kind string) []string {
	var ids []string
	for k, s := range b.groups.syncables {
		if k.syncable == syncableID && k.kind == kind && s.GetDeleteAt() == 0 {
			if g, ok := b.groups.byID[k.group]; ok && g.GetDeleteAt() == 0 {
				ids = append(ids, k.group)
			}
		}
	}
	return ids
}

// pendingJoin is a membership that a group link implies and that does not
// exist yet.
type pendingJoin struct{ syncable, user string }

// membershipsToAdd lists, for the live auto_add links of one kind, the
// group members who are not members of the team or channel, as
// Mattermost's TeamMembersToAdd and ChannelMembersToAdd do. The caller
// holds the lock.
func (b *Backend) membershipsToAdd(kind string, p *pluginpb.CreateDefaultMembershipParams) []pendingJoin {
	var out []pendingJoin
	for k, s := range b.groups.syncables {
		if k.kind != kind || s.GetDeleteAt() != 0 || !s.GetAutoAdd() {
			continue
		}
		if g, ok := b.groups.byID[k.group]; !ok || g.GetDeleteAt() != 0 {
			continue
		}
		if kind == syncableTeam && p.ScopedTeamId != nil && k.syncable != p.GetScopedTeamId() ||
			kind == syncableChannel && p.ScopedChannelId != nil && k.syncable != p.GetScopedChannelId() {
			continue
		}
		for mk, m := range b.groups.members {
			if mk.container != k.group || m.GetDeleteAt() != 0 ||
				p.ScopedUserId != nil && mk.user != p.GetScopedUserId() ||
				m.GetCreateAt() < p.GetSince() && s.GetUpdateAt() < p.GetSince() {
				continue
			}
			if u, ok := b.users.byID[mk.user]; !ok || u.user.GetDeleteAt() != 0 {
				continue
			}
			if b.wouldJoin(kind, k.syncable, mk.user, p.GetReAddRemovedMembers()) {
				out = append(out, pendingJoin{k.syncable, mk.user})
			}
		}
	}
	slices.SortFunc(out, func(x, y pendingJoin) int {
		return cmp.Or(cmp.Compare(x.syncable, y.syncable), cmp.Compare(x.user, y.user))
	})
	return slices.Compact(out)
}

// wouldJoin reports whether a group link adds the user to the live team or
// channel: the user is not a member, and did not leave it unless reAdd.
// The caller holds the lock.
func (b *Backend) wouldJoin(kind, syncableID, userID string, reAdd bool) bool {
	if kind == syncableTeam {
		t, ok := b.teams.byID[syncableID]
		m, had := b.teams.member(syncableID, userID)
		return ok && t.GetDeleteAt() == 0 && (!had || m.GetDeleteAt() != 0 && reAdd)
	}
	c, ok := b.channels.byID[syncableID]
	if !ok || c.GetDeleteAt() != 0 {
		return false
	}
	if _, member := b.channels.member(syncableID, userID); member {
		return false
	}
	_, left := b.channels.left[membershipKey{syncableID, userID}]
	return !left || reAdd
}

// isDomainRefusal reports whether a team refused a user for the domain of
// the user's email, which group syncing skips, as Mattermost does.
func isDomainRefusal(err error) bool {
	var appErr *apperror.Error
	return errors.As(err, &appErr) && appErr.ID == "api.team.join_user_to_team.allowed_domains.app_error"
}

// CreateDefaultSyncableMemberships adds the members of groups to the teams
// and channels their auto_add links name, teams first; a channel's team is
// joined before the channel. Each join runs the usual hooks. A user whose
// email domain a team does not allow is skipped; any other refusal, such
// as a full team, ends the call with its error.
func (b *Backend) CreateDefaultSyncableMemberships(ctx context.Context, req *pluginpb.CreateDefaultSyncableMembershipsRequest) (*pluginpb.CreateDefaultSyncableMembershipsResponse, error) {
	p := req.GetParams()
	if p == nil {
		p = &pluginpb.CreateDefaultMembershipParams{}
	}
	b.mu.Lock()
	teamJoins := b.membershipsToAdd(syncableTeam, p)
	b.mu.Unlock()
	for _, j := range teamJoins {
		if _, err := b.addTeamMember(ctx, j.syncable, j.user, ""); err != nil && !isDomainRefusal(err) {
			return nil, err
		}
	}
	b.mu.Lock()
	channelJoins := b.membershipsToAdd(syncableChannel, p)
	b.mu.Unlock()
	for _, j := range channelJoins {
		b.mu.Lock()
		c, err := b.channel(j.syncable)
		inTeam := err == nil && b.teams.isMember(c.GetTeamId(), j.user)
		b.mu.Unlock()
		if err != nil {
			return nil, err
		}
		if !inTeam {
			if _, err := b.addTeamMember(ctx, c.GetTeamId(), j.user, ""); isDomainRefusal(err) {
				continue
			} else if err != nil {
				return nil, err
			}
		}
		if _, err := b.addChannelMember(ctx, j.syncable, j.user, ""); err != nil {
			return nil, err
		}
	}
	return &pluginpb.CreateDefaultSyncableMembershipsResponse{}, nil
}

// DeleteGroupConstrainedMemberships removes, from every group-constrained
// team and channel, the members who are in none of the groups linked to it.
// Bots stay, as in Mattermost.
func (b *Backend) DeleteGroupConstrainedMemberships(ctx context.Context, _ *pluginpb.DeleteGroupConstrainedMembershipsRequest) (*pluginpb.DeleteGroupConstrainedMembershipsResponse, error) {
	b.mu.Lock()
	var teamLeaves, channelLeaves []pendingJoin
	allowed := func(linked []string, userID string) bool {
		if u, ok := b.users.byID[userID]; ok && u.user.GetIsBot() {
			return true
		}
		return slices.ContainsFunc(linked, func(g string) bool { return b.isGroupMember(g, userID) })
	}
	for _, t := range b.teams.byID {
		if !t.GetGroupConstrained() || t.GetDeleteAt() != 0 {
			continue
		}
		linked := b.groupsLinkedTo(t.GetId(), syncableTeam)
		for _, m := range b.teams.currentMembers(func(m *pluginpb.TeamMember) bool { return m.GetTeamId() == t.GetId() }) {
			if !allowed(linked, m.GetUserId()) {
				teamLeaves = append(teamLeaves, pendingJoin{t.GetId(), m.GetUserId()})
			}
		}
	}
	for _, c := range b.channels.byID {
		if !c.GetGroupConstrained() || c.GetDeleteAt() != 0 {
			continue
		}
		linked := b.groupsLinkedTo(c.GetId(), syncableChannel)
		for _, m := range b.channels.membersWhere(func(m *pluginpb.ChannelMember) bool { return m.GetChannelId() == c.GetId() }) {
			if !allowed(linked, m.GetUserId()) {
				channelLeaves = append(channelLeaves, pendingJoin{c.GetId(), m.GetUserId()})
			}
		}
	}
	b.mu.Unlock()
	for _, l := range teamLeaves {
		if _, err := b.DeleteTeamMember(ctx, &pluginpb.DeleteTeamMemberRequest{TeamId: l.syncable, UserId: l.user}); err != nil {
			return nil, err
		}
	}
	for _, l := range channelLeaves {
		b.mu.Lock()
		_, still := b.channels.member(l.syncable, l.user)
		b.mu.Unlock()
		if !still {
			continue // left with its team above
		}
		if _, err := b.DeleteChannelMember(ctx, &pluginpb.DeleteChannelMemberRequest{ChannelId: l.syncable, UserId: l.user}); err != nil {
			return nil, err
		}
	}
	return &pluginpb.DeleteGroupConstrainedMembershipsResponse{}, nil
}
