package memory

import (
	"context"
	"net/http"
	"testing"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// TestCreateUserFollowsUserService checks CreateUser against
// App.createUserOrGuest (server/channels/app/user.go@83b7daaf) and
// UserService.CreateUser and createUser
// (server/channels/app/users/users.go@04165fd3): the roles are set by the
// server, the email domain is checked against
// TeamSettings.RestrictCreationToDomains unless the user is an LDAP or SAML
// one, a locale with no translation becomes the default client locale, and
// the password is checked before the store refuses a set id.
func TestCreateUserFollowsUserService(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, b *Backend)
	}{
		{"the first user is the system admin, the given roles are ignored", func(t *testing.T, b *Backend) {
			first := create(t, b, &pluginpb.User{Username: "ada", Email: "ada@example.com", Password: "passw0rd!", Roles: "system_guest"})
			second := create(t, b, &pluginpb.User{Username: "bob", Email: "bob@example.com", Password: "passw0rd!", Roles: "system_admin"})
			if first.GetRoles() != "system_admin system_user" || second.GetRoles() != "system_user" {
				t.Errorf("roles = %q, %q; want system_admin system_user, system_user", first.GetRoles(), second.GetRoles())
			}
			// App.createUserOrGuest saves three preferences.
			prefs, err := b.GetPreferencesForUser(ctx, &pluginpb.GetPreferencesForUserRequest{UserId: first.GetId()})
			if err != nil || len(prefs.GetPreferences()) != 3 || prefs.GetPreferences()[2].GetName() != first.GetId() {
				t.Errorf("preferences = %v, %v; want recommended_next_steps, system_notice, tutorial_step", prefs, err)
			}
		}},
		{"bots do not count as users, and a bot is never the first", func(t *testing.T, b *Backend) {
			if _, err := b.CreateBot(ctx, &pluginpb.CreateBotRequest{Bot: &pluginpb.Bot{Username: "helper"}}); err != nil {
				t.Fatal(err)
			}
			bot := create(t, b, &pluginpb.User{Username: "robo", Email: "robo@example.com", Password: "passw0rd!", IsBot: true})
			human := create(t, b, newUser("ada"))
			if bot.GetRoles() != "system_user" || human.GetRoles() != "system_admin system_user" {
				t.Errorf("roles = %q, %q; want system_user, system_admin system_user", bot.GetRoles(), human.GetRoles())
			}
		}},
		{"RestrictCreationToDomains refuses other domains", func(t *testing.T, b *Backend) {
			section(b.config, "TeamSettings")["RestrictCreationToDomains"] = "example.com, @Corp.io"
			_, err := b.CreateUser(ctx, &pluginpb.CreateUserRequest{User: &pluginpb.User{Username: "eve", Email: "eve@other.org", Password: "passw0rd!"}})
			wantAppErrorID(t, "CreateUser(other domain)", err, "api.user.create_user.accepted_domain.app_error", http.StatusBadRequest)
			create(t, b, &pluginpb.User{Username: "cat", Email: "cat@corp.io", Password: "passw0rd!"})
			ldap := create(t, b, &pluginpb.User{Username: "lee", Email: "lee@other.org", AuthService: "ldap", AuthData: new(string("lee"))})
			if ldap.GetAuthService() != "ldap" {
				t.Errorf("ldap user = %v", ldap)
			}
		}},
		{"a locale with no translation becomes the default client locale", func(t *testing.T, b *Backend) {
			for in, want := range map[string]string{"": "en", "fr": "fr", "pt-BR": "pt-BR", "xx": "en", "e!": "en", "en-GB-x": "en"} {
				u := create(t, b, &pluginpb.User{Username: "u" + newID()[:8], Email: newID() + "@example.com", Password: "passw0rd!", Locale: in})
				if u.GetLocale() != want {
					t.Errorf("locale %q = %q; want %q", in, u.GetLocale(), want)
				}
			}
			section(b.config, "LocalizationSettings")["DefaultClientLocale"] = "de"
			if u := create(t, b, newUser("dora")); u.GetLocale() != "de" {
				t.Errorf("locale = %q; want the default client locale de", u.GetLocale())
			}
		}},
		{"the password is checked before a set id", func(t *testing.T, b *Backend) {
			_, err := b.CreateUser(ctx, &pluginpb.CreateUserRequest{User: &pluginpb.User{Id: newID(), Username: "x", Email: "x@example.com", Password: "short"}})
			wantAppErrorID(t, "CreateUser(id and short password)", err, "model.user.is_valid.pwd_min_length.app_error", http.StatusBadRequest)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := newTestBackend(t)
			tt.run(t, b)
		})
	}
}

