package memory

// This file holds the handlers of the teams domain; teams_store.go holds
// its state, teams_validate.go the rules of model.Team.IsValid and
// teams_icon.go the team icons.

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

func teamNotFound(details string) *apperror.Error {
	return apperror.New("app.team.get.find.app_error", "Unable to find the existing team.", details, http.StatusNotFound)
}

func teamMemberNotFound(details string) *apperror.Error {
	return apperror.New("app.team.get_member.missing.app_error",
		"No team member found for that user and team.", details, http.StatusNotFound)
}

// appErrorProto returns the AppError that err carries, for a response
// that reports errors beside results.
func appErrorProto(err error) *pluginpb.AppError {
	var ae *apperror.Error
	if errors.As(err, &ae) {
		return ae.Proto()
	}
	return apperror.New("app.internal_error", "Internal error.", "", http.StatusInternalServerError).Proto()
}

// team returns the stored team teamID, or NOT_FOUND. As the store's Get
// that App.GetTeam and App.AddUserToTeam call (team.go@00e25d39,
// team_store.go@009fc71d:SqlTeamStore.Get), the id's form is not checked:
// a malformed id is a team that is not found.
func (b *Backend) team(teamID string) (*pluginpb.Team, error) {
	t, ok := b.teams.byID[teamID]
	if !ok {
		return nil, teamNotFound("team_id=" + apperror.Truncate(teamID, apperror.MaxShortBytes))
	}
	return t, nil
}

// user returns the stored user userID, or NOT_FOUND.
func (b *Backend) user(userID string) (*pluginpb.User, error) {
	if !isValidID(userID) {
		return nil, invalidParam("user_id")
	}
	s, ok := b.users.byID[userID]
	if !ok {
		return nil, userNotFound("user_id=" + userID)
	}
	return s.user, nil
}

// isGuest reports whether a user has the system guest role.
func isGuest(u *pluginpb.User) bool {
	return hasRole(u.GetRoles(), "system_guest")
}

func hasRole(roles, role string) bool {
	for _, r := range strings.Fields(roles) {
		if r == role {
			return true
		}
	}
	return false
}

// syncTeamType keeps type and allow_open_invite in step, as
// model/team.go@2307ab17:Team.syncTypeAndAllowOpenInvite does on save and
// on update: an invite-only team allows no open invites, and then
// allow_open_invite decides the type, so a team is open only when it
// allows open invites and was not invite-only.
func syncTeamType(t *pluginpb.Team) {
	if t.GetType() == teamTypeInvite {
		t.AllowOpenInvite = false
	}
	t.Type = teamTypeInvite
	if t.GetAllowOpenInvite() {
		t.Type = teamTypeOpen
	}
}

