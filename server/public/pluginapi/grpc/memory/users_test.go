package memory

import (
	"context"
	"crypto/sha256"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

func newUser(name string) *pluginpb.User {
	return &pluginpb.User{Username: name, Email: name + "@example.com", Password: "passw0rd!"}
}

func create(t *testing.T, b *Backend, u *pluginpb.User) *pluginpb.User {
	t.Helper()
	resp, err := b.CreateUser(context.Background(), &pluginpb.CreateUserRequest{User: u})
	if err != nil {
		t.Fatalf("CreateUser(%s) = %v", u.GetUsername(), err)
	}
	return resp.GetUser()
}

func TestCreateUser(t *testing.T) {
	b, clock := newTestBackend(t)
	// User.PreSave lower-cases the username and email and trims neither
	// (NormalizeUsername, NormalizeEmail, server/public/model/user.go@14e5a8a3).
	spaced := &pluginpb.User{Username: "  Alice ", Email: "spaced@example.com", Password: "passw0rd!"}
	if _, err := b.CreateUser(context.Background(), &pluginpb.CreateUserRequest{User: spaced}); err == nil {
		t.Fatal("CreateUser(\"  Alice \") succeeded; want model.user.is_valid.username.app_error")
	} else {
		wantErrorID(t, "CreateUser(\"  Alice \")", err, "model.user.is_valid.username.app_error", http.StatusBadRequest)
	}
	u := create(t, b, &pluginpb.User{Username: "Alice", Email: "Alice@Example.COM", Password: "passw0rd!", MfaSecret: "s"})
	if !isValidID(u.GetId()) {
		t.Errorf("id = %q; want a 26-character id", u.GetId())
	}
	now := clock.Now().UnixMilli()
	if u.GetUsername() != "alice" || u.GetEmail() != "alice@example.com" {
		t.Errorf("username, email = %q, %q; want them normalized", u.GetUsername(), u.GetEmail())
	}
	if u.GetCreateAt() != now || u.GetUpdateAt() != now || u.GetDeleteAt() != 0 {
		t.Errorf("timestamps = %d/%d/%d; want %d/%d/0", u.GetCreateAt(), u.GetUpdateAt(), u.GetDeleteAt(), now, now)
	}
	if u.GetPassword() != "" || u.GetMfaSecret() != "" {
		t.Errorf("returned user carries secrets: %q %q", u.GetPassword(), u.GetMfaSecret())
	}
	// UserService.CreateUser (server/channels/app/users/users.go@04165fd3)
	// makes the first user who is not a bot the system admin.
	if u.GetRoles() != "system_admin system_user" || u.GetLocale() != "en" || len(u.GetNotifyProps()) == 0 {
		t.Errorf("defaults = %q %q %v; want system_admin system_user, en and notify props", u.GetRoles(), u.GetLocale(), u.GetNotifyProps())
	}
	if other := create(t, b, newUser("bob")); other.GetId() == u.GetId() || other.GetRoles() != "system_user" {
		t.Errorf("second user = %q %q; want a new id, system_user", other.GetId(), other.GetRoles())
	}
}

func TestCreateUserInvalid(t *testing.T) {
	long := strings.Repeat("a", 65)
	tests := []struct {
		name string
		user *pluginpb.User
	}{
		{"nil user", nil},
		{"id set", &pluginpb.User{Id: newID(), Username: "x", Email: "x@example.com", Password: "passw0rd!"}},
		{"empty username", newUser("")},
		{"username too long", &pluginpb.User{Username: long, Email: "l@example.com", Password: "passw0rd!"}},
		{"username with space", &pluginpb.User{Username: "a b", Email: "ab@example.com", Password: "passw0rd!"}},
		{"username starts with digit", newUser("1abc")},
		{"reserved username", &pluginpb.User{Username: "channel", Email: "c@example.com", Password: "passw0rd!"}},
		{"bad email", &pluginpb.User{Username: "carol", Email: "not-an-email", Password: "passw0rd!"}},
		{"email with name", &pluginpb.User{Username: "carol", Email: "Carol <carol@example.com>", Password: "passw0rd!"}},
		{"short password", &pluginpb.User{Username: "carol", Email: "carol@example.com", Password: "short"}},
		{"password over 72 bytes", &pluginpb.User{Username: "carol", Email: "carol@example.com", Password: strings.Repeat("p", 73)}},
		{"nickname too long", &pluginpb.User{Username: "carol", Email: "carol@example.com", Password: "passw0rd!", Nickname: long}},
		{"a supported locale over 5 characters", &pluginpb.User{Username: "carol", Email: "carol@example.com", Password: "passw0rd!", Locale: "en_stmn"}},
		{"timezone over 256 runes", &pluginpb.User{Username: "carol", Email: "carol@example.com", Password: "passw0rd!", Timezone: map[string]string{"manualTimezone": strings.Repeat("z", 250)}}},
		{"props over 64 KiB", &pluginpb.User{Username: "carol", Email: "carol@example.com", Password: "passw0rd!", Props: bigMap(70000)}},
		{"notify props over 16 KiB", &pluginpb.User{Username: "carol", Email: "carol@example.com", Password: "passw0rd!", NotifyProps: bigMap(17000)}},
		{"auth data without service", &pluginpb.User{Username: "carol", Email: "carol@example.com", Password: "passw0rd!", AuthData: new(string("x"))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := newTestBackend(t)
			_, err := b.CreateUser(context.Background(), &pluginpb.CreateUserRequest{User: tt.user})
			wantAppError(t, "CreateUser", err, http.StatusBadRequest)
			if n := len(b.users.byID); n != 0 {
				t.Errorf("%d users stored after a rejected create", n)
			}
		})
	}
}

func TestCreateUserUnique(t *testing.T) {
	b, _ := newTestBackend(t)
	create(t, b, newUser("dave"))
	for _, u := range []*pluginpb.User{
		{Username: "DAVE", Email: "other@example.com", Password: "passw0rd!"},
		{Username: "other", Email: "Dave@example.com", Password: "passw0rd!"},
	} {
		_, err := b.CreateUser(context.Background(), &pluginpb.CreateUserRequest{User: u})
		wantAppError(t, "CreateUser(duplicate)", err, http.StatusBadRequest)
	}
}

func TestGetUserLookups(t *testing.T) {
	b, _ := newTestBackend(t)
	ctx := context.Background()
	erin := create(t, b, newUser("erin"))
	frank := create(t, b, newUser("frank"))

	r1, err := b.GetUser(ctx, &pluginpb.GetUserRequest{UserId: erin.GetId()})
	if err != nil || r1.GetUser().GetUsername() != "erin" {
		t.Errorf("GetUser(erin) = %v, %v", r1.GetUser(), err)
	}
	r2, err := b.GetUserByEmail(ctx, &pluginpb.GetUserByEmailRequest{Email: "ERIN@example.com"})
	if err != nil || r2.GetUser().GetId() != erin.GetId() {
		t.Errorf("GetUserByEmail(ERIN@) = %v, %v", r2.GetUser(), err)
	}
	r3, err := b.GetUserByUsername(ctx, &pluginpb.GetUserByUsernameRequest{Username: "Frank"})
	if err != nil || r3.GetUser().GetId() != frank.GetId() {
		t.Errorf("GetUserByUsername(Frank) = %v, %v", r3.GetUser(), err)
	}

	_, err = b.GetUser(ctx, &pluginpb.GetUserRequest{UserId: newID()})
	wantAppError(t, "GetUser(unknown)", err, http.StatusNotFound)
	_, err = b.GetUser(ctx, &pluginpb.GetUserRequest{UserId: "short"})
	wantAppError(t, "GetUser(malformed)", err, http.StatusNotFound)
	_, err = b.GetUserByEmail(ctx, &pluginpb.GetUserByEmailRequest{Email: "nobody@example.com"})
	wantAppError(t, "GetUserByEmail(unknown)", err, http.StatusNotFound)
	_, err = b.GetUserByUsername(ctx, &pluginpb.GetUserByUsernameRequest{Username: "nobody"})
	wantAppError(t, "GetUserByUsername(unknown)", err, http.StatusNotFound)

	byNames, err := b.GetUsersByUsernames(ctx, &pluginpb.GetUsersByUsernamesRequest{Usernames: []string{"erin", "nobody", "frank", "erin"}})
	if err != nil || len(byNames.GetUsers()) != 2 {
		t.Errorf("GetUsersByUsernames() = %d users, %v; want 2", len(byNames.GetUsers()), err)
	}
	byIDs, err := b.GetUsersByIds(ctx, &pluginpb.GetUsersByIdsRequest{UserIds: []string{frank.GetId(), newID(), "bad"}})
	if err != nil || len(byIDs.GetUsers()) != 1 || byIDs.GetUsers()[0].GetId() != frank.GetId() {
		t.Errorf("GetUsersByIds() = %v, %v; want frank only", byIDs.GetUsers(), err)
	}
}

func TestUpdateUser(t *testing.T) {
	b, clock := newTestBackend(t)
	ctx := context.Background()
	gina := create(t, b, newUser("gina"))
	create(t, b, newUser("hank"))
	clock.Advance(time.Minute)

	change := editable(gina)
	change.Nickname = "G"
	change.Email = "gina2@example.com"
	change.Roles = "system_admin system_user" // ignored
	change.CreateAt = 1                       // ignored
	resp, err := b.UpdateUser(ctx, &pluginpb.UpdateUserRequest{User: change})
	if err != nil {
		t.Fatalf("UpdateUser() = %v", err)
	}
	u := resp.GetUser()
	if u.GetNickname() != "G" || u.GetEmail() != "gina2@example.com" {
		t.Errorf("updated = %q %q", u.GetNickname(), u.GetEmail())
	}
	if u.GetRoles() != gina.GetRoles() || u.GetCreateAt() != gina.GetCreateAt() || u.GetUpdateAt() != clock.Now().UnixMilli() {
		t.Errorf("roles, create_at, update_at = %q %d %d; want kept, kept, now", u.GetRoles(), u.GetCreateAt(), u.GetUpdateAt())
	}
	// The old email is free again; the new one is taken.
	if _, err := b.GetUserByEmail(ctx, &pluginpb.GetUserByEmailRequest{Email: "gina@example.com"}); err == nil {
		t.Errorf("old email still resolves after the update")
	}
	clash := editable(u)
	clash.Username = "hank"
	_, err = b.UpdateUser(ctx, &pluginpb.UpdateUserRequest{User: clash})
	wantAppError(t, "UpdateUser(username clash)", err, http.StatusBadRequest)

	missing := editable(u)
	missing.Id = newID()
	_, err = b.UpdateUser(ctx, &pluginpb.UpdateUserRequest{User: missing})
	wantAppError(t, "UpdateUser(unknown)", err, http.StatusNotFound)
	_, err = b.UpdateUser(ctx, &pluginpb.UpdateUserRequest{})
	wantAppError(t, "UpdateUser(nil)", err, http.StatusBadRequest)
	bad := editable(u)
	bad.Email = "broken"
	_, err = b.UpdateUser(ctx, &pluginpb.UpdateUserRequest{User: bad})
	wantAppError(t, "UpdateUser(bad email)", err, http.StatusBadRequest)
	if got, _ := b.GetUser(ctx, &pluginpb.GetUserRequest{UserId: u.GetId()}); got.GetUser().GetEmail() != "gina2@example.com" {
		t.Errorf("a rejected update changed the user: %v", got.GetUser())
	}
}

func TestDeleteUserDeactivates(t *testing.T) {
	b, clock := newTestBackend(t)
	ctx := context.Background()
	ivan := create(t, b, newUser("ivan"))
	clock.Advance(time.Second)
	if _, err := b.DeleteUser(ctx, &pluginpb.DeleteUserRequest{UserId: ivan.GetId()}); err != nil {
		t.Fatalf("DeleteUser() = %v", err)
	}
	got, err := b.GetUser(ctx, &pluginpb.GetUserRequest{UserId: ivan.GetId()})
	if err != nil || got.GetUser().GetDeleteAt() != clock.Now().UnixMilli() {
		t.Fatalf("GetUser(deleted) = %v, %v; want the user with delete_at set", got.GetUser(), err)
	}
	// A deactivated user keeps its name.
	_, err = b.CreateUser(ctx, &pluginpb.CreateUserRequest{User: newUser("ivan")})
	wantAppError(t, "CreateUser(name of deactivated user)", err, http.StatusBadRequest)
	_, err = b.DeleteUser(ctx, &pluginpb.DeleteUserRequest{UserId: newID()})
	wantAppError(t, "DeleteUser(unknown)", err, http.StatusNotFound)
}

func TestGetUsers(t *testing.T) {
	b, clock := newTestBackend(t)
	ctx := context.Background()
	var ids []string
	for _, name := range []string{"mia", "leo", "kim", "jon"} {
		clock.Advance(time.Second)
		ids = append(ids, create(t, b, newUser(name)).GetId())
	}
	clock.Advance(time.Second)
	if _, err := b.DeleteUser(ctx, &pluginpb.DeleteUserRequest{UserId: ids[1]}); err != nil { // leo
		t.Fatal(err)
	}
	names := func(o *pluginpb.UserGetOptions) string {
		t.Helper()
		resp, err := b.GetUsers(ctx, &pluginpb.GetUsersRequest{Options: o})
		if err != nil {
			t.Fatalf("GetUsers(%v) = %v", o, err)
		}
		var out []string
		for _, u := range resp.GetUsers() {
			out = append(out, u.GetUsername())
		}
		return fmt.Sprint(out)
	}
	// SqlUserStore.GetAllProfiles (user_store.go@c3394c53) orders by
	// username and reads only role, roles, inactive (first) and active.
	// mia, the first user, is the system admin.
	tests := []struct {
		opts *pluginpb.UserGetOptions
		want string
	}{
		{&pluginpb.UserGetOptions{PerPage: 10}, "[jon kim leo mia]"},
		{&pluginpb.UserGetOptions{PerPage: 2, Page: 1}, "[leo mia]"},
		{&pluginpb.UserGetOptions{PerPage: 10, Active: true}, "[jon kim mia]"},
		{&pluginpb.UserGetOptions{PerPage: 10, Inactive: true}, "[leo]"},
		{&pluginpb.UserGetOptions{PerPage: 10, Active: true, Inactive: true}, "[leo]"},
		{&pluginpb.UserGetOptions{PerPage: 10, Sort: "update_at"}, "[jon kim leo mia]"},
		{&pluginpb.UserGetOptions{PerPage: 10, Sort: "shoe_size"}, "[jon kim leo mia]"},
		{&pluginpb.UserGetOptions{PerPage: 10, Role: "system_admin"}, "[mia]"},
		{&pluginpb.UserGetOptions{PerPage: 10, Role: "user"}, "[jon kim leo mia]"},
		{&pluginpb.UserGetOptions{PerPage: 10, Roles: []string{"x", "system_user"}}, "[jon kim leo]"},
		{&pluginpb.UserGetOptions{PerPage: 10, Roles: []string{"system_admin"}}, "[mia]"},
		{&pluginpb.UserGetOptions{PerPage: 10, Roles: []string{"x"}}, "[jon kim leo mia]"},
		{&pluginpb.UserGetOptions{PerPage: 10, InTeamId: newID()}, "[jon kim leo mia]"},
		{&pluginpb.UserGetOptions{PerPage: 10, UpdatedAfter: clock.Now().UnixMilli() - 1}, "[jon kim leo mia]"},
		{&pluginpb.UserGetOptions{PerPage: 10, ViewRestrictions: &pluginpb.ViewUsersRestrictions{}}, "[]"},
		{&pluginpb.UserGetOptions{PerPage: 0}, "[]"},
		{nil, "[]"},
	}
	for _, tt := range tests {
		if got := names(tt.opts); got != tt.want {
			t.Errorf("GetUsers(%v) = %s; want %s", tt.opts, got, tt.want)
		}
	}
	for _, bad := range []*pluginpb.UserGetOptions{
		{PerPage: -1},
		{Page: -1, PerPage: 1},
	} {
		_, err := b.GetUsers(ctx, &pluginpb.GetUsersRequest{Options: bad})
		wantAppError(t, fmt.Sprintf("GetUsers(%v)", bad), err, http.StatusBadRequest)
	}
}

// editable returns a copy of u to edit.
func editable(u *pluginpb.User) *pluginpb.User { return sanitized(u) }

// bigMap returns a map whose JSON encoding has at least n bytes.
func bigMap(n int) map[string]string {
	m := map[string]string{}
	for i := 0; i*20 < n; i++ {
		m[fmt.Sprintf("k%06d", i)] = "0123456789"
	}
	return m
}

func TestCreateUserValidLocalesAndTimezones(t *testing.T) {
	for _, locale := range []string{"", "en", "de", "pt-BR", "zh-CN"} {
		b, _ := newTestBackend(t)
		u := newUser("dave")
		u.Locale = locale
		u.Timezone = map[string]string{"useAutomaticTimezone": "false", "manualTimezone": "America/Argentina/ComodRivadavia"}
		if got := create(t, b, u); locale != "" && got.GetLocale() != locale {
			t.Errorf("locale = %q; want %q", got.GetLocale(), locale)
		}
	}
}

// TestDefaultNotifyProps checks the notify props of a new user and of a
// bot's user, keys and values, against model.User.SetDefaultNotifications
// (server/public/model/user.go@14e5a8a3465a1917af92f04340573ad22f01c263),
// which User.PreSave applies to a user saved without any; and a new
// channel member's against model.GetDefaultChannelNotifyProps
// (server/public/model/channel_member.go@04df596ca49e4c680e3b58f0c4a52cd37ba26d78).
func TestDefaultNotifyProps(t *testing.T) {
	want := map[string]string{
		"email": "true", "push": "mention", "desktop": "mention", "desktop_sound": "true",
		"mention_keys": "", "channel": "true", "push_status": "away", "comments": "never",
		"first_name": "false", "desktop_threads": "all", "email_threads": "all", "push_threads": "all",
	}
	w := newWorld(t)
	ctx := context.Background()
	bot, err := w.b.CreateBot(ctx, &pluginpb.CreateBotRequest{Bot: &pluginpb.Bot{Username: "helper"}})
	if err != nil {
		t.Fatal(err)
	}
	botUser, err := w.b.GetUser(ctx, &pluginpb.GetUserRequest{UserId: bot.GetBot().GetUserId()})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []*pluginpb.User{w.alice, botUser.GetUser()} {
		if got := u.GetNotifyProps(); !maps.Equal(got, want) {
			t.Errorf("notify props of %s = %v; want %v", u.GetUsername(), got, want)
		}
	}
	c := createChannel(t, w.b, &pluginpb.Channel{TeamId: w.team.GetId(), Type: channelOpen, Name: "dev", DisplayName: "Dev"})
	m, err := w.b.AddChannelMember(ctx, &pluginpb.AddChannelMemberRequest{ChannelId: c.GetId(), UserId: w.alice.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	wantMember := map[string]string{
		"desktop": "default", "mark_unread": "all", "push": "default", "email": "default",
		"ignore_channel_mentions": "default", "channel_auto_follow_threads": "off",
	}
	if got := m.GetChannelMember().GetNotifyProps(); !maps.Equal(got, wantMember) {
		t.Errorf("channel member notify props = %v; want %v", got, wantMember)
	}
}

// TestUserLookupsFollowTheAppLayer checks the lookups' misses against the
// app layer that upstream's plugin API calls
// (server/channels/app/plugin_api.go@f56166d6baa65d91684ba3b6455b65feef3ceace,
// PluginAPI.GetUser, GetUserByEmail, GetUserByUsername), not the REST
// handler's parameter checks: App.GetUser and App.GetUserByEmail answer a
// store miss with app.user.missing_account.const (404), App.GetUserByUsername
// with app.user.get_by_username.app_error (404)
// (server/channels/app/user.go@83b7daaffe3eb7318b7d86f2bafc6ac59c46c8d1), and
// the user store matches "Id = ?", "Email = lower(?)" and "Username = lower(?)"
// (server/channels/store/sqlstore/user_store.go@c3394c53460317bda6b3fe124dae970e206b5a4e,
// SqlUserStore.Get, GetByEmail, GetByUsername): a malformed id or an empty
// key is a miss, case is ignored and spaces are not.
func TestUserLookupsFollowTheAppLayer(t *testing.T) {
	b, _ := newTestBackend(t)
	ctx := context.Background()
	create(t, b, newUser("gina"))
	const missing, byUsername = "app.user.missing_account.const", "app.user.get_by_username.app_error"
	for _, tc := range []struct {
		name string
		call func() error
		id   string // "" when the lookup finds the user
	}{
		{"GetUser(malformed)", func() error {
			_, err := b.GetUser(ctx, &pluginpb.GetUserRequest{UserId: "short"})
			return err
		}, missing},
		{"GetUser(empty)", func() error {
			_, err := b.GetUser(ctx, &pluginpb.GetUserRequest{})
			return err
		}, missing},
		{"GetUserByEmail(unknown)", func() error {
			_, err := b.GetUserByEmail(ctx, &pluginpb.GetUserByEmailRequest{Email: "nobody@example.com"})
			return err
		}, missing},
		{"GetUserByEmail(empty)", func() error {
			_, err := b.GetUserByEmail(ctx, &pluginpb.GetUserByEmailRequest{})
			return err
		}, missing},
		{"GetUserByEmail(spaces)", func() error {
			_, err := b.GetUserByEmail(ctx, &pluginpb.GetUserByEmailRequest{Email: " gina@example.com"})
			return err
		}, missing},
		{"GetUserByEmail(upper case)", func() error {
			_, err := b.GetUserByEmail(ctx, &pluginpb.GetUserByEmailRequest{Email: "GINA@example.com"})
			return err
		}, ""},
		{"GetUserByUsername(unknown)", func() error {
			_, err := b.GetUserByUsername(ctx, &pluginpb.GetUserByUsernameRequest{Username: "nobody"})
			return err
		}, byUsername},
		{"GetUserByUsername(empty)", func() error {
			_, err := b.GetUserByUsername(ctx, &pluginpb.GetUserByUsernameRequest{})
			return err
		}, byUsername},
		{"GetUserByUsername(spaces)", func() error {
			_, err := b.GetUserByUsername(ctx, &pluginpb.GetUserByUsernameRequest{Username: "gina "})
			return err
		}, byUsername},
		{"GetUserByUsername(upper case)", func() error {
			_, err := b.GetUserByUsername(ctx, &pluginpb.GetUserByUsernameRequest{Username: "GINA"})
			return err
		}, ""},
	} {
		err := tc.call()
		if tc.id == "" {
			if err != nil {
				t.Errorf("%s = %v; want the user", tc.name, err)
			}
			continue
		}
		wantAppErrorID(t, tc.name, err, tc.id, http.StatusNotFound)
	}
}

// TestUsersFollowTheAppLayer checks the user calls against the app-layer
// functions the plugin path reaches: App.GetUser, App.UpdateUser,
// App.UpdateActive, App.UpdateUserActive and App.UpdateUserRoles
// (server/channels/app/user.go@83b7daaffe3eb7318b7d86f2bafc6ac59c46c8d1),
// App.SetCustomStatus (server/channels/app/status.go@894b4f902aea463cb9205ad7305348cea3239068)
// and PlatformService.GetStatus, GetUserStatusesByIds, SetStatusOnline and
// SetStatusDoNotDisturbTimed
// (server/channels/app/platform/status.go@c3d51311979fcf396ef33e6c62e5d26a016cabda).
func TestUsersFollowTheAppLayer(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, b *Backend, clock *fakeClock, alice *pluginpb.User)
	}{
		{"UpdateUser of a malformed id is the missing account", func(t *testing.T, b *Backend, _ *fakeClock, _ *pluginpb.User) {
			_, err := b.UpdateUser(ctx, &pluginpb.UpdateUserRequest{User: &pluginpb.User{Id: "nope", Username: "x", Email: "x@example.com"}})
			wantAppErrorID(t, "UpdateUser(nope)", err, "app.user.missing_account.const", http.StatusNotFound)
		}},
		{"DeleteUser of a malformed id is the missing account", func(t *testing.T, b *Backend, _ *fakeClock, _ *pluginpb.User) {
			_, err := b.DeleteUser(ctx, &pluginpb.DeleteUserRequest{UserId: "nope"})
			wantAppErrorID(t, "DeleteUser(nope)", err, "app.user.missing_account.const", http.StatusNotFound)
		}},
		{"deactivating a deactivated user stamps delete_at again", func(t *testing.T, b *Backend, clock *fakeClock, alice *pluginpb.User) {
			if _, err := b.DeleteUser(ctx, &pluginpb.DeleteUserRequest{UserId: alice.GetId()}); err != nil {
				t.Fatal(err)
			}
			clock.Advance(time.Second)
			if _, err := b.UpdateUserActive(ctx, &pluginpb.UpdateUserActiveRequest{UserId: alice.GetId()}); err != nil {
				t.Fatal(err)
			}
			got, _ := b.GetUser(ctx, &pluginpb.GetUserRequest{UserId: alice.GetId()})
			if got.GetUser().GetDeleteAt() != clock.Now().UnixMilli() {
				t.Errorf("delete_at = %d; want %d", got.GetUser().GetDeleteAt(), clock.Now().UnixMilli())
			}
		}},
		{"UpdateUserActive of a malformed id is the missing account", func(t *testing.T, b *Backend, _ *fakeClock, _ *pluginpb.User) {
			_, err := b.UpdateUserActive(ctx, &pluginpb.UpdateUserActiveRequest{UserId: "nope", Active: true})
			wantAppErrorID(t, "UpdateUserActive(nope)", err, "app.user.missing_account.const", http.StatusNotFound)
		}},
		{"GetProfileImage of a malformed id is the missing account", func(t *testing.T, b *Backend, _ *fakeClock, _ *pluginpb.User) {
			_, err := b.GetProfileImage(ctx, &pluginpb.GetProfileImageRequest{UserId: "nope"})
			wantAppErrorID(t, "GetProfileImage(nope)", err, "app.user.missing_account.const", http.StatusNotFound)
		}},
		{"GetUserStatus of a malformed id is the missing status", func(t *testing.T, b *Backend, _ *fakeClock, _ *pluginpb.User) {
			_, err := b.GetUserStatus(ctx, &pluginpb.GetUserStatusRequest{UserId: "nope"})
			wantAppErrorID(t, "GetUserStatus(nope)", err, "app.status.get.missing.app_error", http.StatusNotFound)
		}},
		{"GetUserStatusesByIds reports a malformed id offline", func(t *testing.T, b *Backend, _ *fakeClock, _ *pluginpb.User) {
			got, err := b.GetUserStatusesByIds(ctx, &pluginpb.GetUserStatusesByIdsRequest{UserIds: []string{"nope"}})
			if err != nil || len(got.GetStatuses()) != 1 || got.GetStatuses()[0].GetStatus() != statusOffline {
				t.Errorf("GetUserStatusesByIds(nope) = %v, %v; want nope offline", got, err)
			}
		}},
		{"online is not manual; dnd keeps the last activity", func(t *testing.T, b *Backend, clock *fakeClock, alice *pluginpb.User) {
			on, err := b.UpdateUserStatus(ctx, &pluginpb.UpdateUserStatusRequest{UserId: alice.GetId(), Status: statusOnline})
			if err != nil || on.GetStatus().GetManual() || on.GetStatus().GetLastActivityAt() != clock.Now().UnixMilli() {
				t.Errorf("UpdateUserStatus(online) = %v, %v; want not manual, active now", on, err)
			}
			clock.Advance(time.Hour)
			dnd, err := b.UpdateUserStatus(ctx, &pluginpb.UpdateUserStatusRequest{UserId: alice.GetId(), Status: statusDND})
			if err != nil || !dnd.GetStatus().GetManual() || dnd.GetStatus().GetLastActivityAt() != on.GetStatus().GetLastActivityAt() {
				t.Errorf("UpdateUserStatus(dnd) = %v, %v; want manual, the online status's last activity", dnd, err)
			}
		}},
		{"a timed dnd in the past is set, truncated to the minute", func(t *testing.T, b *Backend, _ *fakeClock, alice *pluginpb.User) {
			got, err := b.SetUserStatusTimedDND(ctx, &pluginpb.SetUserStatusTimedDNDRequest{UserId: alice.GetId(), EndTime: 1_000_000_059})
			if err != nil || got.GetStatus().GetDndEndTime() != 1_000_000_020 || got.GetStatus().GetStatus() != statusDND {
				t.Errorf("SetUserStatusTimedDND(past) = %v, %v; want dnd until 1000000020", got, err)
			}
		}},
		{"GetUsersInTeam of a malformed team has nobody", func(t *testing.T, b *Backend, _ *fakeClock, _ *pluginpb.User) {
			got, err := b.GetUsersInTeam(ctx, &pluginpb.GetUsersInTeamRequest{TeamId: "nope", PerPage: 10})
			if err != nil || len(got.GetUsers()) != 0 {
				t.Errorf("GetUsersInTeam(nope) = %v, %v; want none", got, err)
			}
		}},
		{"GetUsersInChannel of an unknown channel has nobody", func(t *testing.T, b *Backend, _ *fakeClock, _ *pluginpb.User) {
			got, err := b.GetUsersInChannel(ctx, &pluginpb.GetUsersInChannelRequest{ChannelId: newID(), SortBy: "username", PerPage: 10})
			if err != nil || len(got.GetUsers()) != 0 {
				t.Errorf("GetUsersInChannel(unknown) = %v, %v; want none", got, err)
			}
		}},
		{"UpdateUserRoles of an unknown user is the missing account as a 400", func(t *testing.T, b *Backend, _ *fakeClock, _ *pluginpb.User) {
			_, err := b.UpdateUserRoles(ctx, &pluginpb.UpdateUserRolesRequest{UserId: newID(), NewRoles: "no_such_role"})
			wantAppErrorID(t, "UpdateUserRoles(unknown)", err, "app.user.missing_account.const", http.StatusBadRequest)
		}},
		{"UpdateUserRoles takes any existing role", func(t *testing.T, b *Backend, _ *fakeClock, alice *pluginpb.User) {
			got, err := b.UpdateUserRoles(ctx, &pluginpb.UpdateUserRolesRequest{UserId: alice.GetId(), NewRoles: "system_user team_user"})
			if err != nil || got.GetUser().GetRoles() != "system_user team_user" {
				t.Errorf("UpdateUserRoles(team_user) = %v, %v", got, err)
			}
		}},
		{"a custom status with neither emoji nor text is refused", func(t *testing.T, b *Backend, _ *fakeClock, alice *pluginpb.User) {
			_, err := b.UpdateUserCustomStatus(ctx, &pluginpb.UpdateUserCustomStatusRequest{UserId: alice.GetId(), CustomStatus: &pluginpb.CustomStatus{}})
			wantAppErrorID(t, "UpdateUserCustomStatus(empty)", err, "api.custom_status.set_custom_statuses.update.app_error", http.StatusBadRequest)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, clock := newTestBackend(t)
			// The first user is the system admin; alice is a user.
			create(t, b, newUser("root"))
			tt.run(t, b, clock, create(t, b, newUser("alice")))
		})
	}
}

// TestDeactivationFollowsUpdateActive pins App.UpdateActive's side effects
// (server/channels/app/user.go@83b7daaf:App.UpdateActive,
// App.userDeactivated; bot.go@0bc448c3:App.disableUserBots): sessions
// revoked, status offline unless set by hand, the owner's live bots
// deactivated while DisableBotsWhenOwnerIsDeactivated is on, and
// UserHasBeenDeactivated on every deactivation.
func TestDeactivationFollowsUpdateActive(t *testing.T) {
	tests := []struct {
		name        string
		disableBots any // the setting, or nil for the default (on)
		manual      bool
		wantBotOff  bool
		wantStatus  string
	}{
		{"default", nil, false, true, statusOffline},
		{"bots kept", false, false, false, statusOffline},
		{"manual status kept", true, true, true, statusDND},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := newTestBackend(t)
			h := &gateHooks{}
			b.hooks = h
			ctx := context.Background()
			if tt.disableBots != nil {
				section(b.config, "ServiceSettings")["DisableBotsWhenOwnerIsDeactivated"] = tt.disableBots
			}
			owner := create(t, b, newUser("owner"))
			bot, err := b.CreateBot(ctx, &pluginpb.CreateBotRequest{Bot: &pluginpb.Bot{Username: "helper", OwnerId: owner.GetId()}})
			if err != nil {
				t.Fatal(err)
			}
			session, err := b.CreateSession(ctx, &pluginpb.CreateSessionRequest{Session: &pluginpb.Session{UserId: owner.GetId()}})
			if err != nil {
				t.Fatal(err)
			}
			status := statusOnline
			if tt.manual {
				status = statusDND
			}
			if _, err := b.UpdateUserStatus(ctx, &pluginpb.UpdateUserStatusRequest{UserId: owner.GetId(), Status: status}); err != nil {
				t.Fatal(err)
			}
			if _, err := b.UpdateUserActive(ctx, &pluginpb.UpdateUserActiveRequest{UserId: owner.GetId()}); err != nil {
				t.Fatal(err)
			}
			if _, err := b.GetSession(ctx, &pluginpb.GetSessionRequest{SessionId: session.GetSession().GetId()}); err == nil {
				t.Error("the deactivated user's session survived")
			}
			st, err := b.GetUserStatus(ctx, &pluginpb.GetUserStatusRequest{UserId: owner.GetId()})
			if err != nil || st.GetStatus().GetStatus() != tt.wantStatus {
				t.Errorf("status = %v, %v; want %s", st.GetStatus(), err, tt.wantStatus)
			}
			got, err := b.GetBot(ctx, &pluginpb.GetBotRequest{BotUserId: bot.GetBot().GetUserId(), IncludeDeleted: true})
			if err != nil || (got.GetBot().GetDeleteAt() != 0) != tt.wantBotOff {
				t.Errorf("bot = %v, %v; want deactivated %v", got.GetBot(), err, tt.wantBotOff)
			}
			want := "[UserHasBeenDeactivated:owner]"
			if tt.wantBotOff {
				want = "[UserHasBeenDeactivated:helper UserHasBeenDeactivated:owner]"
			}
			if got := fmtList(h.seen()); got != want {
				t.Errorf("hooks = %s; want %s", got, want)
			}
		})
	}
}

