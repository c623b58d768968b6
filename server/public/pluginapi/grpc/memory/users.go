package memory

// This file holds the handlers of the users domain; users_store.go holds
// its state and users_validate.go the rules of model.User.IsValid.

import (
	"cmp"
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
// names no user is app.user.missing_account.const (404).
func (b *Backend) DeleteUser(ctx context.Context, req *pluginpb.DeleteUserRequest) (*pluginpb.DeleteUserResponse, error) {
	b.mu.Lock()
	deactivated, wasActive, err := b.deactivateUser(req.GetUserId())
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if wasActive {
		b.hooks.UserHasBeenDeactivated(ctx, deactivated)
	}
	return &pluginpb.DeleteUserResponse{}, nil
}

// deactivateUser sets a user's delete_at and update_at to now, as
// App.UpdateActive does whatever the user's state, and returns a sanitized
// copy and whether the user was active. The caller holds the lock.
func (b *Backend) deactivateUser(userID string) (*pluginpb.User, bool, error) {
	old, err := b.lookupUser(userID)
	if err != nil {
		return nil, false, err
	}
	u := proto.Clone(old).(*pluginpb.User)
	u.DeleteAt = b.nowMillis()
	b.updateUser(u)
	return sanitized(u), old.GetDeleteAt() == 0, nil
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

// GetUsersByUsernames returns the users with the given names, skipping
// unknown ones.
func (b *Backend) GetUsersByUsernames(_ context.Context, req *pluginpb.GetUsersByUsernamesRequest) (*pluginpb.GetUsersByUsernamesResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	users := make([]*pluginpb.User, 0, len(req.GetUsernames()))
	seen := make(map[string]bool, len(req.GetUsernames()))
	for _, name := range req.GetUsernames() {
		id, ok := b.users.byUsername[strings.ToLower(strings.TrimSpace(name))]
		if ok && !seen[id] {
			seen[id] = true
			users = append(users, sanitized(b.users.byID[id].user))
		}
	}
	return &pluginpb.GetUsersByUsernamesResponse{Users: users}, nil
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

// userOrder returns the comparison of a GetUsers sort order, and whether
// the order exists. Ties sort by username.
func userOrder(sort string) (func(a, b *pluginpb.User) int, bool) {
	newestFirst := func(field func(*pluginpb.User) int64) func(a, b *pluginpb.User) int {
		return func(a, b *pluginpb.User) int {
			return cmp.Or(cmp.Compare(field(b), field(a)), cmp.Compare(a.GetUsername(), b.GetUsername()))
		}
	}
	switch sort {
	case "":
		return func(a, b *pluginpb.User) int { return cmp.Compare(a.GetUsername(), b.GetUsername()) }, true
	case "create_at":
		return newestFirst((*pluginpb.User).GetCreateAt), true
	case "last_activity_at":
		return newestFirst((*pluginpb.User).GetLastActivityAt), true
	case "update_at":
		return newestFirst((*pluginpb.User).GetUpdateAt), true
	}
	return nil, false
}

// GetUsers returns one page of the users that match the options. Filters
// on team, channel and group membership match no user, because this
// backend has no teams, channels or groups yet; their negations match
// every user.
func (b *Backend) GetUsers(_ context.Context, req *pluginpb.GetUsersRequest) (*pluginpb.GetUsersResponse, error) {
	o := req.GetOptions()
	if err := validatePaging(o.GetPage(), o.GetPerPage()); err != nil {
		return nil, err
	}
	if o.GetActive() && o.GetInactive() {
		return nil, apperror.New("api.user.get_users.active_inactive.app_error",
			"The active and inactive filters cannot be combined.", "", http.StatusBadRequest)
	}
	less, ok := userOrder(o.GetSort())
	if !ok {
		return nil, apperror.New("api.user.get_users.invalid_sort.app_error",
			"Invalid sort order.", "sort="+o.GetSort(), http.StatusBadRequest)
	}
	b.mu.Lock()
	matched := make([]*pluginpb.User, 0, len(b.users.byID))
	for _, s := range b.users.byID {
		if b.userMatches(s.user, o) {
			matched = append(matched, s.user)
		}
	}
	b.mu.Unlock()

	slices.SortFunc(matched, less)
	pageUsers := page(matched, o.GetPage(), o.GetPerPage())
	users := make([]*pluginpb.User, len(pageUsers))
	for i, u := range pageUsers {
		users[i] = sanitized(u)
	}
	return &pluginpb.GetUsersResponse{Users: users}, nil
}

// userMatches reports whether u passes the filters of o. The caller holds
// the lock. No groups exist in this backend, so the group filters match
// nobody, or everybody when negated.
func (b *Backend) userMatches(u *pluginpb.User, o *pluginpb.UserGetOptions) bool {
	if o.GetActive() && u.GetDeleteAt() != 0 {
		return false
	}
	if o.GetInactive() && u.GetDeleteAt() == 0 {
		return false
	}
	if o.GetUpdatedAfter() != 0 && u.GetUpdateAt() <= o.GetUpdatedAfter() {
		return false
	}
	roles := strings.Fields(u.GetRoles())
	if o.GetRole() != "" && !slices.Contains(roles, o.GetRole()) {
		return false
	}
	if len(o.GetRoles()) > 0 && !slices.ContainsFunc(o.GetRoles(), func(r string) bool { return slices.Contains(roles, r) }) {
		return false
	}
	if o.GetInGroupId() != "" || o.GetGroupConstrained() {
		return false
	}
	id := u.GetId()
	if o.GetInTeamId() != "" && !b.teams.isMember(o.GetInTeamId(), id) ||
		o.GetNotInTeamId() != "" && b.teams.isMember(o.GetNotInTeamId(), id) {
		return false
	}
	if o.GetWithoutTeam() && len(b.teams.currentMembers(func(m *pluginpb.TeamMember) bool { return m.GetUserId() == id })) > 0 {
		return false
	}
	inChannel := func(channelID string) bool { _, ok := b.channels.member(channelID, id); return ok }
	if o.GetInChannelId() != "" && !inChannel(o.GetInChannelId()) ||
		o.GetNotInChannelId() != "" && inChannel(o.GetNotInChannelId()) {
		return false
	}
	if len(o.GetTeamRoles()) > 0 {
		m, ok := b.teams.member(o.GetInTeamId(), id)
		if !ok || !hasAnyRole(withTeamRoles(m).GetRoles(), o.GetTeamRoles()) {
			return false
		}
	}
	if len(o.GetChannelRoles()) > 0 {
		m, ok := b.channels.member(o.GetInChannelId(), id)
		if !ok || !hasAnyRole(withChannelRoles(m).GetRoles(), o.GetChannelRoles()) {
			return false
		}
	}
	if r := o.GetViewRestrictions(); r != nil {
		visible := slices.ContainsFunc(r.GetTeams(), func(t string) bool { return b.teams.isMember(t, id) }) ||
			slices.ContainsFunc(r.GetChannels(), inChannel)
		if !visible {
			return false
		}
	}
	return true
}

// hasAnyRole reports whether the space-separated roles hold any of want.
func hasAnyRole(roles string, want []string) bool {
	return slices.ContainsFunc(want, func(r string) bool { return hasRole(roles, r) })
}
