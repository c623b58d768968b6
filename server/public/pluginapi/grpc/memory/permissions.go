package memory

// This file holds the handlers of the permissions domain. Answers come
// from the roles of roles.go: a user's system roles, its team member roles
// in the team and its channel member roles in the channel.

import (
	"context"
	"strings"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// permissionID returns the id of the requested permission, or an error
// when the request names none.
func permissionID(p *pluginpb.Permission) (string, error) {
	if p.GetId() == "" {
		return "", invalidParam("permission.id")
	}
	return p.GetId(), nil
}

// userSystemRoles returns the system roles of an active user, or none.
// The caller holds the lock.
func (b *Backend) userSystemRoles(userID string) []string {
	s, ok := b.users.byID[userID]
	if !ok || s.user.GetDeleteAt() != 0 {
		return nil
	}
	return strings.Fields(s.user.GetRoles())
}

// teamRoles returns the roles of a user's current membership of a live
// team, or none. The caller holds the lock.
func (b *Backend) teamRoles(teamID, userID string) []string {
	m, ok := b.teams.member(teamID, userID)
	if !ok || m.GetDeleteAt() != 0 || b.teams.byID[teamID].GetDeleteAt() != 0 {
		return nil
	}
	return strings.Fields(withTeamRoles(m).GetRoles())
}

// HasPermissionTo reports whether a user's system roles grant a
// permission.
func (b *Backend) HasPermissionTo(_ context.Context, req *pluginpb.HasPermissionToRequest) (*pluginpb.HasPermissionToResponse, error) {
	id, err := permissionID(req.GetPermission())
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return &pluginpb.HasPermissionToResponse{HasPermission: rolesGrant(b.userSystemRoles(req.GetUserId()), id)}, nil
}

// HasPermissionToTeam reports whether a user's system roles, or its roles
// in a team, grant a permission.
func (b *Backend) HasPermissionToTeam(_ context.Context, req *pluginpb.HasPermissionToTeamRequest) (*pluginpb.HasPermissionToTeamResponse, error) {
	id, err := permissionID(req.GetPermission())
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	roles := b.userSystemRoles(req.GetUserId())
	if roles != nil {
		roles = append(roles, b.teamRoles(req.GetTeamId(), req.GetUserId())...)
	}
	return &pluginpb.HasPermissionToTeamResponse{HasPermission: rolesGrant(roles, id)}, nil
}

// HasPermissionToChannel reports whether a user's system roles, its roles
// in the channel's team or its roles in the channel grant a permission.
func (b *Backend) HasPermissionToChannel(_ context.Context, req *pluginpb.HasPermissionToChannelRequest) (*pluginpb.HasPermissionToChannelResponse, error) {
	id, err := permissionID(req.GetPermission())
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	roles := b.userSystemRoles(req.GetUserId())
	if c, ok := b.channels.byID[req.GetChannelId()]; ok && roles != nil {
		if c.GetTeamId() != "" {
			roles = append(roles, b.teamRoles(c.GetTeamId(), req.GetUserId())...)
		}
		if m, member := b.channels.member(c.GetId(), req.GetUserId()); member {
			roles = append(roles, strings.Fields(withChannelRoles(m).GetRoles())...)
		}
	}
	return &pluginpb.HasPermissionToChannelResponse{HasPermission: rolesGrant(roles, id)}, nil
}

// RolesGrantPermission reports whether any of the named roles grants a
// permission.
func (b *Backend) RolesGrantPermission(_ context.Context, req *pluginpb.RolesGrantPermissionRequest) (*pluginpb.RolesGrantPermissionResponse, error) {
	if req.GetPermissionId() == "" {
		return nil, invalidParam("permission_id")
	}
	return &pluginpb.RolesGrantPermissionResponse{Granted: rolesGrant(req.GetRoleNames(), req.GetPermissionId())}, nil
}