// TestTokenSessionOutlivesDeactivation: a personal access token's session
// goes with the deactivation, and the token gets a new one at its next use
// once the user is active again, as App.GetSession makes it
// (server/channels/app/session.go@f778ee58:App.createSessionForUserAccessToken).
func TestTokenSessionOutlivesDeactivation(t *testing.T) {
	b, _ := newTestBackend(t)
	ctx := context.Background()
	bot, err := b.CreateBot(ctx, &pluginpb.CreateBotRequest{Bot: &pluginpb.Bot{Username: "helper"}})
	if err != nil {
		t.Fatal(err)
	}
	id := bot.GetBot().GetUserId()
	token, err := b.CreateUserAccessToken(ctx, &pluginpb.CreateUserAccessTokenRequest{Token: &pluginpb.UserAccessToken{UserId: id}})
	if err != nil {
		t.Fatal(err)
	}
	secret := token.GetToken().GetToken()
	for _, step := range []struct {
		active bool
		want   bool
	}{{false, false}, {true, true}} {
		if _, err := b.UpdateBotActive(ctx, &pluginpb.UpdateBotActiveRequest{BotUserId: id, Active: step.active}); err != nil {
			t.Fatal(err)
		}
		if _, ok := b.SessionByToken(secret); ok != step.want {
			t.Errorf("active %v: SessionByToken = %v; want %v", step.active, ok, step.want)
		}
	}
}

