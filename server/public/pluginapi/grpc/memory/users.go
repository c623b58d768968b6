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

// CreateUser creates a user as PluginAPI.CreateUser does through
// App.CreateUser (server/channels/app/user.go@83b7daaf) and
// UserService.CreateUser (server/channels/app/users/users.go@04165fd3), as
// [Backend.createUser] describes. UserHasBeenCreated then runs with the
// user.
func (b *Backend) CreateUser(ctx context.Context, req *pluginpb.CreateUserRequest) (*pluginpb.CreateUserResponse, error) {
	resp, err := b.createUser(req)
	if err != nil {
		return nil, err
	}
	b.hooks.UserHasBeenCreated(ctx, proto.Clone(resp.GetUser()).(*pluginpb.User))
	return resp, nil
}

// createUser creates the user under the lock, in upstream's order: a
// username that names a group (App.isUniqueToGroupNames); then
// UserService.CreateUser sets the roles to system_user whatever was given
// (system_admin system_user for a user who is not a bot when no user but
// bots exists, SqlUserStore.IsEmpty(true)), checks the email domain
// against TeamSettings.RestrictCreationToDomains unless the auth service
// is ldap or saml (api.user.create_user.accepted_domain.app_error, 400),
// and replaces a locale that has no translation with
// LocalizationSettings.DefaultClientLocale; then the password of a user
// with no auth service; then SqlUserStore.Save: a set id
// (app.user.save.existing.app_error, 400), PreSave's defaults and its
// model.SanitizeUnicode over the username, names and nickname
// ([sanitizeUserNames]), User.IsValid, and the unique username and email. App.createUserOrGuest
// then saves the new user's first preferences ([newUserPreferences]).
func (b *Backend) createUser(req *pluginpb.CreateUserRequest) (*pluginpb.CreateUserResponse, error) {
	if req.GetUser() == nil {
		return nil, invalidParam("user")
	}
	u := proto.Clone(req.GetUser()).(*pluginpb.User)
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.uniqueToGroupNames(u.GetUsername()); err != nil {
		return nil, err
	}
	u.Roles = defaultUserRoles
	if !isLDAPOrSAML(u) && !emailInDomains(u.GetEmail(), b.restrictCreationToDomains("TeamSettings")) {
		return nil, apperror.New("api.user.create_user.accepted_domain.app_error",
			"The email address is not in a domain that may create accounts.", "", http.StatusBadRequest)
	}
	if !u.GetIsBot() && !b.hasUsersBesidesBots() {
		u.Roles = systemAdminRoleID + " " + defaultUserRoles
	}
	if !supportedLocales[u.GetLocale()] {
		u.Locale = b.defaultClientLocale()
	}
	if err := validateNewPassword(u); err != nil {
		return nil, err
	}
	if u.GetId() != "" {
		return nil, apperror.New("app.user.save.existing.app_error",
			"Must call update for an existing user.", "", http.StatusBadRequest)
	}
	password := u.GetPassword()
	u.Password = ""
	u.MfaSecret = ""

	now := b.nowMillis()
	u.Id = newID()
	u.CreateAt = now
	u.UpdateAt = now
	u.DeleteAt = 0
	u.LastPasswordUpdate = now
	if len(u.GetNotifyProps()) == 0 {
		u.NotifyProps = defaultNotifyProps()
	}
	if len(u.GetTimezone()) == 0 {
		u.Timezone = map[string]string{"automaticTimezone": "", "manualTimezone": "", "useAutomaticTimezone": "true"}
	}
	sanitizeUserNames(u, false)
	normalizeUser(u)
	if err := validateUser(u); err != nil {
		return nil, err
	}
	if err := b.users.checkUnique(u); err != nil {
		return nil, err
	}
	b.users.put(&storedUser{user: u, passwordHash: sha256.Sum256([]byte(password))})
	b.preferences.put(newUserPreferences(u.GetId()))
	return &pluginpb.CreateUserResponse{User: sanitized(u)}, nil
}

// newUserPreferences are the preferences App.createUserOrGuest saves for
// a new user (server/channels/app/user.go@83b7daaf), with the categories
// and names of server/public/model/preference.go@7dabd8f9: the
// recommended next steps not hidden, the tutorial at step 0 (named by the
// user's id) and the "GMasDM" system notice.
func newUserPreferences(userID string) []*pluginpb.Preference {
	return []*pluginpb.Preference{
		{UserId: userID, Category: "recommended_next_steps", Name: "hide", Value: "false"},
		{UserId: userID, Category: "tutorial_step", Name: userID, Value: "0"},
		{UserId: userID, Category: "system_notice", Name: "GMasDM", Value: "true"},
	}
}

// hasUsersBesidesBots reports whether a user that is not a bot exists, as
// UserService.CreateUser asks the store's IsEmpty(true)
// (server/channels/app/users/users.go@04165fd3). The caller holds the
// lock.
func (b *Backend) hasUsersBesidesBots() bool {
	for _, s := range b.users.byID {
		if !s.user.GetIsBot() {
			return true
		}
	}
	return false
}

