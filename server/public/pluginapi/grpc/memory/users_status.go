package memory

// This file holds the handlers of the users domain beyond the account
// itself: listings by team and channel, search, statuses, custom statuses,
// profile images, auth bindings and system roles.

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// Statuses of model.Status.
const (
	statusOnline  = "online"
	statusAway    = "away"
	statusDND     = "dnd"
	statusOffline = "offline"
)

// Limits of model.CustomStatus and of user searches.
const (
	customStatusProp = "customStatus"
	profileImageSize = 128
)

// updateUser replaces a stored user with u, keeping its password digest.
// The caller holds the lock.
func (b *Backend) updateUser(u *pluginpb.User) {
	old := b.users.byID[u.GetId()]
	u.UpdateAt = b.nowMillis()
	b.users.put(&storedUser{user: u, passwordHash: old.passwordHash})
}

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
			return cmp.Compare(statusRank(b.statuses[x.GetId()].GetStatus()), statusRank(b.statuses[y.GetId()].GetStatus()))
		})
	}
	return &pluginpb.GetUsersInChannelResponse{Users: page(users, req.GetPage(), req.GetPerPage())}, nil
}

// GetUserStatus returns a user's status. As PlatformService.GetStatus, any
// id with no status, malformed ones included, is
// app.status.get.missing.app_error (404).
func (b *Backend) GetUserStatus(_ context.Context, req *pluginpb.GetUserStatusRequest) (*pluginpb.GetUserStatusResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s, ok := b.statuses[req.GetUserId()]
	if !ok {
		return nil, apperror.New("app.status.get.missing.app_error",
			"Unable to find the status.", "user_id="+req.GetUserId(), http.StatusNotFound)
	}
	return &pluginpb.GetUserStatusResponse{Status: proto.Clone(s).(*pluginpb.Status)}, nil
}

// GetUserStatusesByIds returns the statuses of users; any id with none,
// malformed ones included, is reported offline, as
// PlatformService.GetUserStatusesByIds does.
func (b *Backend) GetUserStatusesByIds(_ context.Context, req *pluginpb.GetUserStatusesByIdsRequest) (*pluginpb.GetUserStatusesByIdsResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]*pluginpb.Status, 0, len(req.GetUserIds()))
	for _, id := range req.GetUserIds() {
		if s, ok := b.statuses[id]; ok {
			out = append(out, proto.Clone(s).(*pluginpb.Status))
		} else {
			out = append(out, &pluginpb.Status{UserId: id, Status: statusOffline})
		}
	}
	return &pluginpb.GetUserStatusesByIdsResponse{Statuses: out}, nil
}

// setStatus changes the status of an existing user as the PlatformService
// setter of that status does (server/channels/app/platform/status.go@c3d51311):
// online is not manual and touches last_activity_at, offline replaces the
// status, away and dnd keep the rest of the status, or start from an
// offline one. dndEnd, when set, is a timed do-not-disturb's end. The
// caller holds the lock.
func (b *Backend) setStatus(userID, status string, dndEnd int64) (*pluginpb.Status, error) {
	if _, err := b.lookupUser(userID); err != nil {
		return nil, err
	}
	s, ok := b.statuses[userID]
	if ok {
		s = proto.Clone(s).(*pluginpb.Status)
	}
	switch status {
	case statusOnline:
		if !ok {
			s = &pluginpb.Status{UserId: userID}
		}
		s.Status, s.Manual, s.LastActivityAt = statusOnline, false, b.nowMillis()
	case statusOffline:
		s = &pluginpb.Status{UserId: userID, Status: statusOffline, Manual: true, LastActivityAt: b.nowMillis()}
	default:
		if !ok {
			s = &pluginpb.Status{UserId: userID, Status: statusOffline}
		}
		s.Status, s.Manual = status, true
		if status == statusAway {
			s.ActiveChannel = ""
		}
		if dndEnd != 0 {
			s.DndEndTime = dndEnd
		}
	}
	b.statuses[userID] = s
	return proto.Clone(s).(*pluginpb.Status), nil
}

