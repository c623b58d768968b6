package memory

// This file holds the handlers of the users domain beyond the account
// itself: listings by team and channel, search, statuses, custom statuses,
// profile images, auth bindings and system roles.

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"hash/fnv"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

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
	customStatusTextMaxRunes = 100
	customStatusDefaultEmoji = "speech_balloon"
	customStatusProp         = "customStatus"
	userSearchDefaultLimit   = 100
	userSearchMaxLimit       = 1000
	profileImageSize         = 128
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
// app.user.missing_account.const (404); deactivating sets delete_at to
// now, also for a deactivated user. UserHasBeenDeactivated runs after an
// active user is deactivated.
func (b *Backend) UpdateUserActive(ctx context.Context, req *pluginpb.UpdateUserActiveRequest) (*pluginpb.UpdateUserActiveResponse, error) {
	b.mu.Lock()
	var deactivated *pluginpb.User
	var wasActive bool
	var err error
	if req.GetActive() {
		var old *pluginpb.User
		if old, err = b.lookupUser(req.GetUserId()); err == nil {
			u := proto.Clone(old).(*pluginpb.User)
			u.DeleteAt = 0
			b.updateUser(u)
		}
	} else {
		deactivated, wasActive, err = b.deactivateUser(req.GetUserId())
	}
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if wasActive {
		b.hooks.UserHasBeenDeactivated(ctx, deactivated)
	}
	return &pluginpb.UpdateUserActiveResponse{}, nil
}

// customStatusDurations are the accepted values of CustomStatus.duration.
var customStatusDurations = []string{"", "thirty_minutes", "one_hour", "four_hours", "today", "this_week", "date_and_time"}

