package memory

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

func TestSessions(t *testing.T) {
	b, _ := newTestBackend(t)
	ctx := context.Background()
	u := create(t, b, newUser("alice"))
	created, err := b.CreateSession(ctx, &pluginpb.CreateSessionRequest{Session: &pluginpb.Session{UserId: u.GetId()}})
	if err != nil {
		t.Fatal(err)
	}
	s := created.GetSession()
	if !isValidID(s.GetId()) || s.GetToken() == "" || s.GetRoles() != u.GetRoles() {
		t.Errorf("session = %v; want id, token and the user's roles", s)
	}
	if _, err := b.ExtendSessionExpiry(ctx, &pluginpb.ExtendSessionExpiryRequest{SessionId: s.GetId(), NewExpiry: 42}); err != nil {
		t.Fatal(err)
	}
	got, err := b.GetSession(ctx, &pluginpb.GetSessionRequest{SessionId: s.GetId()})
	if err != nil || got.GetSession().GetExpiresAt() != 42 {
		t.Errorf("GetSession = %v, %v; want expiry 42", got, err)
	}
	if _, err := b.RevokeSession(ctx, &pluginpb.RevokeSessionRequest{SessionId: s.GetId()}); err != nil {
		t.Fatal(err)
	}
	_, err = b.RevokeSession(ctx, &pluginpb.RevokeSessionRequest{SessionId: s.GetId()})
	wantAppError(t, "RevokeSession(twice)", err, http.StatusBadRequest)
	// App.GetSessionById answers any failure with a 400
	// (server/channels/app/session.go@f778ee58).
	_, err = b.GetSession(ctx, &pluginpb.GetSessionRequest{SessionId: s.GetId()})
	wantAppError(t, "GetSession(revoked)", err, http.StatusBadRequest)
	_, err = b.CreateSession(ctx, &pluginpb.CreateSessionRequest{Session: &pluginpb.Session{UserId: newID()}})
	wantAppError(t, "CreateSession(unknown user)", err, http.StatusNotFound)
}

