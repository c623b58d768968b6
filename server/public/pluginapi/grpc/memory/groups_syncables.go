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

// validateSyncable checks a link as model.GroupSyncable.IsValid does
// (server/public/model/group_syncable.go@362642b5): the group and syncable
// ids are well formed.
func validateSyncable(s *pluginpb.GroupSyncable) error {
	bad := func(field string) error {
		e := apperror.New("model.group_syncable."+field+".app_error", "Invalid "+field+".", "", http.StatusBadRequest)
		e.Where = "GroupSyncable.IsValid"
		return e
	}
	switch {
	case !isValidID(s.GetGroupId()):
		return bad("group_id")
	case !isValidID(s.GetSyncableId()):
		return bad("syncable_id")
	}
	return nil
}

// liveSyncable reports whether a group has a live link of the kind to the
// team or channel. The caller holds the lock.
func (b *Backend) liveSyncable(groupID, syncableID, kind string) bool {
	s, ok := b.groups.syncables[syncableKey{groupID, syncableID, kind}]
	return ok && s.GetDeleteAt() == 0
}

// syncableOut returns a copy of a link with the display fields of its team
// and channel filled in, as SqlGroupStore.GetAllGroupSyncablesByGroupId
// joins them. The caller holds the lock.
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
// not, as SqlGroupStore.getGroupSyncable reads it (group_store.go@02fd7885):
// the ids and type are not checked, so any miss is app.group.no_rows (404),
// and the link has its own columns only: no display fields, no team id,
// and scheme_admin false, which that function does not copy.
func (b *Backend) GetGroupSyncable(_ context.Context, req *pluginpb.GetGroupSyncableRequest) (*pluginpb.GetGroupSyncableResponse, error) {
	k := syncableKey{req.GetGroupId(), req.GetSyncableId(), req.GetSyncableType()}
	b.mu.Lock()
	defer b.mu.Unlock()
	s, ok := b.groups.syncables[k]
	if !ok {
		return nil, syncableNotFound(k)
	}
	return &pluginpb.GetGroupSyncableResponse{GroupSyncable: &pluginpb.GroupSyncable{
		GroupId: s.GetGroupId(), SyncableId: s.GetSyncableId(), Type: s.GetType(), AutoAdd: s.GetAutoAdd(),
		CreateAt: s.GetCreateAt(), DeleteAt: s.GetDeleteAt(), UpdateAt: s.GetUpdateAt(),
	}}, nil
}

