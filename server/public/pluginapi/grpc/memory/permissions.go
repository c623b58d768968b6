package memory

// This file holds the handlers of the permissions domain. Answers come
// from the roles of roles.go: a user's system roles, its team member roles
// in the team and its channel member roles in the channel.

import (
	"context"
	"strings"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// userSystemRoles returns the system roles of a user, deactivated or not,
// as App.HasPermissionTo reads them through App.GetUser; an unknown user
// has none. The caller holds the lock.
func (b *Backend) userSystemRoles(userID string) []string {
	s, ok := b.users.byID[userID]
	if !ok {
		return nil
	}
	return strings.Fields(s.user.GetRoles())
}

// teamRoles returns the roles of a user's current membership of a team, or
// none. The team itself is not looked up, as App.GetTeamMember does not.
// The caller holds the lock.
func (b *Backend) teamRoles(teamID, userID string) []string {
	m, ok := b.teams.member(teamID, userID)
	if !ok || m.GetDeleteAt() != 0 {
		return nil
	}
	return strings.Fields(withTeamRoles(m).GetRoles())
}

// hasPermissionToTeam answers as App.HasPermissionToTeam does
// (authorization.go@01357633): an empty team or user id is refused; the
// user's team roles, then the system roles. The caller holds the lock.
func (b *Backend) hasPermissionToTeam(userID, teamID, permission string) bool {
	if teamID == "" || userID == "" {
		return false
	}
	return rolesGrant(b.teamRoles(teamID, userID), permission) || rolesGrant(b.userSystemRoles(userID), permission)
}

// HasPermissionTo reports whether a user's system roles grant a
// permission, as App.HasPermissionTo does: any user, deactivated or not;
// an unknown user or permission is no, and so is an empty (or missing)
// permission, which no role lists
// (server/channels/app/authorization.go@01357633:App.RolesGrantPermission).
func (b *Backend) HasPermissionTo(_ context.Context, req *pluginpb.HasPermissionToRequest) (*pluginpb.HasPermissionToResponse, error) {
	id := req.GetPermission().GetId()
	b.mu.Lock()
	defer b.mu.Unlock()
	return &pluginpb.HasPermissionToResponse{HasPermission: rolesGrant(b.userSystemRoles(req.GetUserId()), id)}, nil
}

// HasPermissionToTeam reports whether a user's roles in a team, or its
// system roles, grant a permission.
func (b *Backend) HasPermissionToTeam(_ context.Context, req *pluginpb.HasPermissionToTeamRequest) (*pluginpb.HasPermissionToTeamResponse, error) {
	id := req.GetPermission().GetId()
	b.mu.Lock()
	defer b.mu.Unlock()
	return &pluginpb.HasPermissionToTeamResponse{HasPermission: b.hasPermissionToTeam(req.GetUserId(), req.GetTeamId(), id)}, nil
}

// HasPermissionToChannel reports whether a user's roles in a channel grant
// a permission, or else its roles in the channel's team or its system
// roles, as App.HasPermissionToChannel does: an empty channel or user id
// is no; a channel of no team (or none at all) falls back to the system
// roles.
func (b *Backend) HasPermissionToChannel(_ context.Context, req *pluginpb.HasPermissionToChannelRequest) (*pluginpb.HasPermissionToChannelResponse, error) {
	perm := req.GetPermission().GetId()
	userID, channelID := req.GetUserId(), req.GetChannelId()
	b.mu.Lock()
	defer b.mu.Unlock()
	if channelID == "" || userID == "" {
		return &pluginpb.HasPermissionToChannelResponse{}, nil
	}
	if m, member := b.channels.member(channelID, userID); member && rolesGrant(strings.Fields(withChannelRoles(m).GetRoles()), perm) {
		return &pluginpb.HasPermissionToChannelResponse{HasPermission: true}, nil
	}
	if c, ok := b.channels.byID[channelID]; ok && c.GetTeamId() != "" {
		return &pluginpb.HasPermissionToChannelResponse{HasPermission: b.hasPermissionToTeam(userID, c.GetTeamId(), perm)}, nil
	}
	return &pluginpb.HasPermissionToChannelResponse{HasPermission: rolesGrant(b.userSystemRoles(userID), perm)}, nil
}

// RolesGrantPermission reports whether any of the named roles grants a
// permission, as App.RolesGrantPermission does: unknown roles grant
// nothing, and no role grants an empty permission id.
func (b *Backend) RolesGrantPermission(_ context.Context, req *pluginpb.RolesGrantPermissionRequest) (*pluginpb.RolesGrantPermissionResponse, error) {
	return &pluginpb.RolesGrantPermissionResponse{Granted: rolesGrant(req.GetRoleNames(), req.GetPermissionId())}, nil
}
