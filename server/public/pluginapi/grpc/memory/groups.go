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
	groupRemoteIDMaxLen    = 48
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

// validateGroup checks g as model.Group.IsValidForCreate does
// (server/public/model/group.go@1bdf8fa4:Group.IsValidForCreate and
// Group.IsValidName), in its order: the name, the display name and the
// description (lengths in bytes), the source, then the remote id. That
// model predates plugin sources; the backend also takes "plugin_<id>"
// sources, which need a remote id as ldap does.
func validateGroup(g *pluginpb.Group) error {
	name := g.GetName()
	switch {
	case g.Name == nil && g.GetAllowReference():
		return invalidGroup("name", "A group that can be mentioned needs a name.")
	case g.Name != nil && (name == "" || len(name) > groupNameMaxLen):
		return invalidGroup("name.invalid_length", "Invalid name: 1 to 64 characters.")
	case g.Name != nil && (name == "all" || name == "channel" || name == "here"):
		return invalidGroup("name.reserved_name", "The name is reserved: all, channel and here.")
	case g.Name != nil && !validGroupName.MatchString(name):
		return invalidGroup("name.invalid_chars", "Invalid name: lower-case letters, digits, '.', '-' and '_'.")
	case g.GetDisplayName() == "" || len(g.GetDisplayName()) > groupDisplayNameMaxLen:
		return invalidGroup("display_name", "Invalid display name: 1 to 128 bytes.")
	case len(g.GetDescription()) > groupDescriptionMaxLen:
		return invalidGroup("description", "Invalid description: at most 1,024 bytes.")
	case g.GetSource() != groupSourceCustom && g.GetSource() != groupSourceLDAP && !strings.HasPrefix(g.GetSource(), groupSourcePlugin):
		return invalidGroup("source", `Invalid source: "custom", "ldap" or "plugin_<plugin id>".`)
	case g.GetSource() != groupSourceCustom && g.GetRemoteId() == "" || len(g.GetRemoteId()) > groupRemoteIDMaxLen:
		return invalidGroup("remote_id", "Invalid remote id: at most 48 bytes, and needed by any source but custom.")
	}
	return nil
}

// group returns a group, deleted or not. Any id is looked up, as
// SqlGroupStore.Get does: a malformed one is not found. The caller holds
// the lock.
func (b *Backend) group(groupID string) (*pluginpb.Group, error) {
	g, ok := b.groups.byID[groupID]
	if !ok {
		return nil, groupNotFound("group_id=" + groupID)
	}
	return g, nil
}

// checkUniqueToUsernames refuses a group name that a user has, as
// App.isUniqueToUsernames does before the store is reached. The caller
// holds the lock.
func (b *Backend) checkUniqueToUsernames(g *pluginpb.Group) error {
	if _, taken := b.users.byUsername[g.GetName()]; g.GetName() != "" && taken {
		return apperror.New("app.group.username_conflict", "A user has that name.", "name="+g.GetName(), http.StatusBadRequest)
	}
	return nil
}

// groupCollision names the unique key of the store's UserGroups table (the
// name, or the source and remote id) that g would share with another
// group, or "". The caller holds the lock.
func (b *Backend) groupCollision(g *pluginpb.Group) string {
	for _, other := range b.groups.byID {
		switch {
		case other.GetId() == g.GetId():
		case g.Name != nil && other.Name != nil && other.GetName() == g.GetName():
			return "name"
		case g.RemoteId != nil && other.GetSource() == g.GetSource() && other.GetRemoteId() == g.GetRemoteId():
			return "remote_id"
		}
	}
	return ""
}