// CreateTeam creates a team with the defaults of model.Team.PreSave.
func (b *Backend) CreateTeam(_ context.Context, req *pluginpb.CreateTeamRequest) (*pluginpb.CreateTeamResponse, error) {
	if req.GetTeam() == nil {
		return nil, invalidParam("team")
	}
	t := proto.Clone(req.GetTeam()).(*pluginpb.Team)
	if t.GetId() != "" {
		// SqlTeamStore.Save answers a set id with ErrInvalidInput, which
		// App.CreateTeam reports as app.team.save.existing.app_error
		// (team_store.go@009fc71d, team.go@00e25d39).
		return nil, apperror.New("app.team.save.existing.app_error",
			"Must call update for an existing team.", "id="+t.GetId(), http.StatusBadRequest)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.nowMillis()
	t.Id = newID()
	t.CreateAt = now
	t.UpdateAt = now
	t.DeleteAt = 0
	// TeamService.CreateTeam clears the invite id and Team.PreSave makes
	// a new one (teams/teams.go@0985ce2c, model/team.go@2307ab17).
	t.InviteId = newID()
	syncTeamType(t)
	if err := validateTeam(t); err != nil {
		return nil, err
	}
	if _, taken := b.teams.byName[t.GetName()]; taken {
		return nil, apperror.New("app.team.save.existing.app_error",
			"A team with that name already exists.", "name="+t.GetName(), http.StatusBadRequest)
	}
	b.teams.put(t)
	if err := b.createDefaultChannels(t.GetId()); err != nil {
		return nil, err
	}
	return &pluginpb.CreateTeamResponse{Team: proto.Clone(t).(*pluginpb.Team)}, nil
}

// DeleteTeam archives a team, as the Plugin API's DeleteTeam does: the
// team and its memberships stay, with delete_at set. As App.SoftDeleteTeam,
// an archived team is archived again, with a new delete_at.
func (b *Backend) DeleteTeam(_ context.Context, req *pluginpb.DeleteTeamRequest) (*pluginpb.DeleteTeamResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t, err := b.team(req.GetTeamId())
	if err != nil {
		return nil, err
	}
	c := proto.Clone(t).(*pluginpb.Team)
	now := b.nowMillis()
	c.DeleteAt = now
	c.UpdateAt = now
	b.teams.put(c)
	return &pluginpb.DeleteTeamResponse{}, nil
}

// GetTeams returns every team, archived ones included.
func (b *Backend) GetTeams(context.Context, *pluginpb.GetTeamsRequest) (*pluginpb.GetTeamsResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return &pluginpb.GetTeamsResponse{Teams: b.teams.sorted(func(*pluginpb.Team) bool { return true })}, nil
}

// GetTeam returns a team by id.
func (b *Backend) GetTeam(_ context.Context, req *pluginpb.GetTeamRequest) (*pluginpb.GetTeamResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t, err := b.team(req.GetTeamId())
	if err != nil {
		return nil, err
	}
	return &pluginpb.GetTeamResponse{Team: proto.Clone(t).(*pluginpb.Team)}, nil
}

// GetTeamByName returns a team by its URL name.
func (b *Backend) GetTeamByName(_ context.Context, req *pluginpb.GetTeamByNameRequest) (*pluginpb.GetTeamByNameResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	id, ok := b.teams.byName[req.GetName()]
	if !ok {
		return nil, apperror.New("app.team.get_by_name.missing.app_error",
			"Unable to find the existing team.", "name="+req.GetName(), http.StatusNotFound)
	}
	return &pluginpb.GetTeamByNameResponse{Team: proto.Clone(b.teams.byID[id]).(*pluginpb.Team)}, nil
}

// GetTeamsUnreadForUser returns the unread counts of a user in each team
// where it has channel memberships, as App.GetTeamsUnreadForUser("",
// userID, false) does (team.go@00e25d39) with the store's
// GetChannelUnreadsForAllTeams (team_store.go@009fc71d): no user lookup,
// the user's memberships of live channels with a team, summed by team;
// the messages of a channel whose mark_unread is "mention" are not
// counted; no thread counts. The teams come in team id order.
func (b *Backend) GetTeamsUnreadForUser(_ context.Context, req *pluginpb.GetTeamsUnreadForUserRequest) (*pluginpb.GetTeamsUnreadForUserResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	byTeam := map[string]*pluginpb.TeamUnread{}
	for _, m := range b.channels.membersWhere(func(m *pluginpb.ChannelMember) bool { return m.GetUserId() == req.GetUserId() }) {
		c := b.channels.byID[m.GetChannelId()]
		if c.GetTeamId() == "" || c.GetDeleteAt() != 0 {
			continue
		}
		u, ok := byTeam[c.GetTeamId()]
		if !ok {
			u = &pluginpb.TeamUnread{TeamId: c.GetTeamId()}
			byTeam[c.GetTeamId()] = u
		}
		u.MentionCount += m.GetMentionCount()
		u.MentionCountRoot += m.GetMentionCountRoot()
		if m.GetNotifyProps()["mark_unread"] != "mention" {
			u.MsgCount += c.GetTotalMsgCount() - m.GetMsgCount()
			u.MsgCountRoot += c.GetTotalMsgCountRoot() - m.GetMsgCountRoot()
		}
	}
	out := make([]*pluginpb.TeamUnread, 0, len(byTeam))
	for _, u := range byTeam {
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b *pluginpb.TeamUnread) int { return cmp.Compare(a.GetTeamId(), b.GetTeamId()) })
	return &pluginpb.GetTeamsUnreadForUserResponse{TeamUnreads: out}, nil
}

