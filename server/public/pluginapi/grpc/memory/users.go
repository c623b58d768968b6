package memory

// This file holds the handlers of the users domain; users_store.go holds
// its state and users_validate.go the rules of model.User.IsValid.

import (
	"context"
	"crypto/sha256"
	"net/http"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

func userNotFound(details string) *apperror.Error {
	return apperror.New("app.user.missing_account.const", "Unable to find the user.", details, http.StatusNotFound)
}

// lookupUser returns a stored user by id. As App.GetUser
// (server/channels/app/user.go@83b7daaf), any id that names no user,
// malformed ones included, is app.user.missing_account.const (404): the id
// check is the REST handler's. The caller holds the lock.
func (b *Backend) lookupUser(userID string) (*pluginpb.User, error) {
	s, ok := b.users.byID[userID]
	if !ok {
		return nil, userNotFound("user_id=" + userID)
	}
	return s.user, nil
}

func invalidParam(name string) *apperror.Error {
	return apperror.New("api.context.invalid_param.app_error",
		"Invalid or missing "+name+" in request.", "", http.StatusBadRequest)
}

// CreateUser creates a user with the defaults of Mattermost.
// UserHasBeenCreated then runs with the user.
func (b *Backend) CreateUser(ctx context.Context, req *pluginpb.CreateUserRequest) (*pluginpb.CreateUserResponse, error) {
	resp, err := b.createUser(req)
	if err != nil {
		return nil, err
	}
	b.hooks.UserHasBeenCreated(ctx, proto.Clone(resp.GetUser()).(*pluginpb.User))
	return resp, nil
}

// createUser creates the user under the lock.
func (b *Backend) createUser(req *pluginpb.CreateUserRequest) (*pluginpb.CreateUserResponse, error) {
	if req.GetUser() == nil {
		return nil, invalidParam("user")
	}
	u := proto.Clone(req.GetUser()).(*pluginpb.User)
	b.mu.Lock()
	err := b.uniqueToGroupNames(u.GetUsername())
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if u.GetId() != "" {
		return nil, apperror.New("app.user.save.existing.app_error",
			"Must call update for an existing user.", "", http.StatusBadRequest)
	}
	if err := validateNewPassword(u); err != nil {
		return nil, err
	}
	password := u.GetPassword()
	u.Password = ""
	u.MfaSecret = ""

	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.nowMillis()
	u.Id = newID()
	u.CreateAt = now
	u.UpdateAt = now
	u.DeleteAt = 0
	u.LastPasswordUpdate = now
	if u.GetRoles() == "" {
		u.Roles = defaultUserRoles
	}
	if u.GetLocale() == "" {
		u.Locale = defaultLocale
	}
	if len(u.GetNotifyProps()) == 0 {
		u.NotifyProps = defaultNotifyProps()
	}
	if len(u.GetTimezone()) == 0 {
		u.Timezone = map[string]string{"automaticTimezone": "", "manualTimezone": "", "useAutomaticTimezone": "true"}
	}
	normalizeUser(u)
	if err := validateUser(u); err != nil {
		return nil, err
	}
	if err := b.users.checkUnique(u); err != nil {
		return nil, err
	}
	b.users.put(&storedUser{user: u, passwordHash: sha256.Sum256([]byte(password))})
	return &pluginpb.CreateUserResponse{User: sanitized(u)}, nil
}

// uniqueToGroupNames refuses a username that is the name of a group, as
// App.isUniqueToGroupNames does (server/channels/app/user.go@83b7daaf)
// through SqlGroupStore.GetByName, which matches the name exactly, deleted
// groups included: app.user.save.username_exists.app_error (400). An empty
// name is no group's. The caller holds the lock.
func (b *Backend) uniqueToGroupNames(username string) error {
	if username == "" {
		return nil
	}
	for _, g := range b.groups.byID {
		if g.Name != nil && g.GetName() == username {
			return apperror.New("app.user.save.username_exists.app_error",
				"An account with that username already exists.", "group name "+username+" exists", http.StatusBadRequest)
		}
	}
	return nil
}

// defaultNotifyProps are the notify props of a new user, as
// model.User.SetDefaultNotifications sets them
// (server/public/model/user.go@14e5a8a3465a1917af92f04340573ad22f01c263).
func defaultNotifyProps() map[string]string {
	return map[string]string{
		"email":           "true",
		"push":            "mention",
		"desktop":         "mention",
		"desktop_sound":   "true",
		"mention_keys":    "",
		"channel":         "true",
		"push_status":     "away",
		"comments":        "never",
		"first_name":      "false",
		"desktop_threads": "all",
		"email_threads":   "all",
		"push_threads":    "all",
	}
}

// UpdateUser updates a user's profile. As in Mattermost, it keeps the
// creation time, secrets, auth binding, roles and delete_at of the stored
// user, and a new email address is not verified.
func (b *Backend) UpdateUser(ctx context.Context, req *pluginpb.UpdateUserRequest) (*pluginpb.UpdateUserResponse, error) {
	if req.GetUser() == nil {
		return nil, invalidParam("user")
	}
	// App.UpdateUser looks the user up with no id check: a malformed id
	// is the missing account's 404.
	id := req.GetUser().GetId()
	b.mu.Lock()
	before, ok := b.users.byID[id]
	b.mu.Unlock()
	if !ok {
		return nil, userNotFound("user_id=" + id)
	}
	// UserWillBeUpdated runs before the checks, as upstream; its answer
	// replaces the update, but never the user's id or creation time.
	answer, reason := b.hooks.UserWillBeUpdated(ctx, proto.Clone(req.GetUser()).(*pluginpb.User), sanitized(before.user))
	if reason != "" {
		return nil, rejectedByPlugin("app.user.update_user.rejected_by_plugin", "A plugin rejected the user update", reason)
	}
	if answer == nil {
		answer = req.GetUser()
	}
	u := proto.Clone(answer).(*pluginpb.User)
	u.Id = id

	b.mu.Lock()
	defer b.mu.Unlock()
	old, ok := b.users.byID[id]
	if !ok {
		return nil, userNotFound("user_id=" + id)
	}
	prev := old.user
	// App.UpdateUser: a new username must not name a group.
	if u.GetUsername() != prev.GetUsername() {
		if err := b.uniqueToGroupNames(u.GetUsername()); err != nil {
			return nil, err
		}
	}
	u.CreateAt = prev.GetCreateAt()
	u.AuthData = prev.AuthData
	u.AuthService = prev.GetAuthService()
	u.Password = ""
	u.LastPasswordUpdate = prev.GetLastPasswordUpdate()
	u.LastPictureUpdate = prev.GetLastPictureUpdate()
	u.FailedAttempts = prev.GetFailedAttempts()
	u.MfaSecret = ""
	u.MfaActive = prev.GetMfaActive()
	u.Roles = prev.GetRoles()
	u.DeleteAt = prev.GetDeleteAt()
	u.EmailVerified = prev.GetEmailVerified()
	normalizeUser(u)
	if u.GetEmail() != prev.GetEmail() {
		u.EmailVerified = false
	}
	u.UpdateAt = b.nowMillis()
	if err := validateUser(u); err != nil {
		return nil, err
	}
	if err := b.users.checkUnique(u); err != nil {
		return nil, err
	}
	b.users.put(&storedUser{user: u, passwordHash: old.passwordHash})
	return &pluginpb.UpdateUserResponse{User: sanitized(u)}, nil
}

// DeleteUser deactivates a user, as the Plugin API's DeleteUser does
// through App.GetUser and App.UpdateActive: the account stays, with
// delete_at set to now, also when it was already deactivated; an id that
// names no user is app.user.missing_account.const (404). The deactivation
// runs as [Backend.updateActive] describes, and UserHasBeenDeactivated then
// runs for every user it deactivated.
func (b *Backend) DeleteUser(ctx context.Context, req *pluginpb.DeleteUserRequest) (*pluginpb.DeleteUserResponse, error) {
	b.mu.Lock()
	old, err := b.lookupUser(req.GetUserId())
	var deactivated []*pluginpb.User
	if err == nil {
		deactivated = b.updateActive(old, false)
	}
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	b.userHooksDeactivated(ctx, deactivated)
	return &pluginpb.DeleteUserResponse{}, nil
}

// userHooksDeactivated runs UserHasBeenDeactivated for each user, as
// App.UpdateActive does after every deactivation
// (server/channels/app/user.go@83b7daaf:App.UpdateActive).
func (b *Backend) userHooksDeactivated(ctx context.Context, users []*pluginpb.User) {
	for _, u := range users {
		b.hooks.UserHasBeenDeactivated(ctx, u)
	}
}

// updateActive deactivates or reactivates a stored user as App.UpdateActive
// does (server/channels/app/user.go@83b7daaf): update_at is set to now and
// delete_at to the same time, or to 0, whatever the user's state was.
// Deactivating then revokes every session of the user
// (PlatformService.RevokeAllSessions), sets the status offline unless it
// was set by hand (App.userDeactivated, SetStatusOffline(id, false)) and,
// while ServiceSettings.DisableBotsWhenOwnerIsDeactivated is on (the
// default), deactivates the user's live bots through App.UpdateBotActive
// (disableUserBots). It returns sanitized copies of the users it
// deactivated, the bots first, for UserHasBeenDeactivated. The caller
// holds the lock.
func (b *Backend) updateActive(old *pluginpb.User, active bool) []*pluginpb.User {
	stored := b.users.byID[old.GetId()]
	u := proto.Clone(old).(*pluginpb.User)
	now := b.nowMillis()
	u.UpdateAt, u.DeleteAt = now, now
	if active {
		u.DeleteAt = 0
	}
	b.users.put(&storedUser{user: u, passwordHash: stored.passwordHash})
	if active {
		return nil
	}
	b.revokeAllSessions(u.GetId())
	if s, ok := b.statuses[u.GetId()]; !ok || !s.GetManual() {
		b.statuses[u.GetId()] = &pluginpb.Status{UserId: u.GetId(), Status: statusOffline, LastActivityAt: now}
	}
	var deactivated []*pluginpb.User
	if b.disableBotsWhenOwnerIsDeactivated() {
		for _, bot := range b.liveBotsOwnedBy(u.GetId()) {
			_, more, _ := b.updateBotActive(bot.GetUserId(), false)
			deactivated = append(deactivated, more...)
		}
	}
	return append(deactivated, sanitized(u))
}

// disableBotsWhenOwnerIsDeactivated reads
// ServiceSettings.DisableBotsWhenOwnerIsDeactivated, whose default is on
// (model.ServiceSettings.SetDefaults). The caller holds the lock.
func (b *Backend) disableBotsWhenOwnerIsDeactivated() bool {
	v, ok := section(b.config, "ServiceSettings")["DisableBotsWhenOwnerIsDeactivated"].(bool)
	return !ok || v
}

// GetUser returns a user by id. As upstream's App.GetUser, any id that
// names no user, malformed ones included, is app.user.missing_account.const
// (404): the id check is the REST handler's.
func (b *Backend) GetUser(_ context.Context, req *pluginpb.GetUserRequest) (*pluginpb.GetUserResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s, ok := b.users.byID[req.GetUserId()]
	if !ok {
		return nil, userNotFound("user_id=" + req.GetUserId())
	}
	return &pluginpb.GetUserResponse{User: sanitized(s.user)}, nil
}

// GetUserByEmail returns a user by email address, ignoring case but not
// spaces, as the user store's "Email = lower(?)"; an address that names no
// user, the empty one included, is app.user.missing_account.const (404), as
// App.GetUserByEmail answers.
func (b *Backend) GetUserByEmail(_ context.Context, req *pluginpb.GetUserByEmailRequest) (*pluginpb.GetUserByEmailResponse, error) {
	email := strings.ToLower(req.GetEmail())
	b.mu.Lock()
	defer b.mu.Unlock()
	id, ok := b.users.byEmail[email]
	if !ok {
		return nil, userNotFound("")
	}
	return &pluginpb.GetUserByEmailResponse{User: sanitized(b.users.byID[id].user)}, nil
}

// GetUserByUsername returns a user by username, ignoring case but not
// spaces, as the user store's "Username = lower(?)"; a name that names no
// user, the empty one included, is app.user.get_by_username.app_error
// (404), App.GetUserByUsername's id, not the missing account of GetUser.
func (b *Backend) GetUserByUsername(_ context.Context, req *pluginpb.GetUserByUsernameRequest) (*pluginpb.GetUserByUsernameResponse, error) {
	name := strings.ToLower(req.GetUsername())
	b.mu.Lock()
	defer b.mu.Unlock()
	id, ok := b.users.byUsername[name]
	if !ok {
		return nil, apperror.New("app.user.get_by_username.app_error",
			"Unable to find the user.", "username="+name, http.StatusNotFound)
	}
	return &pluginpb.GetUserByUsernameResponse{User: sanitized(b.users.byID[id].user)}, nil
}

// GetUsersByUsernames returns the users with the given names, as
// App.GetUsersByUsernames does through SqlUserStore.GetProfilesByUsernames
// (server/channels/store/sqlstore/user_store.go@c3394c53): names match
// exactly ("Username IN (...)": stored names are lower case, so another
// case or a space matches nobody), unknown ones are skipped, each user
// comes once, by username.
func (b *Backend) GetUsersByUsernames(_ context.Context, req *pluginpb.GetUsersByUsernamesRequest) (*pluginpb.GetUsersByUsernamesResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var found []*pluginpb.User
	seen := make(map[string]bool, len(req.GetUsernames()))
	for _, name := range req.GetUsernames() {
		id, ok := b.users.byUsername[name]
		if ok && !seen[id] {
			seen[id] = true
			found = append(found, b.users.byID[id].user)
		}
	}
	return &pluginpb.GetUsersByUsernamesResponse{Users: sortedUsers(found)}, nil
}

// GetUsersByIds returns the users with the given ids, skipping unknown
// ones.
func (b *Backend) GetUsersByIds(_ context.Context, req *pluginpb.GetUsersByIdsRequest) (*pluginpb.GetUsersByIdsResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	users := make([]*pluginpb.User, 0, len(req.GetUserIds()))
	seen := make(map[string]bool, len(req.GetUserIds()))
	for _, id := range req.GetUserIds() {
		if s, ok := b.users.byID[id]; ok && !seen[id] {
			seen[id] = true
			users = append(users, sanitized(s.user))
		}
	}
	return &pluginpb.GetUsersByIdsResponse{Users: users}, nil
}

// GetUsers returns one page of users, as PluginAPI.GetUsers does through
// App.GetUsersFromProfiles and SqlUserStore.GetAllProfiles
// (server/channels/store/sqlstore/user_store.go@c3394c53): by username,
// filtered only by role, roles, inactive (which wins over active) and
// view_restrictions; the other options (sort, team, channel and group
// filters, updated_after, team and channel roles) are not read on that
// path.
func (b *Backend) GetUsers(_ context.Context, req *pluginpb.GetUsersRequest) (*pluginpb.GetUsersResponse, error) {
	o := req.GetOptions()
	if err := validatePaging(o.GetPage(), o.GetPerPage()); err != nil {
		return nil, err
	}
	b.mu.Lock()
	matched := make([]*pluginpb.User, 0, len(b.users.byID))
	for _, s := range b.users.byID {
		u := s.user
		if roleFilter(u, o.GetRole()) && multiRoleFilter(u, o.GetRoles()) && activeFilter(u, o.GetActive(), o.GetInactive()) &&
			b.viewRestrictionsFilter(u, o.GetViewRestrictions()) {
			matched = append(matched, u)
		}
	}
	b.mu.Unlock()
	return &pluginpb.GetUsersResponse{Users: page(sortedUsers(matched), o.GetPage(), o.GetPerPage())}, nil
}

// roleFilter is the store's applyRoleFilter: an empty role keeps everyone;
// else the lower-cased role must be a substring of the user's roles (a
// LIKE '%role%' match).
func roleFilter(u *pluginpb.User, role string) bool {
	return role == "" || strings.Contains(u.GetRoles(), strings.ToLower(role))
}

// multiRoleFilter is the system-role half of the store's
// applyMultiRoleFilters: "system_user" matches roles that are exactly
// "system_user", the other system roles a case-insensitive substring of
// the roles, any other name nothing; the user must match one, unless no
// role is of those kinds (or the first is empty), when everyone is kept.
func multiRoleFilter(u *pluginpb.User, roles []string) bool {
	if len(roles) == 0 || roles[0] == "" {
		return true
	}
	filtered := false
	for _, r := range roles {
		switch r {
		case "system_user":
			filtered = true
			if u.GetRoles() == r {
				return true
			}
		case "system_guest", systemAdminRoleID, "system_user_manager", "system_read_only_admin", "system_manager":
			filtered = true
			if strings.Contains(strings.ToLower(u.GetRoles()), r) {
				return true
			}
		}
	}
	return !filtered
}

// activeFilter keeps deactivated users only with inactive, active ones
// only with active (and not inactive), and everyone else.
func activeFilter(u *pluginpb.User, active, inactive bool) bool {
	switch {
	case inactive:
		return u.GetDeleteAt() != 0
	case active:
		return u.GetDeleteAt() == 0
	}
	return true
}

// viewRestrictionsFilter keeps the users that a view restriction lets
// through: a current member of one of its teams or a member of one of its
// channels; none when both lists are empty. The caller holds the lock.
func (b *Backend) viewRestrictionsFilter(u *pluginpb.User, r *pluginpb.ViewUsersRestrictions) bool {
	if r == nil {
		return true
	}
	id := u.GetId()
	return slices.ContainsFunc(r.GetTeams(), func(t string) bool { return b.teams.isMember(t, id) }) ||
		slices.ContainsFunc(r.GetChannels(), func(c string) bool { _, ok := b.channels.member(c, id); return ok })
}