// TestUpdateUserRolesFollowsTheAppLayer pins
// server/channels/app/user.go@83b7daaf:App.UpdateUserRolesWithUser: the
// last active system admin keeps the role, roles are stored as given, and
// the user's sessions take them.
func TestUpdateUserRolesFollowsTheAppLayer(t *testing.T) {
	b, _ := newTestBackend(t)
	ctx := context.Background()
	admin := create(t, b, newUser("admin"))
	other := create(t, b, newUser("other"))
	set := func(id, roles string) error {
		_, err := b.UpdateUserRoles(ctx, &pluginpb.UpdateUserRolesRequest{UserId: id, NewRoles: roles})
		return err
	}
	if err := set(admin.GetId(), "system_user  system_admin"); err != nil {
		t.Fatal(err)
	}
	session, err := b.CreateSession(ctx, &pluginpb.CreateSessionRequest{Session: &pluginpb.Session{UserId: admin.GetId()}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, id, roles string
		wantID          string
	}{
		{"last admin", admin.GetId(), "system_user", "app.user.update.lastAdmin.app_error"},
		{"unknown role first", admin.GetId(), "nobody", "app.role.check_roles_exist.role_not_found"},
		{"not an admin", other.GetId(), "system_user", ""},
		{"a second admin", other.GetId(), "system_admin system_user", ""},
		{"no longer the last", admin.GetId(), " system_user ", ""},
		{"the last again", other.GetId(), "", "app.user.update.lastAdmin.app_error"},
	}
	for _, tt := range tests {
		err := set(tt.id, tt.roles)
		if tt.wantID != "" {
			wantAppErrorID(t, tt.name, err, tt.wantID, http.StatusBadRequest)
		} else if err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	u, _ := b.GetUser(ctx, &pluginpb.GetUserRequest{UserId: admin.GetId()})
	s, _ := b.GetSession(ctx, &pluginpb.GetSessionRequest{SessionId: session.GetSession().GetId()})
	if u.GetUser().GetRoles() != " system_user " || s.GetSession().GetRoles() != " system_user " {
		t.Errorf("roles = %q, session roles = %q; want both %q", u.GetUser().GetRoles(), s.GetSession().GetRoles(), " system_user ")
	}
}

// TestUpdateUserAuthFollowsTheStore pins SqlUserStore.UpdateAuthData
// (server/channels/store/sqlstore/user_store.go@c3394c53): an UPDATE by
// id, the unique key on AuthData, the password cleared.
func TestUpdateUserAuthFollowsTheStore(t *testing.T) {
	b, _ := newTestBackend(t)
	ctx := context.Background()
	alice := create(t, b, newUser("alice"))
	bob := create(t, b, newUser("bob"))
	bind := func(id, service, data string) (*pluginpb.UpdateUserAuthResponse, error) {
		return b.UpdateUserAuth(ctx, &pluginpb.UpdateUserAuthRequest{UserId: id,
			UserAuth: &pluginpb.UserAuth{AuthService: service, AuthData: proto.String(data)}})
	}
	if resp, err := bind(newID(), "gitlab", "42"); err != nil || resp.GetUserAuth().GetAuthData() != "42" {
		t.Errorf("UpdateUserAuth(unknown user) = %v, %v; want the binding back", resp, err)
	}
	if _, err := bind(alice.GetId(), "gitlab", "42"); err != nil {
		t.Fatal(err)
	}
	_, err := bind(bob.GetId(), "saml", "42")
	wantAppErrorID(t, "UpdateUserAuth(taken auth data)", err, "app.user.update_auth_data.email_exists.app_error", http.StatusBadRequest)
	if _, ok := b.users.byID[alice.GetId()]; !ok || b.users.byID[alice.GetId()].passwordHash != sha256.Sum256(nil) {
		t.Error("the password was not cleared")
	}
}

// TestUsernamesOfGroups pins App.isUniqueToGroupNames
// (server/channels/app/user.go@83b7daaf): a username that is a group's
// name, a deleted group's included, is taken.
func TestUsernamesOfGroups(t *testing.T) {
	b, _ := newTestBackend(t)
	ctx := context.Background()
	b.groups.byID[newID()] = &pluginpb.Group{Name: proto.String("devs"), DeleteAt: 1}
	_, err := b.CreateUser(ctx, &pluginpb.CreateUserRequest{User: newUser("devs")})
	wantAppErrorID(t, "CreateUser(group name)", err, "app.user.save.username_exists.app_error", http.StatusBadRequest)
	u := create(t, b, newUser("dana"))
	u.Username = "devs"
	_, err = b.UpdateUser(ctx, &pluginpb.UpdateUserRequest{User: u})
	wantAppErrorID(t, "UpdateUser(group name)", err, "app.user.save.username_exists.app_error", http.StatusBadRequest)
}

// TestSearchUsersFollowsTheStore pins App.SearchUsers and
// SqlUserStore.performSearch (user_store.go@c3394c53) on the plugin path:
// username and nickname only, every word a substring, limit as given.
func TestSearchUsersFollowsTheStore(t *testing.T) {
	b, _ := newTestBackend(t)
	ctx := context.Background()
	team := createTeam(t, b, newTeam("core"))
	for _, u := range []*pluginpb.User{
		{Username: "ann", Email: "ann@example.com", Nickname: "Captain", FirstName: "Zed", Password: "passw0rd!"},
		{Username: "bob", Email: "bob@example.com", Nickname: "cap", Password: "passw0rd!"},
		{Username: "cat", Email: "zed@example.com", Password: "passw0rd!"},
	} {
		created := create(t, b, u)
		if u.GetUsername() != "cat" {
			join(t, b, team.GetId(), created.GetId())
		}
	}
	tests := []struct {
		search *pluginpb.UserSearch
		want   string
	}{
		{&pluginpb.UserSearch{Term: "zed", Limit: 10}, "[]"},
		{&pluginpb.UserSearch{Term: " CAP ", Limit: 10}, "[ann bob]"},
		{&pluginpb.UserSearch{Term: "@an tain", Limit: 10}, "[ann]"},
		{&pluginpb.UserSearch{Term: "n", Limit: 10, TeamId: team.GetId()}, "[ann]"},
		{&pluginpb.UserSearch{Term: "a", Limit: 10, TeamId: team.GetId()}, "[ann bob]"},
		{&pluginpb.UserSearch{Term: "", Limit: 10, NotInTeamId: team.GetId()}, "[cat]"},
		{&pluginpb.UserSearch{Term: "", Limit: 2}, "[ann bob]"},
		{&pluginpb.UserSearch{Term: "", Limit: 0}, "[]"},
		{&pluginpb.UserSearch{Term: "", Limit: 5000}, "[ann bob cat]"},
	}
	for _, tt := range tests {
		resp, err := b.SearchUsers(ctx, &pluginpb.SearchUsersRequest{Search: tt.search})
		var got []string
		for _, u := range resp.GetUsers() {
			got = append(got, u.GetUsername())
		}
		if err != nil || fmt.Sprint(got) != tt.want {
			t.Errorf("SearchUsers(%v) = %v, %v; want %s", tt.search, got, err, tt.want)
		}
	}
}

// TestGetUsersByUsernamesMatchesExactly pins
// SqlUserStore.GetProfilesByUsernames (user_store.go@c3394c53): an exact
// "Username IN (...)" match, by username.
func TestGetUsersByUsernamesMatchesExactly(t *testing.T) {
	b, _ := newTestBackend(t)
	ctx := context.Background()
	for _, name := range []string{"zoe", "adam"} {
		create(t, b, newUser(name))
	}
	resp, err := b.GetUsersByUsernames(ctx, &pluginpb.GetUsersByUsernamesRequest{Usernames: []string{"zoe", "Adam", " adam", "adam", "zoe"}})
	var got []string
	for _, u := range resp.GetUsers() {
		got = append(got, u.GetUsername())
	}
	if err != nil || fmt.Sprint(got) != "[adam zoe]" {
		t.Errorf("GetUsersByUsernames = %v, %v; want [adam zoe]", got, err)
	}
}