// joinDefaultChannels makes a new team member a member of the team's live
// default channels, as App.JoinDefaultChannels does
// (channel.go@003a6338): the members are saved, as channel admins when
// admin is set (the team's email is the user's), and no
// UserHasJoinedChannel runs. The caller holds the lock.
func (b *Backend) joinDefaultChannels(teamID, userID string, admin bool) {
	for _, name := range []string{townSquare, offTopic} {
		id, ok := b.channels.byName[membershipKey{teamID, name}]
		if !ok || b.channels.byID[id].GetDeleteAt() != 0 {
			continue
		}
		if _, member := b.channels.member(id, userID); member {
			continue
		}
		m := b.newChannelMember(b.channels.byID[id], b.users.byID[userID].user)
		m.SchemeAdmin = admin
		b.channels.members[membershipKey{id, userID}] = m
		b.touchChannelMembers(id)
	}
}

// leaveTeamChannels removes a user who leaves a team from the team's
// channels, archived ones included, as App.LeaveTeam does through the
// store, and returns the memberships it ended. The caller holds the lock.
func (b *Backend) leaveTeamChannels(teamID, userID string) []*pluginpb.ChannelMember {
	left := b.channels.membersWhere(func(m *pluginpb.ChannelMember) bool {
		return m.GetUserId() == userID && b.channels.byID[m.GetChannelId()].GetTeamId() == teamID
	})
	for _, m := range left {
		b.channels.removeMember(m.GetChannelId(), userID, b.nowMillis())
		b.touchChannelMembers(m.GetChannelId())
	}
	return left
}

