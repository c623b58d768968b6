package memory

import (
	"cmp"
	"slices"

	"google.golang.org/protobuf/proto"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// This file holds the state of the teams domain. Its methods do not lock:
// the Backend's mutex guards it.

// Scheme roles of the default team scheme.
const (
	roleTeamUser  = "team_user"
	roleTeamAdmin = "team_admin"
	roleTeamGuest = "team_guest"
)

// membershipKey names one membership of a user in a team or a channel.
type membershipKey struct{ container, user string }

// teamStore holds teams, their memberships and their icons. Archived teams
// and past memberships stay, with delete_at set.
type teamStore struct {
	byID    map[string]*pluginpb.Team
	byName  map[string]string
	members map[membershipKey]*pluginpb.TeamMember
	icons   map[string][]byte
}

func newTeamStore() teamStore {
	return teamStore{
		byID:    make(map[string]*pluginpb.Team),
		byName:  make(map[string]string),
		members: make(map[membershipKey]*pluginpb.TeamMember),
		icons:   make(map[string][]byte),
	}
}

// put stores t, replacing the team with its id.
func (s teamStore) put(t *pluginpb.Team) {
	if old, ok := s.byID[t.GetId()]; ok {
		delete(s.byName, old.GetName())
	}
	s.byID[t.GetId()] = t
	s.byName[t.GetName()] = t.GetId()
}

// sorted returns copies of the teams that keep reports true, by display
// name and then id, as Mattermost orders team listings.
func (s teamStore) sorted(keep func(*pluginpb.Team) bool) []*pluginpb.Team {
	out := []*pluginpb.Team{}
	for _, t := range s.byID {
		if keep(t) {
			out = append(out, proto.Clone(t).(*pluginpb.Team))
		}
	}
	slices.SortFunc(out, func(a, b *pluginpb.Team) int {
		return cmp.Or(cmp.Compare(a.GetDisplayName(), b.GetDisplayName()), cmp.Compare(a.GetId(), b.GetId()))
	})
	return out
}

// member returns the membership of userID in teamID, current or past.
func (s teamStore) member(teamID, userID string) (*pluginpb.TeamMember, bool) {
	m, ok := s.members[membershipKey{teamID, userID}]
	return m, ok
}

// isMember reports whether userID is a current member of teamID.
func (s teamStore) isMember(teamID, userID string) bool {
	m, ok := s.member(teamID, userID)
	return ok && m.GetDeleteAt() == 0
}

// currentMembers returns copies of the current memberships that keep
// reports true, ordered by team id and then user id.
func (s teamStore) currentMembers(keep func(*pluginpb.TeamMember) bool) []*pluginpb.TeamMember {
	out := []*pluginpb.TeamMember{}
	for _, m := range s.members {
		if m.GetDeleteAt() == 0 && keep(m) {
			out = append(out, withTeamRoles(m))
		}
	}
	slices.SortFunc(out, func(a, b *pluginpb.TeamMember) int {
		return cmp.Or(cmp.Compare(a.GetTeamId(), b.GetTeamId()), cmp.Compare(a.GetUserId(), b.GetUserId()))
	})
	return out
}

// allMembers returns copies of the memberships, current and past, that
// keep reports true, ordered by team id and then user id.
func (s teamStore) allMembers(keep func(*pluginpb.TeamMember) bool) []*pluginpb.TeamMember {
	out := []*pluginpb.TeamMember{}
	for _, m := range s.members {
		if keep(m) {
			out = append(out, withTeamRoles(m))
		}
	}
	slices.SortFunc(out, func(a, b *pluginpb.TeamMember) int {
		return cmp.Or(cmp.Compare(a.GetTeamId(), b.GetTeamId()), cmp.Compare(a.GetUserId(), b.GetUserId()))
	})
	return out
}

// withTeamRoles returns a copy of m whose roles field lists the scheme
// roles and then the explicit roles, as Mattermost returns members.
func withTeamRoles(m *pluginpb.TeamMember) *pluginpb.TeamMember {
	c := proto.Clone(m).(*pluginpb.TeamMember)
	c.Roles = teamSchemeRoles.join(memberRoles{c.GetSchemeGuest(), c.GetSchemeUser(), c.GetSchemeAdmin(), c.GetExplicitRoles()})
	return c
}
