package memory

// This file holds the user listings by team and channel and the user
// search.

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// sortedUsers returns sanitized copies of users, by username.
func sortedUsers(users []*pluginpb.User) []*pluginpb.User {
	out := make([]*pluginpb.User, 0, len(users))
	for _, u := range users {
		out = append(out, sanitized(u))
	}
	slices.SortFunc(out, func(a, b *pluginpb.User) int { return cmp.Compare(a.GetUsername(), b.GetUsername()) })
	return out
}

// GetUsersInTeam returns one page of a team's current members, by
// username. As App.GetUsersInTeam, it goes to the store with no lookup:
// an unknown or malformed team id has no members.
func (b *Backend) GetUsersInTeam(_ context.Context, req *pluginpb.GetUsersInTeamRequest) (*pluginpb.GetUsersInTeamResponse, error) {
	if err := validatePaging(req.GetPage(), req.GetPerPage()); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var members []*pluginpb.User
	for _, m := range b.teams.currentMembers(func(m *pluginpb.TeamMember) bool { return m.GetTeamId() == req.GetTeamId() }) {
		// The store joins Users: a membership whose user is gone (a state
		// file may hold one) lists no one.
		if u, ok := b.users.byID[m.GetUserId()]; ok {
			members = append(members, u.user)
		}
	}
	return &pluginpb.GetUsersInTeamResponse{Users: page(sortedUsers(members), req.GetPage(), req.GetPerPage())}, nil
}

// statusRank orders statuses for GetUsersInChannel's "status" sort.
func statusRank(status string) int {
	switch status {
	case statusOnline:
		return 0
	case statusAway:
		return 1
	case statusDND:
		return 2
	}
	return 3
}

// GetUsersInChannel returns one page of a channel's members, by username
// or by status and then username; an unknown channel has none.
func (b *Backend) GetUsersInChannel(_ context.Context, req *pluginpb.GetUsersInChannelRequest) (*pluginpb.GetUsersInChannelResponse, error) {
	if req.GetSortBy() != "username" && req.GetSortBy() != "status" {
		return nil, apperror.New("plugin.api.get_users_in_channel",
			`Invalid sort option: "username" or "status".`, "sort_by="+req.GetSortBy(), http.StatusBadRequest)
	}
	if err := validatePaging(req.GetPage(), req.GetPerPage()); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	// App.GetUsersInChannel and GetUsersInChannelByStatus query the store
	// with no channel lookup: an unknown channel has no members.
	var members []*pluginpb.User
	for _, m := range b.channels.membersWhere(func(m *pluginpb.ChannelMember) bool { return m.GetChannelId() == req.GetChannelId() }) {
		if u, ok := b.users.byID[m.GetUserId()]; ok {
			members = append(members, u.user)
		}
	}
	users := sortedUsers(members)
	if req.GetSortBy() == "status" {
		slices.SortStableFunc(users, func(x, y *pluginpb.User) int {
			return cmp.Compare(statusRank(b.statuses.statusOf(x.GetId())), statusRank(b.statuses.statusOf(y.GetId())))
		})
	}
	return &pluginpb.GetUsersInChannelResponse{Users: page(users, req.GetPage(), req.GetPerPage())}, nil
}

// SearchUsers finds users as PluginAPI.SearchUsers does through
// App.SearchUsers and the user store's searches
// (server/channels/app/user.go@83b7daaf,
// server/channels/store/sqlstore/user_store.go@c3394c53): the first of
// without_team, in_channel_id, not_in_channel_id (within team_id when
// set), not_in_team_id, in_group_id and not_in_group_id picks the
// candidates, else the current members of team_id, or everyone; the
// group_constrained filter applies to the not-in-team and not-in-channel
// searches; deactivated users only with allow_inactive. The term, trimmed,
// is split on spaces, and every word, without leading "@", must be a
// case-insensitive substring of the username or the nickname (the plugin
// path allows neither full names nor emails). The role filters of the
// search are not read on that path. Results are by username, at most
// limit of them: 0 finds none, as SQL's LIMIT 0. A negative limit is
// refused (the contract's invalid_param, 400): upstream hands it to SQL.
func (b *Backend) SearchUsers(_ context.Context, req *pluginpb.SearchUsersRequest) (*pluginpb.SearchUsersResponse, error) {
	s := req.GetSearch()
	if s == nil {
		return nil, invalidParam("search")
	}
	if s.GetLimit() < 0 {
		return nil, invalidParam("search.limit")
	}
	terms := strings.Fields(strings.ToLower(s.GetTerm()))
	b.mu.Lock()
	defer b.mu.Unlock()
	candidate := b.searchCandidates(s)
	var found []*pluginpb.User
	for _, st := range b.users.byID {
		u := st.user
		if !candidate(u.GetId()) || !s.GetAllowInactive() && u.GetDeleteAt() != 0 {
			continue
		}
		fields := []string{strings.ToLower(u.GetUsername()), strings.ToLower(u.GetNickname())}
		if !slices.ContainsFunc(terms, func(t string) bool {
			t = strings.TrimLeft(t, "@")
			return !slices.ContainsFunc(fields, func(f string) bool { return strings.Contains(f, t) })
		}) {
			found = append(found, u)
		}
	}
	users := sortedUsers(found)
	return &pluginpb.SearchUsersResponse{Users: users[:min(int(s.GetLimit()), len(users))]}, nil
}

// searchCandidates returns the membership filter of a search, as
// App.SearchUsers picks the store's search. The caller holds the lock.
func (b *Backend) searchCandidates(s *pluginpb.UserSearch) func(userID string) bool {
	inTeam := func(teamID, userID string) bool { return b.teams.isMember(teamID, userID) }
	inChannel := func(channelID, userID string) bool { _, ok := b.channels.member(channelID, userID); return ok }
	inGroups := func(groupIDs []string, userID string) bool {
		return slices.ContainsFunc(groupIDs, func(g string) bool { return b.isGroupMember(g, userID) })
	}
	switch {
	case s.GetWithoutTeam():
		return func(id string) bool {
			return len(b.teams.currentMembers(func(m *pluginpb.TeamMember) bool { return m.GetUserId() == id })) == 0
		}
	case s.GetInChannelId() != "":
		return func(id string) bool { return inChannel(s.GetInChannelId(), id) }
	case s.GetNotInChannelId() != "":
		groups := b.groupsLinkedTo(s.GetNotInChannelId(), syncableChannel)
		return func(id string) bool {
			return !inChannel(s.GetNotInChannelId(), id) && (s.GetTeamId() == "" || inTeam(s.GetTeamId(), id)) &&
				(!s.GetGroupConstrained() || inGroups(groups, id))
		}
	case s.GetNotInTeamId() != "":
		groups := b.groupsLinkedTo(s.GetNotInTeamId(), syncableTeam)
		return func(id string) bool {
			return !inTeam(s.GetNotInTeamId(), id) && (!s.GetGroupConstrained() || inGroups(groups, id))
		}
	case s.GetInGroupId() != "":
		return func(id string) bool { return b.isGroupMember(s.GetInGroupId(), id) }
	case s.GetNotInGroupId() != "":
		return func(id string) bool { return !b.isGroupMember(s.GetNotInGroupId(), id) }
	case s.GetTeamId() != "":
		return func(id string) bool { return inTeam(s.GetTeamId(), id) }
	}
	return func(string) bool { return true }
}