// GetGroupSyncables returns a group's live links of one type, as
// SqlGroupStore.GetAllGroupSyncablesByGroupId does: nothing is looked up
// first, an unknown type has none, and a link is listed only while its
// team (and, for a channel link, its channel) exists.
func (b *Backend) GetGroupSyncables(_ context.Context, req *pluginpb.GetGroupSyncablesRequest) (*pluginpb.GetGroupSyncablesResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return &pluginpb.GetGroupSyncablesResponse{GroupSyncables: b.syncablesWhere(func(s *pluginpb.GroupSyncable) bool {
		if s.GetGroupId() != req.GetGroupId() || s.GetType() != req.GetSyncableType() || s.GetDeleteAt() != 0 {
			return false
		}
		teamID := s.GetSyncableId()
		if s.GetType() == syncableChannel {
			c, ok := b.channels.byID[s.GetSyncableId()]
			if !ok {
				return false
			}
			teamID = c.GetTeamId()
		}
		_, ok := b.teams.byID[teamID]
		return ok
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

// storeUpdateSyncable updates an existing link as
// SqlGroupStore.UpdateGroupSyncable does: the link must exist, the model's
// checks pass, and delete_at may change only to 0; auto_add, scheme_admin
// and delete_at are written and create_at kept. Its failures other than
// the model's are app.update_error (500), as App.UpdateGroupSyncable and
// App.UpsertGroupSyncable answer them. The caller holds the lock.
func (b *Backend) storeUpdateSyncable(in *pluginpb.GroupSyncable) (*pluginpb.GroupSyncable, error) {
	k := syncableKey{in.GetGroupId(), in.GetSyncableId(), in.GetType()}
	old, ok := b.groups.syncables[k]
	if !ok {
		return nil, apperror.New("app.update_error", "Unable to update the group link: it does not exist.",
			"group_id="+k.group+" syncable_id="+k.syncable+" type="+k.kind, http.StatusInternalServerError)
	}
	if err := validateSyncable(in); err != nil {
		return nil, err
	}
	if in.GetDeleteAt() != old.GetDeleteAt() && in.GetDeleteAt() != 0 {
		return nil, apperror.New("app.update_error", "Unable to update the group link: delete_at can only change to 0.",
			"", http.StatusInternalServerError)
	}
	if k.kind == syncableChannel {
		if _, ok := b.channels.byID[k.syncable]; !ok {
			return nil, apperror.New("app.update_error", "Unable to update the group link: its channel does not exist.",
				"channel_id="+k.syncable, http.StatusInternalServerError)
		}
	}
	s := proto.Clone(old).(*pluginpb.GroupSyncable)
	s.AutoAdd, s.SchemeAdmin, s.DeleteAt, s.UpdateAt = in.GetAutoAdd(), in.GetSchemeAdmin(), in.GetDeleteAt(), b.nowMillis()
	b.groups.syncables[k] = s
	return b.syncableOut(s), nil
}

// upsertSyncable stores a link, as App.UpsertGroupSyncable does
// (group.go@0a29d834): a channel link needs its channel
// (app.channel.get.existing.app_error, 404) and the channel's team
// (app.team.get.find.app_error, 404); a group-constrained team takes links
// only of its own groups (group_not_associated_to_synced_team, 400), any
// other team gets or updates the group's team link with the same auto_add.
// A new link then goes through SqlGroupStore.CreateGroupSyncable: the
// model's checks, a live delete_at, a team that must exist
// (store.sql_channel.get.existing.app_error, 404, the id App.UpsertGroupSyncable
// gives any not-found of the store) and a known type (app.insert_error,
// 500); an existing one through storeUpdateSyncable. The backend also
// needs the group to exist, as its state file does. The caller holds the
// lock.
func (b *Backend) upsertSyncable(in *pluginpb.GroupSyncable) (*pluginpb.GroupSyncable, error) {
	k := syncableKey{in.GetGroupId(), in.GetSyncableId(), in.GetType()}
	if k.kind == syncableChannel {
		c, ok := b.channels.byID[k.syncable]
		if !ok {
			return nil, channelNotFound("channel_id=" + k.syncable)
		}
		t, ok := b.teams.byID[c.GetTeamId()]
		if !ok {
			return nil, teamNotFound("team_id=" + c.GetTeamId())
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
	if _, ok := b.groups.syncables[k]; ok {
		return b.storeUpdateSyncable(in)
	}
	if err := validateSyncable(in); err != nil {
		return nil, err
	}
	if _, err := b.group(k.group); err != nil {
		return nil, err
	}
	switch k.kind {
	case syncableTeam:
		if _, ok := b.teams.byID[k.syncable]; !ok {
			return nil, apperror.New("store.sql_channel.get.existing.app_error", "Unable to find the team of the group link.",
				"team_id="+k.syncable, http.StatusNotFound)
		}
	case syncableChannel:
	default:
		return nil, apperror.New("app.insert_error", "Unable to save the group link: unknown type.", "type="+k.kind, http.StatusInternalServerError)
	}
	now := b.nowMillis()
	s := &pluginpb.GroupSyncable{
		GroupId: k.group, SyncableId: k.syncable, Type: k.kind, AutoAdd: in.GetAutoAdd(), SchemeAdmin: in.GetSchemeAdmin(),
		CreateAt: now, UpdateAt: now,
	}
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

// UpdateGroupSyncable updates an existing link as App.UpdateGroupSyncable
// does (group.go@0a29d834): with delete_at 0 it goes straight to the
// store's update; with any other delete_at it goes through the upsert,
// whose store update refuses a delete_at that changes (so a link cannot be
// deleted this way).
func (b *Backend) UpdateGroupSyncable(_ context.Context, req *pluginpb.UpdateGroupSyncableRequest) (*pluginpb.UpdateGroupSyncableResponse, error) {
	in := req.GetGroupSyncable()
	if in == nil {
		return nil, invalidParam("group_syncable")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	update := b.upsertSyncable
	if in.GetDeleteAt() == 0 {
		update = b.storeUpdateSyncable
	}
	s, err := update(in)
	if err != nil {
		return nil, err
	}
	return &pluginpb.UpdateGroupSyncableResponse{GroupSyncable: s}, nil
}

// DeleteGroupSyncable deletes a live link, as App.DeleteGroupSyncable and
// SqlGroupStore.DeleteGroupSyncable do (group.go@0a29d834,
// group_store.go@02fd7885): nothing is checked before the lookup, so any
// miss is app.group.no_rows (404), and a deleted link is
// app.group.group_syncable_already_deleted (400). The row stays with
// delete_at set. Deleting a team link deletes all the group's live channel
// links, of any team, as App.DeleteGroupSyncable does.
func (b *Backend) DeleteGroupSyncable(_ context.Context, req *pluginpb.DeleteGroupSyncableRequest) (*pluginpb.DeleteGroupSyncableResponse, error) {
	k := syncableKey{req.GetGroupId(), req.GetSyncableId(), req.GetSyncableType()}
	b.mu.Lock()
	defer b.mu.Unlock()
	old, ok := b.groups.syncables[k]
	if !ok {
		return nil, syncableNotFound(k)
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
			if ck.group == k.group && ck.kind == syncableChannel && cs.GetDeleteAt() == 0 {
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
// and channels their auto_add links name, teams first, as
// App.CreateDefaultMemberships does (syncables.go@02027a03); a channel's
// team is joined before the channel. Each join runs the usual hooks. A
// user whose email domain a team does not allow is skipped; any other
// refusal, such as a full team, is kept and the other joins go on, as
// upstream gathers them in a multierror: the call fails with the first.
func (b *Backend) CreateDefaultSyncableMemberships(ctx context.Context, req *pluginpb.CreateDefaultSyncableMembershipsRequest) (*pluginpb.CreateDefaultSyncableMembershipsResponse, error) {
	p := req.GetParams()
	if p == nil {
		p = &pluginpb.CreateDefaultMembershipParams{}
	}
	var first error
	keep := func(err error) {
		if first == nil {
			first = err
		}
	}
	b.mu.Lock()
	teamJoins := b.membershipsToAdd(syncableTeam, p)
	b.mu.Unlock()
	for _, j := range teamJoins {
		if _, err := b.addTeamMember(ctx, j.syncable, j.user, ""); err != nil && !isDomainRefusal(err) {
			keep(err)
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
			keep(err)
			continue
		}
		if !inTeam {
			if _, err := b.addTeamMember(ctx, c.GetTeamId(), j.user, ""); err != nil {
				if !isDomainRefusal(err) {
					keep(err)
				}
				continue
			}
		}
		if _, err := b.addChannelMember(ctx, j.syncable, j.user, ""); err != nil {
			keep(err)
		}
	}
	if first != nil {
		return nil, first
	}
	return &pluginpb.CreateDefaultSyncableMembershipsResponse{}, nil
}

// DeleteGroupConstrainedMemberships removes, from every group-constrained
// channel and then every group-constrained team, the members who are in
// none of the groups linked to it, as App.DeleteGroupConstrainedMemberships
// does (syncables.go@02027a03, channels first). Bots stay, as the store's
// queries leave them out. A failed removal is kept and the others go on:
// the call fails with the first.
func (b *Backend) DeleteGroupConstrainedMemberships(ctx context.Context, _ *pluginpb.DeleteGroupConstrainedMembershipsRequest) (*pluginpb.DeleteGroupConstrainedMembershipsResponse, error) {
	b.mu.Lock()
	var teamLeaves, channelLeaves []pendingJoin
	allowed := func(linked []string, userID string) bool {
		if u, ok := b.users.byID[userID]; ok && u.user.GetIsBot() {
			return true
		}
		return slices.ContainsFunc(linked, func(g string) bool { return b.isGroupMember(g, userID) })
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
	var first error
	for _, l := range channelLeaves {
		if _, err := b.DeleteChannelMember(ctx, &pluginpb.DeleteChannelMemberRequest{ChannelId: l.syncable, UserId: l.user}); err != nil && first == nil {
			first = err
		}
	}
	b.mu.Lock()
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
	b.mu.Unlock()
	for _, l := range teamLeaves {
		if _, err := b.DeleteTeamMember(ctx, &pluginpb.DeleteTeamMemberRequest{TeamId: l.syncable, UserId: l.user}); err != nil && first == nil {
			first = err
		}
	}
	if first != nil {
		return nil, first
	}
	return &pluginpb.DeleteGroupConstrainedMembershipsResponse{}, nil
}