// UpdateTeam updates the fields of a team that Mattermost's UpdateTeam
// changes, and keeps the rest.
func (b *Backend) UpdateTeam(_ context.Context, req *pluginpb.UpdateTeamRequest) (*pluginpb.UpdateTeamResponse, error) {
	in := req.GetTeam()
	if in == nil {
		return nil, invalidParam("team")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	old, err := b.team(in.GetId())
	if err != nil {
		return nil, err
	}
	t := proto.Clone(old).(*pluginpb.Team)
	t.DisplayName = in.GetDisplayName()
	t.Description = in.GetDescription()
	t.AllowOpenInvite = in.GetAllowOpenInvite()
	t.CompanyName = in.GetCompanyName()
	t.AllowedDomains = in.GetAllowedDomains()
	t.LastTeamIconUpdate = in.GetLastTeamIconUpdate()
	t.GroupConstrained = in.GroupConstrained
	syncTeamType(t)
	t.UpdateAt = b.nowMillis()
	if err := validateTeam(t); err != nil {
		return nil, err
	}
	b.teams.put(t)
	return &pluginpb.UpdateTeamResponse{Team: proto.Clone(t).(*pluginpb.Team)}, nil
}

// SearchTeams returns the teams, archived ones included, whose name or
// display name contains the term, in any case, by display name: the
// store's SearchAll with no paging (team_store.go@009fc71d). An empty
// term matches every team.
func (b *Backend) SearchTeams(_ context.Context, req *pluginpb.SearchTeamsRequest) (*pluginpb.SearchTeamsResponse, error) {
	term := strings.ToLower(req.GetTerm())
	b.mu.Lock()
	defer b.mu.Unlock()
	teams := b.teams.sorted(func(t *pluginpb.Team) bool {
		return strings.Contains(strings.ToLower(t.GetName()), term) ||
			strings.Contains(strings.ToLower(t.GetDisplayName()), term)
	})
	return &pluginpb.SearchTeamsResponse{Teams: teams}, nil
}

// GetTeamsForUser returns the live teams a user is a current member of,
// as the store's GetTeamsByUserId: no user lookup and no id check
// (team_store.go@009fc71d).
func (b *Backend) GetTeamsForUser(_ context.Context, req *pluginpb.GetTeamsForUserRequest) (*pluginpb.GetTeamsForUserResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	teams := b.teams.sorted(func(t *pluginpb.Team) bool {
		return t.GetDeleteAt() == 0 && b.teams.isMember(t.GetId(), req.GetUserId())
	})
	return &pluginpb.GetTeamsForUserResponse{Teams: teams}, nil
}

// joinTeam is one user's join, prepared under the lock: the member to
// store, or why the user may not join.
type joinTeam struct {
	member  *pluginpb.TeamMember
	existed bool // the user is a current member already
	admin   bool // the user joins the default channels as their admin
	guest   bool // the user is a guest, who joins no default channel
}

// prepareJoin checks that userID may join teamID and returns the
// membership to store, as App.AddUserToTeam and TeamService.JoinUserToTeam
// do (team.go@00e25d39, teams/teams.go@0985ce2c): the team and the user are
// looked up in the store (no id form check), the email domain is checked
// before anything else, even for a current member; a current membership is
// returned as it is; a past one is replaced by a new one unless the team's
// members with active accounts reach MaxUsersPerTeam
// (app.team.join_user_to_team.max_accounts.app_error); a new one is
// refused by the store's count of the same members
// (team_store.go@009fc71d:SqlTeamStore.SaveMultipleMembers:
// app.team.join_user_to_team.save_member.max_accounts.app_error). The new
// membership is a team admin when the user, not a guest, is in a group
// whose link to the team makes its members admins
// (teams/utils.go@86b60aad:TeamService.userIsInAdminRoleGroup), or when the
// team's email is the user's, guest or not.
func (b *Backend) prepareJoin(teamID, userID string) (joinTeam, error) {
	t, err := b.team(teamID)
	if err != nil {
		return joinTeam{}, err
	}
	s, ok := b.users.byID[userID]
	if !ok {
		return joinTeam{}, userNotFound("user_id=" + apperror.Truncate(userID, apperror.MaxShortBytes))
	}
	u := s.user
	if !u.GetIsBot() && !emailAllowedInTeam(u.GetEmail(), t.GetAllowedDomains()) {
		return joinTeam{}, apperror.New("api.team.join_user_to_team.allowed_domains.app_error",
			"The user's email domain is not allowed in this team.", "team_id="+teamID+" user_id="+userID,
			http.StatusBadRequest)
	}
	guest := isGuest(u)
	// App.JoinUserToTeam makes the user an admin of the default channels
	// by the email rule alone; the admin groups count for the team only.
	admin := t.GetEmail() == u.GetEmail()
	m := &pluginpb.TeamMember{
		TeamId: teamID, UserId: userID, CreateAt: b.nowMillis(),
		SchemeGuest: guest, SchemeUser: !guest,
		SchemeAdmin: admin || (!guest && b.inAdminRoleGroup(userID, teamID)),
	}
	old, had := b.teams.member(teamID, userID)
	if had && old.GetDeleteAt() == 0 {
		return joinTeam{member: old, existed: true}, nil
	}
	active := b.activeTeamMembers(teamID)
	limit := int(b.configNumber("TeamSettings", "MaxUsersPerTeam"))
	switch {
	case had && active >= limit:
		return joinTeam{}, apperror.New("app.team.join_user_to_team.max_accounts.app_error",
			"This team has reached the maximum number of allowed accounts.", "team_id="+teamID,
			http.StatusBadRequest)
	case !had && limit >= 0 && active+1 > limit:
		return joinTeam{}, apperror.New("app.team.join_user_to_team.save_member.max_accounts.app_error",
			"This team has reached the maximum number of allowed accounts.", "team_id="+teamID,
			http.StatusBadRequest)
	}
	return joinTeam{member: m, admin: admin, guest: guest}, nil
}

// inAdminRoleGroup reports whether the user is a current member of a group
// with a live link to the team that makes its members admins, as
// group_store.go@02fd7885:SqlGroupStore.AdminRoleGroupsForSyncableMember
// selects them: the group member's and the link's delete_at are 0 and the
// link's scheme_admin is set; neither the group's own deletion nor the
// user's is looked at. The caller holds the lock.
func (b *Backend) inAdminRoleGroup(userID, teamID string) bool {
	for k, m := range b.groups.members {
		if k.user != userID || m.GetDeleteAt() != 0 {
			continue
		}
		s, ok := b.groups.syncables[syncableKey{k.container, teamID, syncableTeam}]
		if ok && s.GetDeleteAt() == 0 && s.GetSchemeAdmin() {
			return true
		}
	}
	return false
}

// activeTeamMembers counts the current members of a team whose accounts
// are active, as the store's GetActiveMemberCount and the count of
// SaveMultipleMembers (team_store.go@009fc71d) join Users.
func (b *Backend) activeTeamMembers(teamID string) int {
	n := 0
	for _, m := range b.teams.members {
		if m.GetTeamId() != teamID || m.GetDeleteAt() != 0 {
			continue
		}
		if s, ok := b.users.byID[m.GetUserId()]; ok && s.user.GetDeleteAt() == 0 {
			n++
		}
	}
	return n
}

// addTeamMember adds one user to a team: it prepares the join under the
// lock, asks the TeamMemberWillBeAdded hook, stores the member and then
// runs UserHasJoinedTeam.
func (b *Backend) addTeamMember(ctx context.Context, teamID, userID, requestorID string) (*pluginpb.TeamMember, error) {
	b.mu.Lock()
	j, err := b.prepareJoin(teamID, userID)
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if j.existed {
		return withTeamRoles(j.member), nil
	}
	m, reason := b.hooks.TeamMemberWillBeAdded(ctx, withTeamRoles(j.member))
	if reason != "" || m == nil {
		return nil, rejectedByPlugin("app.team.join_user_to_team.rejected_by_plugin", "A plugin rejected the team member", reason)
	}
	b.mu.Lock()
	// Check again: the state may have changed while the hook ran.
	j, err = b.prepareJoin(teamID, userID)
	if err == nil && !j.existed {
		stored := proto.Clone(j.member).(*pluginpb.TeamMember)
		stored.SchemeAdmin = m.GetSchemeAdmin()
		stored.ExplicitRoles = m.GetExplicitRoles()
		b.teams.members[membershipKey{teamID, userID}] = stored
		j.member = stored
		// App.JoinUserToTeam joins no default channel for a guest.
		if !j.guest {
			b.joinDefaultChannels(teamID, userID, j.admin)
		}
	}
	var actor *pluginpb.User
	if s, ok := b.users.byID[requestorID]; ok {
		actor = sanitized(s.user)
	}
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	out := withTeamRoles(j.member)
	if !j.existed {
		// The default channels' members are saved without
		// UserHasJoinedChannel, as App.JoinDefaultChannels saves them.
		b.hooks.UserHasJoinedTeam(ctx, withTeamRoles(j.member), actor)
	}
	return out, nil
}

// CreateTeamMember adds a user to a team, or returns its current
// membership.
func (b *Backend) CreateTeamMember(ctx context.Context, req *pluginpb.CreateTeamMemberRequest) (*pluginpb.CreateTeamMemberResponse, error) {
	m, err := b.addTeamMember(ctx, req.GetTeamId(), req.GetUserId(), "")
	if err != nil {
		return nil, err
	}
	return &pluginpb.CreateTeamMemberResponse{TeamMember: m}, nil
}

// CreateTeamMembers adds users to a team and stops at the first failure;
// the users added before it stay members, as in Mattermost.
func (b *Backend) CreateTeamMembers(ctx context.Context, req *pluginpb.CreateTeamMembersRequest) (*pluginpb.CreateTeamMembersResponse, error) {
	out := make([]*pluginpb.TeamMember, 0, len(req.GetUserIds()))
	for _, userID := range req.GetUserIds() {
		m, err := b.addTeamMember(ctx, req.GetTeamId(), userID, req.GetRequestorId())
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return &pluginpb.CreateTeamMembersResponse{TeamMembers: out}, nil
}

// CreateTeamMembersGracefully adds users to a team and reports each
// failure beside the successes. As App.AddTeamMembers with graceful set
// (team.go@00e25d39), each user's join looks the team up: a missing team
// is each user's error, not the call's.
func (b *Backend) CreateTeamMembersGracefully(ctx context.Context, req *pluginpb.CreateTeamMembersGracefullyRequest) (*pluginpb.CreateTeamMembersGracefullyResponse, error) {
	out := make([]*pluginpb.TeamMemberWithError, 0, len(req.GetUserIds()))
	for _, userID := range req.GetUserIds() {
		m, err := b.addTeamMember(ctx, req.GetTeamId(), userID, req.GetRequestorId())
		r := &pluginpb.TeamMemberWithError{UserId: userID, Member: m}
		if err != nil {
			r.Error = appErrorProto(err)
		}
		out = append(out, r)
	}
	return &pluginpb.CreateTeamMembersGracefullyResponse{TeamMembers: out}, nil
}

// DeleteTeamMember removes a current member from a team, with the
// refusals of upstream's App.RemoveUserFromTeam and App.LeaveTeam: a
// missing team is app.team.get_by_invite_id.finding.app_error (404; the
// id upstream gives it there), a missing user
// app.user.missing_account.const (404), a user who was never a member
// api.team.remove_user_from_team.missing.app_error (400). As there, the
// store's GetMember finds a past membership too, which is removed again.
func (b *Backend) DeleteTeamMember(ctx context.Context, req *pluginpb.DeleteTeamMemberRequest) (*pluginpb.DeleteTeamMemberResponse, error) {
	b.mu.Lock()
	if _, ok := b.teams.byID[req.GetTeamId()]; !ok {
		b.mu.Unlock()
		return nil, apperror.New("app.team.get_by_invite_id.finding.app_error",
			"Unable to find the existing team.", "team_id="+req.GetTeamId(), http.StatusNotFound)
	}
	if _, ok := b.users.byID[req.GetUserId()]; !ok {
		b.mu.Unlock()
		return nil, userNotFound("user_id=" + req.GetUserId())
	}
	m, ok := b.teams.member(req.GetTeamId(), req.GetUserId())
	if !ok {
		b.mu.Unlock()
		return nil, apperror.New("api.team.remove_user_from_team.missing.app_error",
			"The user does not appear to be part of this team.",
			"team_id="+req.GetTeamId()+" user_id="+req.GetUserId(), http.StatusBadRequest)
	}
	left := proto.Clone(m).(*pluginpb.TeamMember)
	left.DeleteAt = b.nowMillis()
	b.teams.members[membershipKey{req.GetTeamId(), req.GetUserId()}] = left
	// App.LeaveTeam removes the channel memberships through the store
	// and runs no UserHasLeftChannel; only UserHasLeftTeam runs
	// (team.go@00e25d39:App.LeaveTeam, App.postProcessTeamMemberLeave).
	b.leaveTeamChannels(req.GetTeamId(), req.GetUserId())
	// App.postProcessTeamMemberLeave clears the user's sidebar of the team
	// (the store's ClearSidebarOnTeamLeave): a rejoin starts afresh.
	delete(b.sidebars, membershipKey{req.GetUserId(), req.GetTeamId()})
	var actor *pluginpb.User
	if s, ok := b.users.byID[req.GetRequestorId()]; ok {
		actor = sanitized(s.user)
	}
	b.mu.Unlock()
	b.hooks.UserHasLeftTeam(ctx, withTeamRoles(left), actor)
	return &pluginpb.DeleteTeamMemberResponse{}, nil
}

// GetTeamMembers returns one page of a team's current members, by user
// id, as the store's GetMembers (team_store.go@009fc71d): no team lookup,
// so an unknown team has none, and per_page 0 is LIMIT 0, an empty page.
func (b *Backend) GetTeamMembers(_ context.Context, req *pluginpb.GetTeamMembersRequest) (*pluginpb.GetTeamMembersResponse, error) {
	if err := validatePaging(req.GetPage(), req.GetPerPage()); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	all := b.teams.currentMembers(func(m *pluginpb.TeamMember) bool { return m.GetTeamId() == req.GetTeamId() })
	return &pluginpb.GetTeamMembersResponse{TeamMembers: page(all, req.GetPage(), req.GetPerPage())}, nil
}

// GetTeamMember returns one membership, current or past.
func (b *Backend) GetTeamMember(_ context.Context, req *pluginpb.GetTeamMemberRequest) (*pluginpb.GetTeamMemberResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	// App.GetTeamMember is the store's GetMember alone: no id check, so a
	// malformed id is not found (team.go@00e25d39).
	m, ok := b.teams.member(req.GetTeamId(), req.GetUserId())
	if !ok {
		return nil, teamMemberNotFound("team_id=" + apperror.Truncate(req.GetTeamId(), apperror.MaxShortBytes) +
			" user_id=" + apperror.Truncate(req.GetUserId(), apperror.MaxShortBytes))
	}
	return &pluginpb.GetTeamMemberResponse{TeamMember: withTeamRoles(m)}, nil
}

// GetTeamMembersForUser returns one page of a user's memberships, past
// ones included, by team id, as the store's GetTeamsForUserWithPagination
// (team_store.go@009fc71d): no user lookup, no id check and no delete_at
// filter.
func (b *Backend) GetTeamMembersForUser(_ context.Context, req *pluginpb.GetTeamMembersForUserRequest) (*pluginpb.GetTeamMembersForUserResponse, error) {
	if err := validatePaging(req.GetPage(), req.GetPerPage()); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	all := b.teams.allMembers(func(m *pluginpb.TeamMember) bool { return m.GetUserId() == req.GetUserId() })
	return &pluginpb.GetTeamMembersForUserResponse{TeamMembers: page(all, req.GetPage(), req.GetPerPage())}, nil
}

// UpdateTeamMemberRoles replaces the roles of a membership, as
// App.UpdateTeamMemberRoles does (team.go@00e25d39): the store's GetMember
// first, a past membership included (none: app.team.get_member.missing.app_error,
// 404), then the team's scheme roles through App.GetTeam (404), and no
// user lookup. The scheme roles team_user, team_admin and team_guest set
// the scheme flags; any other known role is kept as an explicit role; the
// guest flag may not change from the membership's.
func (b *Backend) UpdateTeamMemberRoles(_ context.Context, req *pluginpb.UpdateTeamMemberRolesRequest) (*pluginpb.UpdateTeamMemberRolesResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	old, ok := b.teams.member(req.GetTeamId(), req.GetUserId())
	if !ok {
		return nil, teamMemberNotFound("team_id=" + apperror.Truncate(req.GetTeamId(), apperror.MaxShortBytes) +
			" user_id=" + apperror.Truncate(req.GetUserId(), apperror.MaxShortBytes))
	}
	if _, err := b.team(req.GetTeamId()); err != nil {
		return nil, err
	}
	// A changed guest flag is
	// api.channel.update_team_member_roles.changing_guest_role.app_error
	// there (the shared table in roles.go names another id).
	roles := teamSchemeRoles
	roles.wrongGuestID = "api.channel.update_team_member_roles.changing_guest_role.app_error"
	r, err := roles.parse(req.GetNewRoles(), old.GetSchemeGuest())
	if err != nil {
		return nil, err
	}
	m := proto.Clone(old).(*pluginpb.TeamMember)
	m.SchemeGuest, m.SchemeUser, m.SchemeAdmin, m.ExplicitRoles = r.guest, r.user, r.admin, r.explicit
	b.teams.members[membershipKey{req.GetTeamId(), req.GetUserId()}] = m
	return &pluginpb.UpdateTeamMemberRolesResponse{TeamMember: withTeamRoles(m)}, nil
}

// GetTeamStats counts a team's current members and, of those, the active
// accounts. As App.GetTeamStats and the store's GetTotalMemberCount and
// GetActiveMemberCount (team.go@00e25d39, team_store.go@009fc71d), there
// is no team lookup: an unknown team has zero counts.
func (b *Backend) GetTeamStats(_ context.Context, req *pluginpb.GetTeamStatsRequest) (*pluginpb.GetTeamStatsResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	stats := &pluginpb.TeamStats{TeamId: req.GetTeamId()}
	for _, m := range b.teams.currentMembers(func(m *pluginpb.TeamMember) bool { return m.GetTeamId() == req.GetTeamId() }) {
		stats.TotalMemberCount++
		if s, ok := b.users.byID[m.GetUserId()]; ok && s.user.GetDeleteAt() == 0 {
			stats.ActiveMemberCount++
		}
	}
	return &pluginpb.GetTeamStatsResponse{TeamStats: stats}, nil
}