// UpdateUserCustomStatus sets a user's custom status, which Mattermost
// keeps as JSON in the user's "customStatus" prop.
func (b *Backend) UpdateUserCustomStatus(_ context.Context, req *pluginpb.UpdateUserCustomStatusRequest) (*pluginpb.UpdateUserCustomStatusResponse, error) {
	if req.GetCustomStatus() == nil {
		return nil, invalidParam("custom_status")
	}
	cs := proto.Clone(req.GetCustomStatus()).(*pluginpb.CustomStatus)
	invalid := func(why string) error {
		return apperror.New("api.custom_status.set_custom_statuses.update.app_error",
			"Invalid custom status: "+why, "", http.StatusBadRequest)
	}
	switch {
	// App.SetCustomStatus refuses a status with neither emoji nor text
	// before it looks the user up.
	case cs.GetEmoji() == "" && cs.GetText() == "":
		return nil, invalid("it needs an emoji or a text.")
	case utf8.RuneCountInString(cs.GetText()) > customStatusTextMaxRunes:
		return nil, invalid("the text has more than 100 characters.")
	case !slices.Contains(customStatusDurations, cs.GetDuration()):
		return nil, invalid("unknown duration " + apperror.Truncate(cs.GetDuration(), apperror.MaxShortBytes) + ".")
	case cs.GetDuration() == "date_and_time" && cs.GetExpiresAt() == 0:
		return nil, invalid(`duration "date_and_time" needs expires_at.`)
	}
	if cs.GetEmoji() == "" && cs.GetText() != "" {
		cs.Emoji = customStatusDefaultEmoji
	}
	value, err := json.Marshal(map[string]any{
		"emoji": cs.GetEmoji(), "text": cs.GetText(), "duration": cs.GetDuration(), "expires_at": cs.GetExpiresAt(),
	})
	if err != nil {
		return nil, err
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
	b.updateUser(u)
	return &pluginpb.UpdateUserCustomStatusResponse{}, nil
}

// RemoveUserCustomStatus clears a user's custom status.
func (b *Backend) RemoveUserCustomStatus(_ context.Context, req *pluginpb.RemoveUserCustomStatusRequest) (*pluginpb.RemoveUserCustomStatusResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	old, err := b.lookupUser(req.GetUserId())
	if err != nil {
		return nil, err
	}
	u := proto.Clone(old).(*pluginpb.User)
	delete(u.Props, customStatusProp)
	b.updateUser(u)
	return &pluginpb.RemoveUserCustomStatusResponse{}, nil
}

// GetLDAPUserAttributes fails as on a server without LDAP, which this
// backend models.
func (b *Backend) GetLDAPUserAttributes(context.Context, *pluginpb.GetLDAPUserAttributesRequest) (*pluginpb.GetLDAPUserAttributesResponse, error) {
	return nil, apperror.New("ent.ldap.disabled.app_error", "LDAP is disabled, or this license does not support LDAP.",
		"", http.StatusNotImplemented)
}

// SearchUsers returns up to search.limit users, by username, whose
// username, nickname, first or last name or email starts with the term.
func (b *Backend) SearchUsers(_ context.Context, req *pluginpb.SearchUsersRequest) (*pluginpb.SearchUsersResponse, error) {
	s := req.GetSearch()
	if s == nil {
		return nil, invalidParam("search")
	}
	for name, id := range map[string]string{"team_id": s.GetTeamId(), "not_in_team_id": s.GetNotInTeamId(),
		"in_channel_id": s.GetInChannelId(), "not_in_channel_id": s.GetNotInChannelId()} {
		if id != "" && !isValidID(id) {
			return nil, invalidParam("search." + name)
		}
	}
	if s.GetLimit() < 0 || s.GetLimit() > userSearchMaxLimit {
		return nil, apperror.New("api.user.search_users.limit.app_error",
			"Invalid limit: 1 to 1,000, or 0 for 100.", "limit="+itoa(int(s.GetLimit())), http.StatusBadRequest)
	}
	limit := int(cmp.Or(s.GetLimit(), userSearchDefaultLimit))
	term := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(s.GetTerm(), "@")))
	o := &pluginpb.UserGetOptions{
		InTeamId: s.GetTeamId(), NotInTeamId: s.GetNotInTeamId(), InChannelId: s.GetInChannelId(),
		NotInChannelId: s.GetNotInChannelId(), InGroupId: s.GetInGroupId(), GroupConstrained: s.GetGroupConstrained(),
		WithoutTeam: s.GetWithoutTeam(), Active: !s.GetAllowInactive(), Role: s.GetRole(), Roles: s.GetRoles(),
		TeamRoles: s.GetTeamRoles(), ChannelRoles: s.GetChannelRoles(),
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var found []*pluginpb.User
	for _, st := range b.users.byID {
		u := st.user
		if !b.userMatches(u, o) {
			continue
		}
		fields := []string{u.GetUsername(), u.GetNickname(), u.GetFirstName(), u.GetLastName(), u.GetEmail()}
		if slices.ContainsFunc(fields, func(f string) bool { return strings.HasPrefix(strings.ToLower(f), term) }) {
			found = append(found, u)
		}
	}
	users := sortedUsers(found)
	return &pluginpb.SearchUsersResponse{Users: users[:min(limit, len(users))]}, nil
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

// UpdateUserAuth binds a user to an authentication service; the binding
// is unique per service.
func (b *Backend) UpdateUserAuth(_ context.Context, req *pluginpb.UpdateUserAuthRequest) (*pluginpb.UpdateUserAuthResponse, error) {
	a := req.GetUserAuth()
	if a == nil {
		return nil, invalidParam("user_auth")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	old, err := b.lookupUser(req.GetUserId())
	if err != nil {
		return nil, err
	}
	u := proto.Clone(old).(*pluginpb.User)
	u.AuthService = a.GetAuthService()
	u.AuthData = a.AuthData
	if err := validateUser(u); err != nil {
		return nil, err
	}
	if a.GetAuthService() != "" {
		for _, other := range b.users.byID {
			if other.user.GetId() != u.GetId() && other.user.GetAuthService() == a.GetAuthService() &&
				other.user.GetAuthData() == a.GetAuthData() {
				return nil, apperror.New("app.user.update_auth_data.existing.app_error",
					"Another user has this authentication binding.", "", http.StatusBadRequest)
			}
		}
	}
	b.updateUser(u)
	return &pluginpb.UpdateUserAuthResponse{UserAuth: &pluginpb.UserAuth{AuthData: u.AuthData, AuthService: u.GetAuthService()}}, nil
}

// UpdateUserRoles replaces a user's system roles, as App.UpdateUserRoles
// does: the user is looked up first, and a miss is
// app.user.missing_account.const with status 400 (App.UpdateUserRoles
// turns GetUser's 404 into a 400); then every role must exist
// (app.role.check_roles_exist.role_not_found, 400), a team or channel role
// included, as CheckRolesExist only asks whether the role exists.
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
	u := proto.Clone(old.user).(*pluginpb.User)
	u.Roles = strings.Join(strings.Fields(req.GetNewRoles()), " ")
	b.updateUser(u)
	return &pluginpb.UpdateUserRolesResponse{User: sanitized(u)}, nil
}
