package memory

// This file holds the users' administration: activation, auth bindings
// and system roles.

import (
	"context"
	"crypto/sha256"
	"net/http"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// updateUser replaces a stored user with u, keeping its password digest.
// The caller holds the lock.
func (b *Backend) updateUser(u *pluginpb.User) {
	old := b.users.byID[u.GetId()]
	u.UpdateAt = b.nowMillis()
	b.users.put(&storedUser{user: u, passwordHash: old.passwordHash})
}

// UpdateUserActive deactivates or reactivates a user, as
// App.UpdateUserActive: an id that names no user is
// app.user.missing_account.const (404); then App.UpdateActive, as
// [Backend.updateActive] describes, also for a user already in that state.
// UserHasBeenDeactivated runs after every deactivation, for the user and
// each bot it took along.
func (b *Backend) UpdateUserActive(ctx context.Context, req *pluginpb.UpdateUserActiveRequest) (*pluginpb.UpdateUserActiveResponse, error) {
	b.mu.Lock()
	old, err := b.lookupUser(req.GetUserId())
	var deactivated []*pluginpb.User
	if err == nil {
		deactivated = b.updateActive(old, req.GetActive())
	}
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	b.userHooksDeactivated(ctx, deactivated)
	return &pluginpb.UpdateUserActiveResponse{}, nil
}

// UpdateUserAuth binds a user to an authentication service, as
// App.UpdateUserAuth does through SqlUserStore.UpdateAuthData
// (server/channels/app/user.go@83b7daaf,
// server/channels/store/sqlstore/user_store.go@c3394c53): an UPDATE by id,
// so an id that names no user changes nothing and is no error; the
// password is cleared, failed_attempts reset, last_password_update and
// update_at set to now; auth data that another user has (the unique key
// on AuthData, whatever the service) is
// app.user.update_auth_data.email_exists.app_error (400). The given binding
// is returned. Unlike upstream, which runs no validation here, the user
// must stay valid as User.IsValid (model.user.is_valid.*, 400): the state
// file holds only valid users.
func (b *Backend) UpdateUserAuth(_ context.Context, req *pluginpb.UpdateUserAuthRequest) (*pluginpb.UpdateUserAuthResponse, error) {
	a := req.GetUserAuth()
	if a == nil {
		return nil, invalidParam("user_auth")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	resp := &pluginpb.UpdateUserAuthResponse{UserAuth: proto.Clone(a).(*pluginpb.UserAuth)}
	old, ok := b.users.byID[req.GetUserId()]
	if !ok {
		return resp, nil
	}
	u := proto.Clone(old.user).(*pluginpb.User)
	u.AuthService = a.GetAuthService()
	u.AuthData = a.AuthData
	if err := validateUser(u); err != nil {
		return nil, err
	}
	if a.AuthData != nil {
		for _, other := range b.users.byID {
			if other.user.GetId() != u.GetId() && other.user.AuthData != nil && other.user.GetAuthData() == a.GetAuthData() {
				return nil, apperror.New("app.user.update_auth_data.email_exists.app_error",
					"Another user has this authentication data.", "user_id="+u.GetId(), http.StatusBadRequest)
			}
		}
	}
	now := b.nowMillis()
	u.UpdateAt, u.LastPasswordUpdate, u.FailedAttempts = now, now, 0
	b.users.put(&storedUser{user: u, passwordHash: sha256.Sum256(nil)})
	return resp, nil
}

// UpdateUserRoles replaces a user's system roles, as App.UpdateUserRoles
// and App.UpdateUserRolesWithUser do (server/channels/app/user.go@83b7daaf):
// the user is looked up first, and a miss is app.user.missing_account.const
// with status 400 (GetUser's 404 turned into a 400); then every role must
// exist (app.role.check_roles_exist.role_not_found, 400), a team or channel
// role included, as CheckRolesExist only asks whether the role exists; then
// a system admin whose new roles do not contain "system_admin" (a substring
// test, as upstream's strings.Contains) must not be the last active one
// that is not a bot (app.user.update.lastAdmin.app_error, 400). The roles
// are stored as given, and the user's sessions take them
// (SqlSessionStore.UpdateRoles).
func (b *Backend) UpdateUserRoles(_ context.Context, req *pluginpb.UpdateUserRolesRequest) (*pluginpb.UpdateUserRolesResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	old, ok := b.users.byID[req.GetUserId()]
	if !ok {
		return nil, apperror.New("app.user.missing_account.const", "Unable to find the user.",
			"user_id="+req.GetUserId(), http.StatusBadRequest)
	}
	for _, role := range strings.Fields(req.GetNewRoles()) {
		if !isKnownRole(role) {
			return nil, apperror.New("app.role.check_roles_exist.role_not_found",
				"The role does not exist.", "role="+apperror.Truncate(role, apperror.MaxShortBytes), http.StatusBadRequest)
		}
	}
	if hasRole(old.user.GetRoles(), systemAdminRoleID) && !strings.Contains(req.GetNewRoles(), systemAdminRoleID) &&
		b.countActiveSystemAdmins() <= 1 {
		return nil, apperror.New("app.user.update.lastAdmin.app_error",
			"The last system admin cannot lose the system_admin role.", "", http.StatusBadRequest)
	}
	u := proto.Clone(old.user).(*pluginpb.User)
	u.Roles = req.GetNewRoles()
	b.updateUser(u)
	for id, s := range b.sessions.byID {
		if s.GetUserId() == u.GetId() {
			s = proto.Clone(s).(*pluginpb.Session)
			s.Roles = u.GetRoles()
			b.sessions.byID[id] = s
		}
	}
	return &pluginpb.UpdateUserRolesResponse{User: sanitized(u)}, nil
}

// countActiveSystemAdmins counts the users that SqlUserStore.Count finds
// for UserCountOptions{Roles: [system_admin]} without bot accounts
// (server/channels/store/sqlstore/user_store.go@c3394c53): not deactivated,
// not bots, with "system_admin" in their roles (a LIKE '%system_admin%'
// match). The caller holds the lock.
func (b *Backend) countActiveSystemAdmins() int {
	n := 0
	for _, s := range b.users.byID {
		u := s.user
		if u.GetDeleteAt() == 0 && !u.GetIsBot() && strings.Contains(u.GetRoles(), systemAdminRoleID) {
			n++
		}
	}
	return n
}