// CreateGroup creates a group, as App.CreateGroup and SqlGroupStore.Create
// do (group.go@0a29d834, group_store.go@02fd7885): a name that a user has
// first, then a given id, then the model's checks; a name or remote id
// that another group has fails the insert, which App.CreateGroup answers
// with app.insert_error (500).
func (b *Backend) CreateGroup(_ context.Context, req *pluginpb.CreateGroupRequest) (*pluginpb.CreateGroupResponse, error) {
	if req.GetGroup() == nil {
		return nil, invalidParam("group")
	}
	g := proto.Clone(req.GetGroup()).(*pluginpb.Group)
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.checkUniqueToUsernames(g); err != nil {
		return nil, err
	}
	if g.GetId() != "" {
		return nil, apperror.New("app.group.id.app_error", "Cannot create an existing group.", "", http.StatusBadRequest)
	}
	if err := validateGroup(g); err != nil {
		return nil, err
	}
	if key := b.groupCollision(g); key != "" {
		return nil, apperror.New("app.insert_error", "Unable to save the group: another group has that "+key+".", "", http.StatusInternalServerError)
	}
	now := b.nowMillis()
	// The store inserts the given delete_at: a group can be created deleted.
	g.Id, g.CreateAt, g.UpdateAt, g.HasSyncables = newID(), now, now, false
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

// GetGroupsBySource returns the live groups of a source. Any source is
// looked up, as SqlGroupStore.GetAllBySource does: an unknown one has none.
func (b *Backend) GetGroupsBySource(_ context.Context, req *pluginpb.GetGroupsBySourceRequest) (*pluginpb.GetGroupsBySourceResponse, error) {
	src := req.GetGroupSource()
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

// GetGroupsForUser returns the groups a user is a current member of,
// deleted groups included, as SqlGroupStore.GetByUser selects them (it
// filters the memberships, not the groups). Any id is looked up.
func (b *Backend) GetGroupsForUser(_ context.Context, req *pluginpb.GetGroupsForUserRequest) (*pluginpb.GetGroupsForUserResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return &pluginpb.GetGroupsForUserResponse{Groups: b.groupsWhere(func(g *pluginpb.Group) bool {
		return b.isGroupMember(g.GetId(), req.GetUserId())
	})}, nil
}

// UpdateGroup replaces a group's fields, as App.UpdateGroup and
// SqlGroupStore.Update do (group.go@0a29d834, group_store.go@02fd7885): a
// name that a user has first; then the lookup; a delete_at that changes
// to anything but 0 is refused (app.select_error, 500), so 0 restores a
// deleted group; create_at is kept and update_at set; then the model's
// checks; the name, display name, description, source, remote id and
// allow_reference come from the request.
func (b *Backend) UpdateGroup(_ context.Context, req *pluginpb.UpdateGroupRequest) (*pluginpb.UpdateGroupResponse, error) {
	in := req.GetGroup()
	if in == nil {
		return nil, invalidParam("group")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.checkUniqueToUsernames(in); err != nil {
		return nil, err
	}
	old, err := b.group(in.GetId())
	if err != nil {
		return nil, err
	}
	if in.GetDeleteAt() != old.GetDeleteAt() && in.GetDeleteAt() != 0 {
		return nil, apperror.New("app.select_error", "Unable to update the group: delete_at can only change to 0.", "", http.StatusInternalServerError)
	}
	g := proto.Clone(in).(*pluginpb.Group)
	g.CreateAt, g.HasSyncables = old.GetCreateAt(), false
	g.MemberCount, g.ChannelMemberCount, g.ChannelMemberTimezonesCount, g.MemberIds = nil, nil, nil, nil
	g.UpdateAt = b.nowMillis()
	if err := validateGroup(g); err != nil {
		return nil, err
	}
	switch b.groupCollision(g) {
	case "name":
		return nil, apperror.New("app.custom_group.unique_name", "A group with that name exists.", "", http.StatusBadRequest)
	case "remote_id":
		return nil, apperror.New("app.select_error", "Unable to update the group: another group has that remote id.", "", http.StatusInternalServerError)
	}
	b.groups.byID[g.GetId()] = g
	out := b.groupOut(g)
	out.MemberCount = proto.Int32(int32(len(b.liveGroupMemberIDs(g.GetId()))))
	return &pluginpb.UpdateGroupResponse{Group: out}, nil
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
	out := b.groupOut(g)
	out.MemberCount = proto.Int32(int32(len(b.liveGroupMemberIDs(groupID))))
	return out, nil
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

// upsertGroupMembers adds users to a group, all or none, as
// SqlGroupStore.UpsertMembers does (group_store.go@02fd7885,
// buildUpsertMembersQuery): the group must exist, deleted or not, and every
// user must exist and be active; a row that exists, left or not, is
// written again with create_at now. App.UpsertGroupMember(s) answers the
// store's failures with app.update_error (500). The caller holds the lock.
func (b *Backend) upsertGroupMembers(groupID string, userIDs []string) ([]*pluginpb.GroupMember, error) {
	storeFailure := func(details string) error {
		return apperror.New("app.update_error", "Unable to save the group membership.", details, http.StatusInternalServerError)
	}
	if _, ok := b.groups.byID[groupID]; !ok {
		return nil, storeFailure("group_id=" + groupID)
	}
	for _, id := range userIDs {
		if u, ok := b.users.byID[id]; !ok || u.user.GetDeleteAt() != 0 {
			return nil, storeFailure("user_id=" + id)
		}
	}
	now := b.nowMillis()
	out := make([]*pluginpb.GroupMember, 0, len(userIDs))
	for _, id := range userIDs {
		m := &pluginpb.GroupMember{GroupId: groupID, UserId: id, CreateAt: now}
		b.groups.members[membershipKey{groupID, id}] = m
		out = append(out, proto.Clone(m).(*pluginpb.GroupMember))
	}
	return out, nil
}

// UpsertGroupMember adds a user to a group.
func (b *Backend) UpsertGroupMember(_ context.Context, req *pluginpb.UpsertGroupMemberRequest) (*pluginpb.UpsertGroupMemberResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	m, err := b.upsertGroupMembers(req.GetGroupId(), []string{req.GetUserId()})
	if err != nil {
		return nil, err
	}
	return &pluginpb.UpsertGroupMemberResponse{GroupMember: m[0]}, nil
}

// UpsertGroupMembers adds users to a group, all or none.
func (b *Backend) UpsertGroupMembers(_ context.Context, req *pluginpb.UpsertGroupMembersRequest) (*pluginpb.UpsertGroupMembersResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out, err := b.upsertGroupMembers(req.GetGroupId(), req.GetUserIds())
	if err != nil {
		return nil, err
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

// liveGroupMemberIDs returns the current members of a group who are
// active users, by user id, as the store's member queries join Users with
// DeleteAt = 0. The caller holds the lock.
func (b *Backend) liveGroupMemberIDs(groupID string) []string {
	return slices.DeleteFunc(b.groupMemberIDs(groupID), func(id string) bool {
		u, ok := b.users.byID[id]
		return !ok || u.user.GetDeleteAt() != 0
	})
}

// GetGroupMemberUsers returns one page of a group's active members, by
// username, as App.GetGroupMemberUsersPage and
// SqlGroupStore.GetMemberUsersSortedPage do: the group is not looked up,
// so an unknown one has no members.
func (b *Backend) GetGroupMemberUsers(_ context.Context, req *pluginpb.GetGroupMemberUsersRequest) (*pluginpb.GetGroupMemberUsersResponse, error) {
	if err := validatePaging(req.GetPage(), req.GetPerPage()); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var users []*pluginpb.User
	for _, id := range b.liveGroupMemberIDs(req.GetGroupId()) {
		users = append(users, b.users.byID[id].user)
	}
	return &pluginpb.GetGroupMemberUsersResponse{Users: page(sortedUsers(users), req.GetPage(), req.GetPerPage())}, nil
}

// groupMatches reports whether a group passes the filters of GetGroups,
// as Mattermost's group store applies them. The caller holds the lock.
func (b *Backend) groupMatches(g *pluginpb.Group, o *pluginpb.GroupSearchOpts) bool {
	switch {
	case o.GetFilterArchived() && g.GetDeleteAt() == 0,
		!o.GetFilterArchived() && !o.GetIncludeArchived() && o.GetSince() <= 0 && g.GetDeleteAt() != 0,
		o.GetSource() != "" && g.GetSource() != o.GetSource(),
		o.GetFilterAllowReference() && !g.GetAllowReference(),
		o.GetSince() > 0 && g.GetUpdateAt() <= o.GetSince(),
		o.GetFilterHasMember() != "" && !b.isGroupMember(g.GetId(), o.GetFilterHasMember()),
		isValidID(o.GetNotAssociatedToTeam()) && g.GetDeleteAt() == 0 && b.liveSyncable(g.GetId(), o.GetNotAssociatedToTeam(), syncableTeam),
		isValidID(o.GetNotAssociatedToChannel()) && g.GetDeleteAt() == 0 && b.liveSyncable(g.GetId(), o.GetNotAssociatedToChannel(), syncableChannel):
		return false
	}
	if q := strings.ToLower(o.GetQ()); q != "" &&
		!strings.Contains(strings.ToLower(g.GetName()), q) && !strings.Contains(strings.ToLower(g.GetDisplayName()), q) {
		return false
	}
	if o.GetFilterParentTeamPermitted() && isValidID(o.GetNotAssociatedToChannel()) {
		if c, ok := b.channels.byID[o.GetNotAssociatedToChannel()]; ok {
			if t, ok := b.teams.byID[c.GetTeamId()]; ok && t.GetGroupConstrained() && !b.liveSyncable(g.GetId(), t.GetId(), syncableTeam) {
				return false
			}
		}
	}
	return true
}

// withGroupCounts sets the counts and ids of a listed group that the
// options ask for, as SqlGroupStore.GetGroups and App.GetGroups do: the
// member count and ids are of active users, and the view restrictions
// limit only the count. The caller holds the lock.
func (b *Backend) withGroupCounts(g *pluginpb.Group, o *pluginpb.GroupSearchOpts, r *pluginpb.ViewUsersRestrictions) {
	live := b.liveGroupMemberIDs(g.GetId())
	members := b.groupMemberIDs(g.GetId())
	if o.GetIncludeMemberCount() {
		counted := live
		if r != nil {
			counted = slices.DeleteFunc(slices.Clone(live), func(u string) bool {
				return !slices.ContainsFunc(r.GetTeams(), func(t string) bool { return b.teams.isMember(t, u) }) &&
					!slices.ContainsFunc(r.GetChannels(), func(c string) bool { _, ok := b.channels.member(c, u); return ok })
			})
		}
		g.MemberCount = proto.Int32(int32(len(counted)))
	}
	if o.GetIncludeMemberIds() {
		g.MemberIds = live
	}
	if channelID := o.GetIncludeChannelMemberCount(); channelID != "" {
		zones := map[string]bool{}
		var n int32
		for _, u := range members {
			if _, ok := b.channels.member(channelID, u); ok {
				n++
				if zone := countedTimezone(b.users.byID[u].user.GetTimezone()); zone != "" {
					zones[zone] = true
				}
			}
		}
		g.ChannelMemberCount = proto.Int32(n)
		if o.GetIncludeTimezones() {
			g.ChannelMemberTimezonesCount = proto.Int32(int32(len(zones)))
		}
	}
}

// countedTimezone is the time zone of a user that SqlGroupStore.GetGroups
// counts (server/channels/store/sqlstore/group_store.go@02fd78850df4dc5995999325ebf0e12e31a9edc6):
// the automatic one when useAutomaticTimezone is "true", the manual one
// when it is "false", and none ("") when that zone is empty or the
// setting is neither.
func countedTimezone(tz map[string]string) string {
	switch tz["useAutomaticTimezone"] {
	case "true":
		return tz["automaticTimezone"]
	case "false":
		return tz["manualTimezone"]
	}
	return ""
}

// GetGroups returns one page of the groups that match the filters, by
// display name (live groups first when archived ones are included), as
// SqlGroupStore.GetGroups (group_store.go@02fd7885) does: a since after 0
// includes archived groups, and the view restrictions do not filter the
// groups.
func (b *Backend) GetGroups(_ context.Context, req *pluginpb.GetGroupsRequest) (*pluginpb.GetGroupsResponse, error) {
	if err := validatePaging(req.GetPage(), req.GetPerPage()); err != nil {
		return nil, err
	}
	o := req.GetOpts()
	b.mu.Lock()
	defer b.mu.Unlock()
	all := b.groupsWhere(func(g *pluginpb.Group) bool { return b.groupMatches(g, o) })
	if o.GetIncludeArchived() {
		slices.SortStableFunc(all, func(x, y *pluginpb.Group) int {
			return cmp.Compare(min(x.GetDeleteAt(), 1), min(y.GetDeleteAt(), 1))
		})
	}
	out := all // a per_page of 0 sets no limit
	if req.GetPerPage() != 0 {
		out = page(all, req.GetPage(), req.GetPerPage())
	}
	for _, g := range out {
		b.withGroupCounts(g, o, req.GetViewRestrictions())
	}
	return &pluginpb.GetGroupsResponse{Groups: out}, nil
}