// isLDAPOrSAML reports whether the user signs in with LDAP or SAML
// (model.User.IsLDAPUser and IsSAMLUser), whose email domains are not
// restricted.
func isLDAPOrSAML(u *pluginpb.User) bool {
	return u.GetAuthService() == authServiceLDAP || u.GetAuthService() == authServiceSAML
}

// restrictCreationToDomains reads RestrictCreationToDomains of a config
// section (TeamSettings or GuestAccountsSettings); absent is "", no
// restriction, as the settings' defaults. The caller holds the lock.
func (b *Backend) restrictCreationToDomains(sectionName string) string {
	v, _ := section(b.config, sectionName)["RestrictCreationToDomains"].(string)
	return v
}

// defaultClientLocale reads LocalizationSettings.DefaultClientLocale,
// "en" by default. The caller holds the lock.
func (b *Backend) defaultClientLocale() string {
	if v, ok := section(b.config, "LocalizationSettings")["DefaultClientLocale"].(string); ok && v != "" {
		return v
	}
	return defaultLocale
}

// emailInDomains is users.CheckEmailDomain
// (server/channels/app/users/utils.go@ab89d76a): with no domains, any email
// passes; else domains, with "@" and "," read as spaces, lower-cased, are
// a list, and the lower-cased email must end with "@" and one of them.
func emailInDomains(email, domains string) bool {
	if domains == "" {
		return true
	}
	list := strings.Fields(strings.ToLower(strings.NewReplacer("@", " ", ",", " ").Replace(domains)))
	email = strings.ToLower(email)
	return slices.ContainsFunc(list, func(d string) bool { return strings.HasSuffix(email, "@"+d) })
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

// UpdateUser updates a user's profile as PluginAPI.UpdateUser does through
// App.UpdateUser (server/channels/app/user.go@83b7daaf) and
// SqlUserStore.Update (server/channels/store/sqlstore/user_store.go@c3394c53):
// the stored user, any id (app.user.missing_account.const, 404); a changed
// username must not name a group (app.user.save.username_exists.app_error,
// 400); a changed email must be in TeamSettings.RestrictCreationToDomains
// (api.user.update_user.accepted_domain.app_error, 400) unless the user is
// a guest, an LDAP or a SAML user, and a guest's in
// GuestAccountsSettings.RestrictCreationToDomains
// (api.user.update_user.accepted_guest_domain.app_error, 400) unless LDAP
// or SAML; with EmailSettings.RequireEmailVerification on, an email
// another user has is app.user.save.email_exists.app_error (400) and the
// old email stays (but for a bot). Then the store: PreUpdate, User.IsValid,
// the creation time, secrets, auth, roles and delete_at kept; an OAuth
// user's email kept; an LDAP user's new username or email is
// app.user.update.find.app_error (400); a new email is not verified; a new
// username drops the old one from the mention keys; then the unique
// username and email; a renamed user with the default picture has
// last_picture_update set to minus now. UserWillBeUpdated runs first.
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
	if err := b.checkUserUpdate(u, old.user); err != nil {
		return nil, err
	}
	if err := storeUserUpdate(u, old.user); err != nil {
		return nil, err
	}
	u.UpdateAt = b.nowMillis()
	if err := b.users.checkUnique(u); err != nil {
		return nil, err
	}
	// A renamed user with the default picture gets a new default one:
	// App.UpdateDefaultProfileImage and SqlUserStore.ResetLastPictureUpdate
	// set last_picture_update to minus now.
	if u.GetUsername() != old.user.GetUsername() && u.GetLastPictureUpdate() <= 0 {
		u.LastPictureUpdate = -u.GetUpdateAt()
	}
	b.users.put(&storedUser{user: u, passwordHash: old.passwordHash})
	return &pluginpb.UpdateUserResponse{User: sanitized(u)}, nil
}