// TestSessionsFollowTheAppLayer checks the plugin path's sessions against
// upstream's: server/channels/app/plugin_api.go@f56166d6 (PluginAPI.GetSession,
// CreateSession, ExtendSessionExpiry, RevokeSession, CreateUserAccessToken,
// RevokeUserAccessToken), server/channels/app/session.go@f778ee58
// (App.GetSessionById, App.CreateSession, App.RevokeSessionById,
// App.CreateUserAccessToken, App.GetUserAccessToken),
// server/channels/app/platform/session.go@532f6fba
// (PlatformService.CreateSession drops the caller's token) and
// server/channels/store/sqlstore/session_store.go@71377a41
// (SqlSessionStore.Get finds a session by id or token).
func TestSessionsFollowTheAppLayer(t *testing.T) {
	b, _ := newTestBackend(t)
	ctx := context.Background()
	u := create(t, b, newUser("alice"))
	created, err := b.CreateSession(ctx, &pluginpb.CreateSessionRequest{Session: &pluginpb.Session{UserId: u.GetId(), Token: "chosen-by-the-caller"}})
	if err != nil {
		t.Fatal(err)
	}
	s := created.GetSession()
	if s.GetToken() == "chosen-by-the-caller" || s.GetToken() == "" {
		t.Errorf("token = %q; want a new one, the caller's dropped", s.GetToken())
	}
	byToken, err := b.GetSession(ctx, &pluginpb.GetSessionRequest{SessionId: s.GetToken()})
	if err != nil || byToken.GetSession().GetId() != s.GetId() {
		t.Errorf("GetSession(token) = %v, %v; want the session", byToken, err)
	}
	if _, err := b.ExtendSessionExpiry(ctx, &pluginpb.ExtendSessionExpiryRequest{SessionId: s.GetToken(), NewExpiry: -5}); err != nil {
		t.Errorf("ExtendSessionExpiry(token, -5) = %v; want no check of the time", err)
	}
	bot := create(t, b, &pluginpb.User{Username: "robot", Email: "robot@example.com", Password: "passw0rd!", IsBot: true})
	long := strings.Repeat("d", userAccessTokenDescriptionMaxRunes+1)
	tests := []struct {
		name   string
		call   func() error
		id     string
		status int
	}{
		{"GetSession(malformed)", func() error {
			_, err := b.GetSession(ctx, &pluginpb.GetSessionRequest{SessionId: "bad"})
			return err
		}, "app.session.get.app_error", http.StatusBadRequest},
		{"CreateSession(with an id)", func() error {
			_, err := b.CreateSession(ctx, &pluginpb.CreateSessionRequest{Session: &pluginpb.Session{Id: newID(), UserId: u.GetId()}})
			return err
		}, "app.session.save.existing.app_error", http.StatusBadRequest},
		{"ExtendSessionExpiry(unknown)", func() error {
			_, err := b.ExtendSessionExpiry(ctx, &pluginpb.ExtendSessionExpiryRequest{SessionId: "bad", NewExpiry: 1})
			return err
		}, "app.session.get_sessions.app_error", http.StatusInternalServerError},
		{"CreateUserAccessToken(person, long description)", func() error {
			_, err := b.CreateUserAccessToken(ctx, &pluginpb.CreateUserAccessTokenRequest{Token: &pluginpb.UserAccessToken{UserId: u.GetId(), Description: long}})
			return err
		}, "app.user_access_token.disabled", http.StatusNotImplemented},
		{"RevokeUserAccessToken(malformed)", func() error {
			_, err := b.RevokeUserAccessToken(ctx, &pluginpb.RevokeUserAccessTokenRequest{TokenId: "bad"})
			return err
		}, "app.user_access_token.get_by_user.app_error", http.StatusNotFound},
	}
	for _, tt := range tests {
		wantAppErrorID(t, tt.name, tt.call(), tt.id, tt.status)
	}
	if _, err := b.RevokeSession(ctx, &pluginpb.RevokeSessionRequest{SessionId: s.GetToken()}); err != nil {
		t.Errorf("RevokeSession(token) = %v", err)
	}
	if _, ok := b.sessions.byID[s.GetId()]; ok {
		t.Errorf("RevokeSession(token) kept the session")
	}
	if _, err := b.UpdateUserActive(ctx, &pluginpb.UpdateUserActiveRequest{UserId: bot.GetId(), Active: false}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.CreateUserAccessToken(ctx, &pluginpb.CreateUserAccessTokenRequest{Token: &pluginpb.UserAccessToken{UserId: bot.GetId()}}); err != nil {
		t.Errorf("CreateUserAccessToken(deactivated bot) = %v; upstream checks no activity", err)
	}
}

func TestUserAccessTokens(t *testing.T) {
	b, _ := newTestBackend(t)
	ctx := context.Background()
	human := create(t, b, newUser("alice"))
	_, err := b.CreateUserAccessToken(ctx, &pluginpb.CreateUserAccessTokenRequest{Token: &pluginpb.UserAccessToken{UserId: human.GetId()}})
	wantAppError(t, "CreateUserAccessToken(human)", err, http.StatusNotImplemented)
	bot := create(t, b, &pluginpb.User{Username: "robot", Email: "robot@example.com", Password: "passw0rd!", IsBot: true})
	resp, err := b.CreateUserAccessToken(ctx, &pluginpb.CreateUserAccessTokenRequest{Token: &pluginpb.UserAccessToken{UserId: bot.GetId(), Description: "ci"}})
	if err != nil {
		t.Fatal(err)
	}
	tok := resp.GetToken()
	if !tok.GetIsActive() || tok.GetToken() == "" {
		t.Errorf("token = %v", tok)
	}
	if len(b.sessions.byID) != 1 {
		t.Errorf("sessions = %d; want the token's session", len(b.sessions.byID))
	}
	if _, err := b.RevokeUserAccessToken(ctx, &pluginpb.RevokeUserAccessTokenRequest{TokenId: tok.GetId()}); err != nil {
		t.Fatal(err)
	}
	if len(b.sessions.byID) != 0 {
		t.Errorf("the token's session survived its revocation")
	}
	_, err = b.RevokeUserAccessToken(ctx, &pluginpb.RevokeUserAccessTokenRequest{TokenId: tok.GetId()})
	wantAppError(t, "RevokeUserAccessToken(twice)", err, http.StatusNotFound)
}

func TestPermissions(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	town, _ := w.b.GetChannelByName(ctx, &pluginpb.GetChannelByNameRequest{TeamId: w.team.GetId(), Name: townSquare})
	if _, err := w.b.UpdateTeamMemberRoles(ctx, &pluginpb.UpdateTeamMemberRolesRequest{TeamId: w.team.GetId(), UserId: w.alice.GetId(), NewRoles: "team_user team_admin"}); err != nil {
		t.Fatal(err)
	}
	admin := create(t, w.b, &pluginpb.User{Username: "root", Email: "root@example.com", Password: "passw0rd!"})
	if _, err := w.b.UpdateUserRoles(ctx, &pluginpb.UpdateUserRolesRequest{UserId: admin.GetId(), NewRoles: "system_user system_admin"}); err != nil {
		t.Fatal(err)
	}
	perm := func(id string) *pluginpb.Permission { return &pluginpb.Permission{Id: id} }
	tests := []struct {
		name string
		ask  func() (bool, error)
		want bool
	}{
		{"user creates a team", func() (bool, error) {
			r, err := w.b.HasPermissionTo(ctx, &pluginpb.HasPermissionToRequest{UserId: w.bob.GetId(), Permission: perm("create_team")})
			return r.GetHasPermission(), err
		}, true},
		{"user manages the system", func() (bool, error) {
			r, err := w.b.HasPermissionTo(ctx, &pluginpb.HasPermissionToRequest{UserId: w.bob.GetId(), Permission: perm("manage_system")})
			return r.GetHasPermission(), err
		}, false},
		{"admin manages the system", func() (bool, error) {
			r, err := w.b.HasPermissionTo(ctx, &pluginpb.HasPermissionToRequest{UserId: admin.GetId(), Permission: perm("manage_system")})
			return r.GetHasPermission(), err
		}, true},
		{"team admin manages the team", func() (bool, error) {
			r, err := w.b.HasPermissionToTeam(ctx, &pluginpb.HasPermissionToTeamRequest{UserId: w.alice.GetId(), TeamId: w.team.GetId(), Permission: perm("manage_team")})
			return r.GetHasPermission(), err
		}, true},
		{"team member manages the team", func() (bool, error) {
			r, err := w.b.HasPermissionToTeam(ctx, &pluginpb.HasPermissionToTeamRequest{UserId: w.bob.GetId(), TeamId: w.team.GetId(), Permission: perm("manage_team")})
			return r.GetHasPermission(), err
		}, false},
		{"outsider views the team", func() (bool, error) {
			r, err := w.b.HasPermissionToTeam(ctx, &pluginpb.HasPermissionToTeamRequest{UserId: w.carol.GetId(), TeamId: w.team.GetId(), Permission: perm("view_team")})
			return r.GetHasPermission(), err
		}, false},
		{"member posts in the channel", func() (bool, error) {
			r, err := w.b.HasPermissionToChannel(ctx, &pluginpb.HasPermissionToChannelRequest{UserId: w.bob.GetId(), ChannelId: town.GetChannel().GetId(), Permission: perm("create_post")})
			return r.GetHasPermission(), err
		}, true},
		{"outsider posts in the channel", func() (bool, error) {
			r, err := w.b.HasPermissionToChannel(ctx, &pluginpb.HasPermissionToChannelRequest{UserId: w.carol.GetId(), ChannelId: town.GetChannel().GetId(), Permission: perm("create_post")})
			return r.GetHasPermission(), err
		}, false},
		{"team_admin includes team_user", func() (bool, error) {
			r, err := w.b.RolesGrantPermission(ctx, &pluginpb.RolesGrantPermissionRequest{RoleNames: []string{"team_admin"}, PermissionId: "view_team"})
			return r.GetGranted(), err
		}, true},
	}
	for _, tt := range tests {
		got, err := tt.ask()
		if err != nil || got != tt.want {
			t.Errorf("%s = %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
	// No role lists an empty permission id: upstream answers false
	// (server/channels/app/authorization.go@01357633:App.RolesGrantPermission).
	for name, ask := range map[string]func() (bool, error){
		"HasPermissionTo": func() (bool, error) {
			r, err := w.b.HasPermissionTo(ctx, &pluginpb.HasPermissionToRequest{UserId: w.bob.GetId()})
			return r.GetHasPermission(), err
		},
		"HasPermissionToTeam": func() (bool, error) {
			r, err := w.b.HasPermissionToTeam(ctx, &pluginpb.HasPermissionToTeamRequest{UserId: w.bob.GetId(), TeamId: w.team.GetId(), Permission: &pluginpb.Permission{}})
			return r.GetHasPermission(), err
		},
		"HasPermissionToChannel": func() (bool, error) {
			r, err := w.b.HasPermissionToChannel(ctx, &pluginpb.HasPermissionToChannelRequest{UserId: w.bob.GetId(), ChannelId: town.GetChannel().GetId()})
			return r.GetHasPermission(), err
		},
		"RolesGrantPermission": func() (bool, error) {
			r, err := w.b.RolesGrantPermission(ctx, &pluginpb.RolesGrantPermissionRequest{RoleNames: []string{"system_admin"}})
			return r.GetGranted(), err
		},
	} {
		if got, err := ask(); got || err != nil {
			t.Errorf("%s(empty permission) = %v, %v; want false, nil", name, got, err)
		}
	}
}

// TestSessionByToken resolves tokens as Mattermost resolves the token of
// an HTTP request: only a live session of an active user.
func TestSessionByToken(t *testing.T) {
	b, clock := newTestBackend(t)
	ctx := context.Background()
	alice := create(t, b, newUser("alice"))
	bob := create(t, b, newUser("bob"))
	newSession := func(s *pluginpb.Session) *pluginpb.Session {
		t.Helper()
		created, err := b.CreateSession(ctx, &pluginpb.CreateSessionRequest{Session: s})
		if err != nil {
			t.Fatal(err)
		}
		return created.GetSession()
	}
	now := clock.Now().UnixMilli()
	live := newSession(&pluginpb.Session{UserId: alice.GetId(), Props: map[string]string{"csrf": "c"}})
	lasting := newSession(&pluginpb.Session{UserId: alice.GetId(), ExpiresAt: now + 1})
	expired := newSession(&pluginpb.Session{UserId: alice.GetId(), ExpiresAt: now - 1})
	revoked := newSession(&pluginpb.Session{UserId: alice.GetId()})
	if _, err := b.RevokeSession(ctx, &pluginpb.RevokeSessionRequest{SessionId: revoked.GetId()}); err != nil {
		t.Fatal(err)
	}
	deactivated := newSession(&pluginpb.Session{UserId: bob.GetId()})
	if _, err := b.UpdateUserActive(ctx, &pluginpb.UpdateUserActiveRequest{UserId: bob.GetId(), Active: false}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, token string
		want        *pluginpb.Session
	}{
		{"a live session", live.GetToken(), live},
		{"a session that expires later", lasting.GetToken(), lasting},
		{"an expired session", expired.GetToken(), nil},
		{"a revoked session", revoked.GetToken(), nil},
		{"a deactivated user's session", deactivated.GetToken(), nil},
		{"an unknown token", newID(), nil},
		{"an empty token", "", nil},
		{"a session's id", live.GetId(), nil},
	}
	for _, tc := range tests {
		got, ok := b.SessionByToken(tc.token)
		if ok != (tc.want != nil) || !proto.Equal(got, tc.want) {
			t.Errorf("SessionByToken(%s) = %v, %v; want %v", tc.name, got, ok, tc.want)
		}
	}
	// The copy is the caller's.
	got, _ := b.SessionByToken(live.GetToken())
	got.Props["csrf"] = "changed"
	if again, _ := b.SessionByToken(live.GetToken()); again.GetProps()["csrf"] != "c" {
		t.Errorf("changing the returned session changed the stored one: %v", again)
	}
	// Once its expiry passes, a session no longer resolves.
	clock.Advance(2 * time.Millisecond)
	if got, ok := b.SessionByToken(lasting.GetToken()); ok {
		t.Errorf("SessionByToken(a session past its expiry) = %v", got)
	}
}