// UpdateUserStatus sets a user's status as PluginAPI.UpdateUserStatus
// does: an unknown status is plugin.api.update_user_status.bad_status
// (400), then the status's setter runs with manual set.
func (b *Backend) UpdateUserStatus(_ context.Context, req *pluginpb.UpdateUserStatusRequest) (*pluginpb.UpdateUserStatusResponse, error) {
	switch req.GetStatus() {
	case statusOnline, statusAway, statusDND, statusOffline:
	default:
		return nil, apperror.New("plugin.api.update_user_status.bad_status",
			`Unrecognized status: "online", "away", "dnd" or "offline".`, "status="+req.GetStatus(), http.StatusBadRequest)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	s, err := b.setStatus(req.GetUserId(), req.GetStatus(), 0)
	if err != nil {
		return nil, err
	}
	return &pluginpb.UpdateUserStatusResponse{Status: s}, nil
}

// SetUserStatusTimedDND sets a user to do-not-disturb until end_time, in
// seconds since the Unix epoch, truncated to the minute as
// PlatformService.SetStatusDoNotDisturbTimed does (its expiry job runs
// every minute); the time is not checked.
func (b *Backend) SetUserStatusTimedDND(_ context.Context, req *pluginpb.SetUserStatusTimedDNDRequest) (*pluginpb.SetUserStatusTimedDNDResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	end := time.Unix(req.GetEndTime(), 0).Truncate(time.Minute).Unix()
	s, err := b.setStatus(req.GetUserId(), statusDND, end)
	if err != nil {
		return nil, err
	}
	return &pluginpb.SetUserStatusTimedDNDResponse{Status: s}, nil
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

// UpdateUserCustomStatus sets a user's custom status as
// PluginAPI.UpdateUserCustomStatus does through App.SetCustomStatus
// (server/channels/app/status.go@894b4f90): no status, or one with neither
// emoji nor text, is api.custom_status.set_custom_statuses.update.app_error
// (400), before the user lookup (app.user.missing_account.const, 404).
// Nothing else is checked or defaulted on that path (the text limit, the
// durations and the default emoji are the REST handler's and
// model.CustomStatus.PreSave's): model.User.SetCustomStatus stores the
// status as JSON in the "customStatus" prop, expires_at as a time
// (RFC 3339, the zero time for 0), and App.UpdateUser stores the user,
// who must stay valid. Then App.addRecentCustomStatus puts the status
// first in the user's custom_status/recent_custom_statuses preference
// (model.RecentCustomStatuses.Add: a status with the same text leaves,
// at most 5 kept); a failure there is only logged upstream, so here it
// leaves the preference alone.
func (b *Backend) UpdateUserCustomStatus(_ context.Context, req *pluginpb.UpdateUserCustomStatusRequest) (*pluginpb.UpdateUserCustomStatusResponse, error) {
	cs := req.GetCustomStatus()
	if cs.GetEmoji() == "" && cs.GetText() == "" {
		return nil, apperror.New("api.custom_status.set_custom_statuses.update.app_error",
			"Invalid custom status: it needs an emoji or a text.", "", http.StatusBadRequest)
	}
	status := customStatusJSON{Emoji: cs.GetEmoji(), Text: cs.GetText(), Duration: cs.GetDuration()}
	if ms := cs.GetExpiresAt(); ms != 0 {
		status.ExpiresAt = time.UnixMilli(ms).UTC()
	}
	value, err := json.Marshal(status)
	if err != nil {
		return nil, fmt.Errorf("encoding the custom status: %w", err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	old, err := b.lookupUser(req.GetUserId())
	if err != nil {
		return nil, err
	}
	u := proto.Clone(old).(*pluginpb.User)
	if u.Props == nil {
		u.Props = map[string]string{}
	}
	u.Props[customStatusProp] = string(value)
	if err := validateUser(u); err != nil {
		return nil, err
	}
	b.updateUser(u)
	b.addRecentCustomStatus(u.GetId(), status)
	return &pluginpb.UpdateUserCustomStatusResponse{}, nil
}

// customStatusJSON is model.CustomStatus as it is stored
// (server/public/model/custom_status.go@42c05bfe).
type customStatusJSON struct {
	Emoji     string    `json:"emoji"`
	Text      string    `json:"text"`
	Duration  string    `json:"duration"`
	ExpiresAt time.Time `json:"expires_at"`
}

// The preference of a user's recent custom statuses
// (model.PreferenceCategoryCustomStatus, PreferenceNameRecentCustomStatuses)
// and how many it keeps (model.MaxRecentCustomStatuses).
const (
	preferenceCategoryCustomStatus = "custom_status"
	preferenceRecentCustomStatuses = "recent_custom_statuses"
	maxRecentCustomStatuses        = 5
)

// addRecentCustomStatus is App.addRecentCustomStatus
// (server/channels/app/status.go@894b4f90): the status goes first in the
// list, whose statuses with the same text leave, and the list keeps 5; a
// stored value that is not such a list, or a list too long to save, is an
// error upstream only logs, so the preference stays. The caller holds the
// lock.
func (b *Backend) addRecentCustomStatus(userID string, status customStatusJSON) {
	recent := []customStatusJSON{status}
	if p, ok := b.preferences.get(userID, preferenceCategoryCustomStatus, preferenceRecentCustomStatuses); ok && p.GetValue() != "" {
		var stored []customStatusJSON
		if err := json.Unmarshal([]byte(p.GetValue()), &stored); err != nil {
			return
		}
		for _, s := range stored {
			if s.Text != status.Text {
				recent = append(recent, s)
			}
		}
	}
	recent = recent[:min(len(recent), maxRecentCustomStatuses)]
	value, err := json.Marshal(recent)
	if err != nil {
		return
	}
	// App.UpdatePreferences saves it: a value too long for
	// Preference.IsValid fails there, and is only logged.
	p := &pluginpb.Preference{UserId: userID, Category: preferenceCategoryCustomStatus, Name: preferenceRecentCustomStatuses, Value: string(value)}
	if validatePreference(p) != nil {
		return
	}
	b.preferences.put([]*pluginpb.Preference{p})
}

// RemoveUserCustomStatus clears a user's custom status as
// PluginAPI.RemoveUserCustomStatus does through App.RemoveCustomStatus
// (server/channels/app/status.go@894b4f90): App.GetUser (any id that names
// no user: app.user.missing_account.const, 404), then
// model.User.ClearCustomStatus (server/public/model/user.go@14e5a8a3),
// which sets the "customStatus" prop to "" rather than removing it, and
// App.UpdateUser, whose checks a stored user passes unchanged.
func (b *Backend) RemoveUserCustomStatus(_ context.Context, req *pluginpb.RemoveUserCustomStatusRequest) (*pluginpb.RemoveUserCustomStatusResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	old, err := b.lookupUser(req.GetUserId())
	if err != nil {
		return nil, err
	}
	u := proto.Clone(old).(*pluginpb.User)
	if u.Props == nil {
		u.Props = map[string]string{}
	}
	u.Props[customStatusProp] = ""
	b.updateUser(u)
	return &pluginpb.RemoveUserCustomStatusResponse{}, nil
}

// GetLDAPUserAttributes fails as on a server without LDAP, which this
// backend models.
func (b *Backend) GetLDAPUserAttributes(context.Context, *pluginpb.GetLDAPUserAttributesRequest) (*pluginpb.GetLDAPUserAttributesResponse, error) {
	return nil, apperror.New("ent.ldap.disabled.app_error", "LDAP is disabled, or this license does not support LDAP.",
		"", http.StatusNotImplemented)
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

// defaultProfileImage draws the image of a user who has not set one: a
// square in a colour derived from the user id, as Mattermost draws a
// coloured square behind the user's initial.
func defaultProfileImage(userID string) []byte {
	h := fnv.New32a()
	h.Write([]byte(userID))
	sum := h.Sum32()
	fill := color.NRGBA{R: uint8(sum), G: uint8(sum >> 8), B: uint8(sum >> 16), A: 255}
	img := image.NewNRGBA(image.Rect(0, 0, profileImageSize, profileImageSize))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = fill.R, fill.G, fill.B, fill.A
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img) // encoding an in-memory image into a buffer cannot fail
	return buf.Bytes()
}

// GetProfileImage returns a user's profile image, or the generated
// default.
func (b *Backend) GetProfileImage(_ context.Context, req *pluginpb.GetProfileImageRequest) (*pluginpb.GetProfileImageResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	u, err := b.lookupUser(req.GetUserId())
	if err != nil {
		return nil, err
	}
	if img, ok := b.profileImages[u.GetId()]; ok {
		return &pluginpb.GetProfileImageResponse{Data: bytes.Clone(img)}, nil
	}
	return &pluginpb.GetProfileImageResponse{Data: defaultProfileImage(u.GetId())}, nil
}

// SetProfileImage replaces a user's profile image with a square 128x128
// PNG made from the uploaded image.
func (b *Backend) SetProfileImage(_ context.Context, req *pluginpb.SetProfileImageRequest) (*pluginpb.SetProfileImageResponse, error) {
	b.mu.Lock()
	_, err := b.lookupUser(req.GetUserId())
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	img, err := squareImage(req.GetData(), profileImageSize, "api.user.upload_profile_user")
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	old, err := b.lookupUser(req.GetUserId())
	if err != nil {
		return nil, err
	}
	// App.SetProfileImageFromFile leaves the user alone when the stored
	// image is the same.
	if stored, ok := b.profileImages[old.GetId()]; ok && bytes.Equal(stored, img) {
		return &pluginpb.SetProfileImageResponse{}, nil
	}
	u := proto.Clone(old).(*pluginpb.User)
	u.LastPictureUpdate = b.nowMillis()
	b.updateUser(u)
	b.profileImages[u.GetId()] = img
	return &pluginpb.SetProfileImageResponse{}, nil
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