// TestUpdateUserFollowsTheStore checks UpdateUser against App.UpdateUser
// (server/channels/app/user.go@83b7daaf) and SqlUserStore.Update
// (server/channels/store/sqlstore/user_store.go@c3394c53), with
// model.User.PreUpdate and UpdateMentionKeysFromUsername
// (server/public/model/user.go@14e5a8a3).
func TestUpdateUserFollowsTheStore(t *testing.T) {
	ctx := context.Background()
	update := func(b *Backend, u *pluginpb.User) (*pluginpb.User, error) {
		resp, err := b.UpdateUser(ctx, &pluginpb.UpdateUserRequest{User: u})
		return resp.GetUser(), err
	}
	bind := func(t *testing.T, b *Backend, u *pluginpb.User, service string) *pluginpb.User {
		t.Helper()
		if _, err := b.UpdateUserAuth(ctx, &pluginpb.UpdateUserAuthRequest{UserId: u.GetId(), UserAuth: &pluginpb.UserAuth{
			AuthService: service, AuthData: new(string(u.GetUsername())),
		}}); err != nil {
			t.Fatal(err)
		}
		got, err := b.GetUser(ctx, &pluginpb.GetUserRequest{UserId: u.GetId()})
		if err != nil {
			t.Fatal(err)
		}
		return got.GetUser()
	}
	tests := []struct {
		name string
		run  func(t *testing.T, b *Backend, alice *pluginpb.User)
	}{
		{"an OAuth user keeps the email", func(t *testing.T, b *Backend, alice *pluginpb.User) {
			u := editable(bind(t, b, alice, "gitlab"))
			u.Email, u.Nickname = "new@example.com", "A"
			got, err := update(b, u)
			if err != nil || got.GetEmail() != "alice@example.com" || got.GetNickname() != "A" {
				t.Errorf("UpdateUser(gitlab) = %v, %v; want the old email, the new nickname", got, err)
			}
		}},
		{"an LDAP user may change neither username nor email", func(t *testing.T, b *Backend, alice *pluginpb.User) {
			ldap := bind(t, b, alice, "ldap")
			for _, change := range []func(u *pluginpb.User){
				func(u *pluginpb.User) { u.Username = "alicia" },
				func(u *pluginpb.User) { u.Email = "alicia@example.com" },
			} {
				u := editable(ldap)
				change(u)
				_, err := update(b, u)
				wantAppErrorID(t, "UpdateUser(ldap)", err, "app.user.update.find.app_error", http.StatusBadRequest)
			}
			u := editable(ldap)
			u.Nickname = "A"
			if _, err := update(b, u); err != nil {
				t.Errorf("UpdateUser(ldap nickname) = %v", err)
			}
		}},
		{"a new username leaves the mention keys", func(t *testing.T, b *Backend, alice *pluginpb.User) {
			u := editable(alice)
			u.NotifyProps["mention_keys"] = "alice,@alice,Pizza,,Team"
			got, err := update(b, u)
			if err != nil || got.GetNotifyProps()["mention_keys"] != "alice,@alice,pizza,team" {
				t.Fatalf("UpdateUser(mention keys) = %v, %v; want them lower-cased, blanks out", got.GetNotifyProps(), err)
			}
			u = editable(got)
			u.Username = "alicia"
			got, err = update(b, u)
			if err != nil || got.GetNotifyProps()["mention_keys"] != ",pizza,team" {
				t.Errorf("UpdateUser(rename) mention_keys = %q, %v; want \",pizza,team\"", got.GetNotifyProps()["mention_keys"], err)
			}
			// App.UpdateUser: a renamed user with the default picture gets a
			// new one (SqlUserStore.ResetLastPictureUpdate).
			if got.GetLastPictureUpdate() != -got.GetUpdateAt() {
				t.Errorf("last_picture_update = %d; want -%d", got.GetLastPictureUpdate(), got.GetUpdateAt())
			}
		}},
		{"empty notify props become the defaults", func(t *testing.T, b *Backend, alice *pluginpb.User) {
			u := editable(alice)
			u.NotifyProps = nil
			got, err := update(b, u)
			if err != nil || got.GetNotifyProps()["push"] != "mention" {
				t.Errorf("UpdateUser(no notify props) = %v, %v; want the defaults", got.GetNotifyProps(), err)
			}
		}},
		{"a new email must be in RestrictCreationToDomains", func(t *testing.T, b *Backend, alice *pluginpb.User) {
			section(b.config, "TeamSettings")["RestrictCreationToDomains"] = "example.com"
			u := editable(alice)
			u.Email = "alice@other.org"
			_, err := update(b, u)
			wantAppErrorID(t, "UpdateUser(other domain)", err, "api.user.update_user.accepted_domain.app_error", http.StatusBadRequest)
			u.Email = "alice2@example.com"
			if _, err := update(b, u); err != nil {
				t.Errorf("UpdateUser(allowed domain) = %v", err)
			}
		}},
		{"a guest's new email must be in the guest domains", func(t *testing.T, b *Backend, alice *pluginpb.User) {
			section(b.config, "TeamSettings")["RestrictCreationToDomains"] = "example.com"
			section(b.config, "GuestAccountsSettings")["RestrictCreationToDomains"] = "guests.example"
			resp, err := b.UpdateUserRoles(ctx, &pluginpb.UpdateUserRolesRequest{UserId: alice.GetId(), NewRoles: "system_guest"})
			if err != nil {
				t.Fatal(err)
			}
			u := editable(resp.GetUser())
			u.Email = "alice@example.com.au"
			_, err = update(b, u)
			wantAppErrorID(t, "UpdateUser(guest domain)", err, "api.user.update_user.accepted_guest_domain.app_error", http.StatusBadRequest)
			u.Email = "alice@guests.example"
			if _, err := update(b, u); err != nil {
				t.Errorf("UpdateUser(guest domain) = %v", err)
			}
		}},
		{"with email verification the email waits, a taken one is refused", func(t *testing.T, b *Backend, alice *pluginpb.User) {
			section(b.config, "EmailSettings")["RequireEmailVerification"] = true
			u := editable(alice)
			u.Email = "root@example.com"
			_, err := update(b, u)
			wantAppErrorID(t, "UpdateUser(taken email)", err, "app.user.save.email_exists.app_error", http.StatusBadRequest)
			u.Email, u.Nickname = "alice2@example.com", "A"
			got, err := update(b, u)
			if err != nil || got.GetEmail() != "alice@example.com" || got.GetNickname() != "A" {
				t.Errorf("UpdateUser(verified email) = %v, %v; want the old email kept", got, err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := newTestBackend(t)
			create(t, b, newUser("root"))
			tt.run(t, b, create(t, b, newUser("alice")))
		})
	}
}
