package memory

// This file holds the handlers and the state of the groups domain: groups,
// their members and their links ("syncables") to teams and channels.

import (
	"cmp"
	"context"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// Group sources and syncable types of the model, and its limits.
const (
	groupSourceCustom      = "custom"
	groupSourceLDAP        = "ldap"
	groupSourcePlugin      = "plugin_"
	syncableTeam           = "Team"
	syncableChannel        = "Channel"
	groupNameMaxLen        = 64
	groupDisplayNameMaxLen = 128
	groupDescriptionMaxLen = 1024
)

var validGroupName = regexp.MustCompile(`^[a-z0-9.\-_]+$`)

// syncableKey names one link of a group.
type syncableKey struct{ group, syncable, kind string }

// groupStore holds groups, memberships and links; deleted ones stay with
// delete_at set.
type groupStore struct {
	byID      map[string]*pluginpb.Group
	members   map[membershipKey]*pluginpb.GroupMember
	syncables map[syncableKey]*pluginpb.GroupSyncable
}

func newGroupStore() groupStore {
	return groupStore{
		byID:      make(map[string]*pluginpb.Group),
		members:   make(map[membershipKey]*pluginpb.GroupMember),
		syncables: make(map[syncableKey]*pluginpb.GroupSyncable),
	}
}

func groupNotFound(details string) *apperror.Error {
	return apperror.New("app.group.no_rows", "No matching group found.", details, http.StatusNotFound)
}

func invalidGroup(field, message string) *apperror.Error {
	e := apperror.New("model.group."+field+".app_error", message, "", http.StatusBadRequest)
	e.Where = "Group.IsValid"
	return e
}

// validateGroup checks g as model.Group.IsValidForCreate does.
func validateGroup(g *pluginpb.Group) error {
	switch {
	case g.GetSource() != groupSourceCustom && g.GetSource() != groupSourceLDAP && !strings.HasPrefix(g.GetSource(), groupSourcePlugin):
		return invalidGroup("source", `Invalid source: "custom", "ldap" or "plugin_<plugin id>".`)
	case g.GetDisplayName() == "" || utf8.RuneCountInString(g.GetDisplayName()) > groupDisplayNameMaxLen:
		return invalidGroup("display_name", "Invalid display name: 1 to 128 characters.")
	case utf8.RuneCountInString(g.GetDescription()) > groupDescriptionMaxLen:
		return invalidGroup("description", "Invalid description: at most 1,024 characters.")
	case g.GetSource() == groupSourceCustom && g.Name == nil:
		return invalidGroup("name", "A custom group needs a name.")
	case g.Name != nil && (len(g.GetName()) > groupNameMaxLen || !validGroupName.MatchString(g.GetName())):
		return invalidGroup("name", "Invalid name: 1 to 64 lower-case letters, digits, '.', '-' and '_'.")
	case g.GetSource() != groupSourceCustom && g.GetRemoteId() == "":
		return invalidGroup("remote_id", "A group of this source needs a remote id.")
	}
	return nil
}

// liveGroup returns a group, deleted or not. The caller holds the lock.
func (b *Backend) group(groupID string) (*pluginpb.Group, error) {
	if !isValidID(groupID) {
		return nil, invalidParam("group_id")
	}
	g, ok := b.groups.byID[groupID]
	if !ok {
		return nil, groupNotFound("group_id=" + groupID)
	}
	return g, nil
}

// checkGroupUnique rejects a name that another group or a user has, or a
// remote id that another group of the source has. The caller holds the
// lock.
func (b *Backend) checkGroupUnique(g *pluginpb.Group) error {
	for _, other := range b.groups.byID {
		if other.GetId() == g.GetId() {
			continue
		}
		if g.Name != nil && other.GetName() == g.GetName() {
			return apperror.New("app.custom_group.unique_name", "A group with that name exists.", "", http.StatusBadRequest)
		}
		if g.RemoteId != nil && other.GetSource() == g.GetSource() && other.GetRemoteId() == g.GetRemoteId() {
			return apperror.New("app.group.unique_remote_id", "A group of that source has that remote id.", "", http.StatusBadRequest)
		}
	}
	if _, taken := b.users.byUsername[g.GetName()]; g.Name != nil && taken {
		return apperror.New("app.group.username_conflict", "A user has that name.", "", http.StatusBadRequest)
	}
	return nil
}

// CreateGroup creates a group.
func (b *Backend) CreateGroup(_ context.Context, req *pluginpb.CreateGroupRequest) (*pluginpb.CreateGroupResponse, error) {
	if req.GetGroup() == nil {
		return nil, invalidParam("group")
	}
	g := proto.Clone(req.GetGroup()).(*pluginpb.Group)
	if g.GetId() != "" {
		return nil, apperror.New("app.group.id.app_error", "Cannot create an existing group.", "", http.StatusBadRequest)
	}
	if err := validateGroup(g); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.checkGroupUnique(g); err != nil {
		return nil, err
	}
	now := b.nowMillis()
	g.Id, g.CreateAt, g.UpdateAt, g.DeleteAt, g.HasSyncables = newID(), now, now, 0, false
	g.MemberCount, g.ChannelMemberCount, g.ChannelMemberTimezonesCount, g.MemberIds = nil, nil, nil, nil
	b.groups.byID[g.GetId()] = g
	return &pluginpb.CreateGroupResponse{Group: b.groupOut(g)}, nil
}

// groupOut returns a copy of a group for a response, with has_syncables
// set. The caller holds the lock.
func (b *Backend) groupOut(g *pluginpb.Group) *pluginpb.Group {
	out := proto.Clone(g).(*pluginpb.Group)
	out.HasSyncables = false
	for k, s := range b.groups.syncables {
		if k.group == g.GetId() && s.GetDeleteAt() == 0 {
			out.HasSyncables = true
			break
		}
	}
	return out
}

// GetGroup returns a group by id.
func (b *Backend) GetGroup(_ context.Context, req *pluginpb.GetGroupRequest) (*pluginpb.GetGroupResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	g, err := b.group(req.GetGroupId())
	if err != nil {
		return nil, err
	}
	return &pluginpb.GetGroupResponse{Group: b.groupOut(g)}, nil
}

// findGroup returns the group that match selects. The caller holds the lock.
func (b *Backend) findGroup(match func(*pluginpb.Group) bool, details string) (*pluginpb.Group, error) {
	for _, g := range b.groups.byID {
		if match(g) {
			return b.groupOut(g), nil
		}
	}
	return nil, groupNotFound(details)
}

// GetGroupByName returns a group by name.
func (b *Backend) GetGroupByName(_ context.Context, req *pluginpb.GetGroupByNameRequest) (*pluginpb.GetGroupByNameResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	g, err := b.findGroup(func(g *pluginpb.Group) bool { return g.Name != nil && g.GetName() == req.GetName() },
		"name="+req.GetName())
	if err != nil {
		return nil, err
	}
	return &pluginpb.GetGroupByNameResponse{Group: g}, nil
}

// GetGroupByRemoteID returns a group by its source and its id there.
func (b *Backend) GetGroupByRemoteID(_ context.Context, req *pluginpb.GetGroupByRemoteIDRequest) (*pluginpb.GetGroupByRemoteIDResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	g, err := b.findGroup(func(g *pluginpb.Group) bool {
		return g.GetSource() == req.GetGroupSource() && g.RemoteId != nil && g.GetRemoteId() == req.GetRemoteId()
	}, "remote_id="+req.GetRemoteId())
	if err != nil {
		return nil, err
	}
	return &pluginpb.GetGroupByRemoteIDResponse{Group: g}, nil
}

// groupsWhere returns copies of the groups that keep selects, by display
// name. The caller holds the lock.
func (b *Backend) groupsWhere(keep func(*pluginpb.Group) bool) []*pluginpb.Group {
	out := []*pluginpb.Group{}
	for _, g := range b.groups.byID {
		if keep(g) {
			out = append(out, b.groupOut(g))
		}
	}
	slices.SortFunc(out, func(x, y *pluginpb.Group) int {
		return cmp.Or(cmp.Compare(x.GetDisplayName(), y.GetDisplayName()), cmp.Compare(x.GetId(), y.GetId()))
	})
	return out
}

// GetGroupsBySource returns the live groups of a source.
func (b *Backend) GetGroupsBySource(_ context.Context, req *pluginpb.GetGroupsBySourceRequest) (*pluginpb.GetGroupsBySourceResponse, error) {
	src := req.GetGroupSource()
	if src != groupSourceCustom && src != groupSourceLDAP && !strings.HasPrefix(src, groupSourcePlugin) {
		return nil, invalidParam("group_source")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return &pluginpb.GetGroupsBySourceResponse{Groups: b.groupsWhere(func(g *pluginpb.Group) bool {
		return g.GetSource() == src && g.GetDeleteAt() == 0
	})}, nil
}

// isGroupMember reports whether a user is a current member of a group.
// The caller holds the lock.
func (b *Backend) isGroupMember(groupID, userID string) bool {
	m, ok := b.groups.members[membershipKey{groupID, userID}]
	return ok && m.GetDeleteAt() == 0
}

// GetGroupsForUser returns the live groups a user is a member of.
func (b *Backend) GetGroupsForUser(_ context.Context, req *pluginpb.GetGroupsForUserRequest) (*pluginpb.GetGroupsForUserResponse, error) {
	if !isValidID(req.GetUserId()) {
		return nil, invalidParam("user_id")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return &pluginpb.GetGroupsForUserResponse{Groups: b.groupsWhere(func(g *pluginpb.Group) bool {
		return g.GetDeleteAt() == 0 && b.isGroupMember(g.GetId(), req.GetUserId())
	})}, nil
}

// UpdateGroup updates a group; its source, remote id and times are kept.
func (b *Backend) UpdateGroup(_ context.Context, req *pluginpb.UpdateGroupRequest) (*pluginpb.UpdateGroupResponse, error) {
	in := req.GetGroup()
	if in == nil {
		return nil, invalidParam("group")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	old, err := b.group(in.GetId())
	if err != nil {
		return nil, err
	}
	g := proto.Clone(in).(*pluginpb.Group)
	g.Source, g.RemoteId, g.CreateAt, g.DeleteAt, g.HasSyncables = old.GetSource(), old.RemoteId, old.GetCreateAt(), old.GetDeleteAt(), old.GetHasSyncables()
	g.MemberCount, g.ChannelMemberCount, g.ChannelMemberTimezonesCount, g.MemberIds = nil, nil, nil, nil
	g.UpdateAt = b.nowMillis()
	if err := validateGroup(g); err != nil {
		return nil, err
	}
	if err := b.checkGroupUnique(g); err != nil {
		return nil, err
	}
	b.groups.byID[g.GetId()] = g
	return &pluginpb.UpdateGroupResponse{Group: b.groupOut(g)}, nil
}

// setGroupDeleted deletes or restores a group. The caller holds the lock.
func (b *Backend) setGroupDeleted(groupID string, deleted bool) (*pluginpb.Group, error) {
	old, err := b.group(groupID)
	if err != nil {
		return nil, err
	}
	if (old.GetDeleteAt() != 0) == deleted {
		return nil, groupNotFound("group_id=" + groupID)
	}
	g := proto.Clone(old).(*pluginpb.Group)
	now := b.nowMillis()
	g.DeleteAt, g.UpdateAt = 0, now
	if deleted {
		g.DeleteAt = now
	}
	b.groups.byID[g.GetId()] = g
	return b.groupOut(g), nil
}

// DeleteGroup deletes a live group; the row stays, with delete_at set.
func (b *Backend) DeleteGroup(_ context.Context, req *pluginpb.DeleteGroupRequest) (*pluginpb.DeleteGroupResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	g, err := b.setGroupDeleted(req.GetGroupId(), true)
	if err != nil {
		return nil, err
	}
	return &pluginpb.DeleteGroupResponse{Group: g}, nil
}

// RestoreGroup brings a deleted group back.
func (b *Backend) RestoreGroup(_ context.Context, req *pluginpb.RestoreGroupRequest) (*pluginpb.RestoreGroupResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	g, err := b.setGroupDeleted(req.GetGroupId(), false)
	if err != nil {
		return nil, err
	}
	return &pluginpb.RestoreGroupResponse{Group: g}, nil
}

// upsertGroupMember adds a user to a group, or reactivates the
// membership. The caller holds the lock.
func (b *Backend) upsertGroupMember(groupID, userID string) (*pluginpb.GroupMember, error) {
	if _, err := b.group(groupID); err != nil {
		return nil, err
	}
	if _, err := b.user(userID); err != nil {
		return nil, err
	}
	key := membershipKey{groupID, userID}
	m, ok := b.groups.members[key]
	if !ok || m.GetDeleteAt() != 0 {
		m = &pluginpb.GroupMember{GroupId: groupID, UserId: userID, CreateAt: b.nowMillis()}
		b.groups.members[key] = m
	}
	return proto.Clone(m).(*pluginpb.GroupMember), nil
}

// UpsertGroupMember adds a user to a group.
func (b *Backend) UpsertGroupMember(_ context.Context, req *pluginpb.UpsertGroupMemberRequest) (*pluginpb.UpsertGroupMemberResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	m, err := b.upsertGroupMember(req.GetGroupId(), req.GetUserId())
	if err != nil {
		return nil, err
	}
	return &pluginpb.UpsertGroupMemberResponse{GroupMember: m}, nil
}

// UpsertGroupMembers adds users to a group, all or none.
func (b *Backend) UpsertGroupMembers(_ context.Context, req *pluginpb.UpsertGroupMembersRequest) (*pluginpb.UpsertGroupMembersResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, id := range req.GetUserIds() {
		if _, err := b.user(id); err != nil {
			return nil, err
		}
	}
	out := make([]*pluginpb.GroupMember, 0, len(req.GetUserIds()))
	for _, id := range req.GetUserIds() {
		m, err := b.upsertGroupMember(req.GetGroupId(), id)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return &pluginpb.UpsertGroupMembersResponse{GroupMembers: out}, nil
}

// DeleteGroupMember removes a current member from a group.
func (b *Backend) DeleteGroupMember(_ context.Context, req *pluginpb.DeleteGroupMemberRequest) (*pluginpb.DeleteGroupMemberResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.isGroupMember(req.GetGroupId(), req.GetUserId()) {
		return nil, apperror.New("app.group.no_rows", "The user is not a member of the group.",
			"group_id="+req.GetGroupId()+" user_id="+req.GetUserId(), http.StatusNotFound)
	}
	m := proto.Clone(b.groups.members[membershipKey{req.GetGroupId(), req.GetUserId()}]).(*pluginpb.GroupMember)
	m.DeleteAt = b.nowMillis()
	b.groups.members[membershipKey{req.GetGroupId(), req.GetUserId()}] = m
	return &pluginpb.DeleteGroupMemberResponse{GroupMember: proto.Clone(m).(*pluginpb.GroupMember)}, nil
}

// groupMemberIDs returns the current members of a group, by user id. The
// caller holds the lock.
func (b *Backend) groupMemberIDs(groupID string) []string {
	var ids []string
	for k, m := range b.groups.members {
		if k.container == groupID && m.GetDeleteAt() == 0 {
			ids = append(ids, k.user)
		}
	}
	slices.Sort(ids)
	return ids
}

// GetGroupMemberUsers returns one page of a group's members, by username.
func (b *Backend) GetGroupMemberUsers(_ context.Context, req *pluginpb.GetGroupMemberUsersRequest) (*pluginpb.GetGroupMemberUsersResponse, error) {
	if err := validatePaging(req.GetPage(), req.GetPerPage()); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, err := b.group(req.GetGroupId()); err != nil {
		return nil, err
	}
	var users []*pluginpb.User
	for _, id := range b.groupMemberIDs(req.GetGroupId()) {
		users = append(users, b.users.byID[id].user)
	}
	return &pluginpb.GetGroupMemberUsersResponse{Users: page(sortedUsers(users), req.GetPage(), req.GetPerPage())}, nil
}

// groupMatches reports whether a group passes the filters of GetGroups,
// as Mattermost's group store applies them. The caller holds the lock.
func (b *Backend) groupMatches(g *pluginpb.Group, o *pluginpb.GroupSearchOpts, r *pluginpb.ViewUsersRestrictions) bool {
	switch {
	case o.GetFilterArchived() && g.GetDeleteAt() == 0,
		!o.GetFilterArchived() && !o.GetIncludeArchived() && g.GetDeleteAt() != 0,
		o.GetSource() != "" && g.GetSource() != o.GetSource(),
		o.GetFilterAllowReference() && !g.GetAllowReference(),
		o.GetSince() > 0 && g.GetUpdateAt() <= o.GetSince(),
		o.GetFilterHasMember() != "" && !b.isGroupMember(g.GetId(), o.GetFilterHasMember()),
		o.GetNotAssociatedToTeam() != "" && b.liveSyncable(g.GetId(), o.GetNotAssociatedToTeam(), syncableTeam),
		o.GetNotAssociatedToChannel() != "" && b.liveSyncable(g.GetId(), o.GetNotAssociatedToChannel(), syncableChannel):
		return false
	}
	if q := strings.ToLower(o.GetQ()); q != "" &&
		!strings.Contains(strings.ToLower(g.GetName()), q) && !strings.Contains(strings.ToLower(g.GetDisplayName()), q) {
		return false
	}
	if o.GetFilterParentTeamPermitted() && o.GetNotAssociatedToChannel() != "" {
		if c, ok := b.channels.byID[o.GetNotAssociatedToChannel()]; ok {
			if t, ok := b.teams.byID[c.GetTeamId()]; ok && t.GetGroupConstrained() && !b.liveSyncable(g.GetId(), t.GetId(), syncableTeam) {
				return false
			}
		}
	}
	if r != nil {
		members := b.groupMemberIDs(g.GetId())
		visible := slices.ContainsFunc(members, func(u string) bool {
			return slices.ContainsFunc(r.GetTeams(), func(t string) bool { return b.teams.isMember(t, u) }) ||
				slices.ContainsFunc(r.GetChannels(), func(c string) bool { _, ok := b.channels.member(c, u); return ok })
		})
		if !visible {
			return false
		}
	}
	return true
}

// withGroupCounts sets the counts and ids of a listed group that the
// options ask for. The caller holds the lock.
func (b *Backend) withGroupCounts(g *pluginpb.Group, o *pluginpb.GroupSearchOpts) {
	members := b.groupMemberIDs(g.GetId())
	if o.GetIncludeMemberCount() {
		g.MemberCount = proto.Int32(int32(len(members)))
	}
	if o.GetIncludeMemberIds() {
		g.MemberIds = members
	}
	if channelID := o.GetIncludeChannelMemberCount(); channelID != "" {
		zones := map[string]bool{}
		var n int32
		for _, u := range members {
			if _, ok := b.channels.member(channelID, u); ok {
				n++
				zones[effectiveTimezone(b.users.byID[u].user.GetTimezone())] = true
			}
		}
		g.ChannelMemberCount = proto.Int32(n)
		if o.GetIncludeTimezones() {
			g.ChannelMemberTimezonesCount = proto.Int32(int32(len(zones)))
		}
	}
}

// effectiveTimezone is the time zone a user's settings select: the
// automatic one unless the manual one is chosen.
func effectiveTimezone(tz map[string]string) string {
	if tz["useAutomaticTimezone"] == "false" {
		return tz["manualTimezone"]
	}
	return tz["automaticTimezone"]
}

// GetGroups returns one page of the groups that match the filters, by
// display name.
func (b *Backend) GetGroups(_ context.Context, req *pluginpb.GetGroupsRequest) (*pluginpb.GetGroupsResponse, error) {
	if err := validatePaging(req.GetPage(), req.GetPerPage()); err != nil {
		return nil, err
	}
	o := req.GetOpts()
	b.mu.Lock()
	defer b.mu.Unlock()
	all := b.groupsWhere(func(g *pluginpb.Group) bool { return b.groupMatches(g, o, req.GetViewRestrictions()) })
	out := page(all, req.GetPage(), req.GetPerPage())
	for _, g := range out {
		b.withGroupCounts(g, o)
	}
	return &pluginpb.GetGroupsResponse{Groups: out}, nil
}