// checkUserUpdate runs App.UpdateUser's checks of u, the update of prev
// (server/channels/app/user.go@83b7daaf): the group names, the email
// domains, and the email verification, which may put prev's email back
// into u. The caller holds the lock.
func (b *Backend) checkUserUpdate(u, prev *pluginpb.User) error {
	if u.GetUsername() != prev.GetUsername() {
		if err := b.uniqueToGroupNames(u.GetUsername()); err != nil {
			return err
		}
	}
	// App.UpdateUser compares the email as given, before PreUpdate
	// lower-cases it.
	if u.GetEmail() == prev.GetEmail() {
		return nil
	}
	guest := hasRole(prev.GetRoles(), "system_guest")
	if !emailInDomains(u.GetEmail(), b.restrictCreationToDomains("TeamSettings")) && !guest && !isLDAPOrSAML(prev) {
		return apperror.New("api.user.update_user.accepted_domain.app_error",
			"The email address is not in a domain that may create accounts.", "", http.StatusBadRequest)
	}
	if !emailInDomains(u.GetEmail(), b.restrictCreationToDomains("GuestAccountsSettings")) && guest && !isLDAPOrSAML(prev) {
		return apperror.New("api.user.update_user.accepted_guest_domain.app_error",
			"The email address is not in a domain that may create guest accounts.", "", http.StatusBadRequest)
	}
	if verify, _ := section(b.config, "EmailSettings")["RequireEmailVerification"].(bool); verify {
		// App.GetUserByEmail, as the store's "Email = lower(?)".
		if _, taken := b.users.byEmail[strings.ToLower(u.GetEmail())]; taken {
			return apperror.New("app.user.save.email_exists.app_error",
				"An account with that email already exists.", "user_id="+u.GetId(), http.StatusBadRequest)
		}
		// The new email waits for its verification, which this backend
		// does not send.
		if !u.GetIsBot() {
			u.Email = prev.GetEmail()
		}
	}
	return nil
}

// storeUserUpdate is SqlUserStore.Update(user, false)
// (server/channels/store/sqlstore/user_store.go@c3394c53) up to the
// unique keys: PreUpdate, User.IsValid, then prev's creation time,
// secrets, auth, roles and delete_at; an OAuth user keeps the email, an
// LDAP user may change neither username nor email
// (app.user.update.find.app_error, 400, as App.UpdateUser maps the
// store's invalid input), and a new email is not verified; a new
// username leaves the mention keys (User.UpdateMentionKeysFromUsername).
func storeUserUpdate(u, prev *pluginpb.User) error {
	preUpdateUser(u)
	u.CreateAt = prev.GetCreateAt()
	if err := validateUser(u); err != nil {
		return err
	}
	u.AuthData = prev.AuthData
	u.AuthService = prev.GetAuthService()
	u.Password = ""
	u.LastPasswordUpdate = prev.GetLastPasswordUpdate()
	u.LastPictureUpdate = prev.GetLastPictureUpdate()
	u.EmailVerified = prev.GetEmailVerified()
	u.FailedAttempts = prev.GetFailedAttempts()
	u.MfaSecret = ""
	u.MfaActive = prev.GetMfaActive()
	u.Roles = prev.GetRoles()
	u.DeleteAt = prev.GetDeleteAt()
	switch {
	case isOAuthUser(u):
		u.Email = prev.GetEmail()
	case u.GetAuthService() == authServiceLDAP:
		if u.GetUsername() != prev.GetUsername() || u.GetEmail() != prev.GetEmail() {
			return apperror.New("app.user.update.find.app_error",
				"An LDAP user's username and email come from LDAP.", "user_id="+u.GetId(), http.StatusBadRequest)
		}
	case u.GetEmail() != prev.GetEmail():
		u.EmailVerified = false
	}
	if u.GetUsername() != prev.GetUsername() {
		updateMentionKeysFromUsername(u, prev.GetUsername())
	}
	return nil
}

// preUpdateUser is model.User.PreUpdate (server/public/model/user.go@14e5a8a3)
// as far as this backend models it: model.SanitizeUnicode over the
// username, names, nickname and bot description ([sanitizeUserNames]);
// usernames and emails in lower case; empty notify props become the
// defaults, and the mention keys lose their blank entries and are
// lower-cased.
func preUpdateUser(u *pluginpb.User) {
	sanitizeUserNames(u, true)
	normalizeUser(u)
	if len(u.GetNotifyProps()) == 0 {
		u.NotifyProps = defaultNotifyProps()
		return
	}
	keys, ok := u.NotifyProps[mentionKeysProp]
	if !ok {
		return
	}
	var kept []string
	for _, k := range strings.Split(keys, ",") {
		if k != "" {
			kept = append(kept, strings.ToLower(k))
		}
	}
	u.NotifyProps[mentionKeysProp] = strings.Join(kept, ",")
}

// updateMentionKeysFromUsername is model.User.UpdateMentionKeysFromUsername:
// the mention keys, trimmed and without blanks, lose oldUsername and
// "@"+oldUsername; the rest is stored after a leading comma, or nothing.
func updateMentionKeysFromUsername(u *pluginpb.User, oldUsername string) {
	var kept []string
	for _, k := range strings.Split(u.GetNotifyProps()[mentionKeysProp], ",") {
		k = strings.TrimSpace(k)
		if k != "" && k != oldUsername && k != "@"+oldUsername {
			kept = append(kept, k)
		}
	}
	if u.NotifyProps == nil {
		u.NotifyProps = map[string]string{}
	}
	u.NotifyProps[mentionKeysProp] = ""
	if len(kept) > 0 {
		u.NotifyProps[mentionKeysProp] = "," + strings.Join(kept, ",")
	}
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
	b.statuses.setOfflineUnlessManual(u.GetId(), now)
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
