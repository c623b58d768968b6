package memory

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// TestOAuthAppsFollowTheAppLayer checks the OAuth methods against the app
// layer, the store and the model that upstream's plugin API reaches:
// server/channels/app/plugin_api.go@f56166d6baa65d91684ba3b6455b65feef3ceace
// (PluginAPI.UpdateOAuthApp looks the app up first),
// server/channels/app/oauth.go@014000df041eb2e17d38ea5f2ff61560b338bc5b
// (App.CreateOAuthApp, GetOAuthApp, UpdateOAuthApp, DeleteOAuthApp),
// server/channels/store/sqlstore/oauth_store.go@05d5c9829e1c0c31b525482547f5506eff612e76
// (SqlOAuthStore.SaveApp, UpdateApp, DeleteApp) and
// server/public/model/oauth.go@1246420b0a8b0b557162417c222f7557aac2020d
// (OAuthApp.IsValid, OAuthApp.PreSave).
func TestOAuthAppsFollowTheAppLayer(t *testing.T) {
	ctx := context.Background()
	newApp := func() *pluginpb.OAuthApp {
		return &pluginpb.OAuthApp{CreatorId: newID(), Name: "CI", Homepage: "https://ci.example.com", CallbackUrls: []string{"https://ci.example.com/cb"}}
	}

	t.Run("create", func(t *testing.T) {
		b, clock := newTestBackend(t)
		created, err := b.CreateOAuthApp(ctx, &pluginpb.CreateOAuthAppRequest{App: newApp()})
		if err != nil {
			t.Fatal(err)
		}
		a := created.GetApp()
		now := clock.Now().UnixMilli()
		// PreSave's defaults are in the answer...
		if !slices.Equal(a.GetGrantTypes(), []string{"authorization_code", "refresh_token"}) ||
			!slices.Equal(a.GetResponseTypes(), []string{"code"}) || a.GetTokenEndpointAuthMethod() != "client_secret_post" ||
			a.GetClientIdIssuedAt() != now || a.GetCreateAt() != now || a.GetUpdateAt() != now {
			t.Errorf("CreateOAuthApp = %v; want PreSave's defaults", a)
		}
		// ...but the store does not write them.
		got, err := b.GetOAuthApp(ctx, &pluginpb.GetOAuthAppRequest{AppId: a.GetId()})
		if err != nil || got.GetApp().GetGrantTypes() != nil || got.GetApp().TokenEndpointAuthMethod != nil ||
			got.GetApp().GetClientIdIssuedAt() != 0 || got.GetApp().GetClientSecret() != a.GetClientSecret() {
			t.Errorf("GetOAuthApp = %v, %v; want the stored columns only", got, err)
		}
	})

	t.Run("validation", func(t *testing.T) {
		b, _ := newTestBackend(t)
		long := "https://ci.example.com/" + strings.Repeat("a", 1000)
		tests := []struct {
			name   string
			change func(*pluginpb.OAuthApp)
			id     string
		}{
			{"an id", func(a *pluginpb.OAuthApp) { a.Id = newID() }, "app.oauth.save_app.existing.app_error"},
			// The creator is checked before the callback URLs.
			{"bad creator and callback", func(a *pluginpb.OAuthApp) { a.CreatorId, a.CallbackUrls = "x", []string{"ftp://x"} },
				"model.oauth.is_valid.creator_id.app_error"},
			// The name is measured in bytes: 22 three-byte runes are 66.
			{"long name", func(a *pluginpb.OAuthApp) { a.Name = strings.Repeat("€", 22) }, "model.oauth.is_valid.name.app_error"},
			{"no callback", func(a *pluginpb.OAuthApp) { a.CallbackUrls = nil }, "model.oauth.is_valid.callback.app_error"},
			// "[" + url + "]" is 1,025 characters.
			{"callbacks too long", func(a *pluginpb.OAuthApp) { a.CallbackUrls = []string{long[:1023]} }, "model.oauth.is_valid.callback.app_error"},
			{"ftp callback", func(a *pluginpb.OAuthApp) { a.CallbackUrls = []string{"ftp://x"} }, "model.oauth.is_valid.callback.app_error"},
			{"no homepage", func(a *pluginpb.OAuthApp) { a.Homepage = "" }, "model.oauth.is_valid.homepage.app_error"},
			{"bad icon", func(a *pluginpb.OAuthApp) { a.IconUrl = "icon.png" }, "model.oauth.is_valid.icon_url.app_error"},
			{"long app id", func(a *pluginpb.OAuthApp) { a.MattermostAppId = strings.Repeat("a", 33) }, "model.oauth.is_valid.mattermost_app_id.app_error"},
			{"auth method", func(a *pluginpb.OAuthApp) { a.TokenEndpointAuthMethod = proto.String("none") }, "model.oauth.is_valid.token_endpoint_auth_method.app_error"},
			{"bad client uri", func(a *pluginpb.OAuthApp) { a.ClientUri = proto.String("x") }, "model.oauth.is_valid.client_uri.app_error"},
			{"bad logo uri", func(a *pluginpb.OAuthApp) { a.LogoUri = proto.String("x") }, "model.oauth.is_valid.logo_uri.app_error"},
		}
		for _, tt := range tests {
			a := newApp()
			tt.change(a)
			_, err := b.CreateOAuthApp(ctx, &pluginpb.CreateOAuthAppRequest{App: a})
			wantAppErrorID(t, "CreateOAuthApp("+tt.name+")", err, tt.id, http.StatusBadRequest)
		}
		// 1,022 characters of URL are 1,024 with the brackets; a dynamically
		// registered app needs no homepage; an icon URL may have 512.
		a := newApp()
		a.CallbackUrls, a.Homepage, a.IsDynamicallyRegistered = []string{long[:1022]}, "", true
		a.IconUrl = "https://ci.example.com/" + strings.Repeat("i", 512-23)
		if _, err := b.CreateOAuthApp(ctx, &pluginpb.CreateOAuthAppRequest{App: a}); err != nil {
			t.Errorf("CreateOAuthApp(at the limits) = %v", err)
		}
	})

	t.Run("update and delete", func(t *testing.T) {
		b, clock := newTestBackend(t)
		created, err := b.CreateOAuthApp(ctx, &pluginpb.CreateOAuthAppRequest{App: newApp()})
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Second)
		in := proto.Clone(created.GetApp()).(*pluginpb.OAuthApp)
		in.ClientSecret, in.CreatorId, in.CreateAt, in.Name = "forged", newID(), 1, "CI 2"
		updated, err := b.UpdateOAuthApp(ctx, &pluginpb.UpdateOAuthAppRequest{App: in})
		old := created.GetApp()
		if err != nil || updated.GetApp().GetClientSecret() != old.GetClientSecret() || updated.GetApp().GetCreatorId() != old.GetCreatorId() ||
			updated.GetApp().GetCreateAt() != old.GetCreateAt() || updated.GetApp().GetUpdateAt() == old.GetUpdateAt() || updated.GetApp().GetName() != "CI 2" {
			t.Errorf("UpdateOAuthApp = %v, %v; want the secret, creator and creation time kept", updated, err)
		}
		// Any id is looked up: a malformed one is not found.
		for _, id := range []string{newID(), "bad"} {
			_, err = b.GetOAuthApp(ctx, &pluginpb.GetOAuthAppRequest{AppId: id})
			wantAppErrorID(t, "GetOAuthApp("+id+")", err, "app.oauth.get_app.find.app_error", http.StatusNotFound)
			missing := proto.Clone(in).(*pluginpb.OAuthApp)
			missing.Id, missing.Homepage = id, "not a url"
			_, err = b.UpdateOAuthApp(ctx, &pluginpb.UpdateOAuthAppRequest{App: missing})
			wantAppErrorID(t, "UpdateOAuthApp("+id+")", err, "app.oauth.get_app.find.app_error", http.StatusNotFound)
			// The store deletes by id: an unknown id is no error.
			if _, err := b.DeleteOAuthApp(ctx, &pluginpb.DeleteOAuthAppRequest{AppId: id}); err != nil {
				t.Errorf("DeleteOAuthApp(%s) = %v", id, err)
			}
		}
		in.Homepage = "not a url"
		_, err = b.UpdateOAuthApp(ctx, &pluginpb.UpdateOAuthAppRequest{App: in})
		wantAppErrorID(t, "UpdateOAuthApp(bad homepage)", err, "model.oauth.is_valid.homepage.app_error", http.StatusBadRequest)
	})

	t.Run("provider off", func(t *testing.T) {
		b, _ := newTestBackend(t)
		created, err := b.CreateOAuthApp(ctx, &pluginpb.CreateOAuthAppRequest{App: newApp()})
		if err != nil {
			t.Fatal(err)
		}
		id := created.GetApp().GetId()
		setSetting(b, "ServiceSettings", "EnableOAuthServiceProvider", false)
		_, err = b.CreateOAuthApp(ctx, &pluginpb.CreateOAuthAppRequest{App: newApp()})
		wantAppErrorID(t, "CreateOAuthApp(off)", err, "api.oauth.register_oauth_app.turn_off.app_error", http.StatusNotImplemented)
		_, err = b.GetOAuthApp(ctx, &pluginpb.GetOAuthAppRequest{AppId: id})
		wantAppErrorID(t, "GetOAuthApp(off)", err, "api.oauth.allow_oauth.turn_off.app_error", http.StatusNotImplemented)
		_, err = b.UpdateOAuthApp(ctx, &pluginpb.UpdateOAuthAppRequest{App: created.GetApp()})
		wantAppErrorID(t, "UpdateOAuthApp(off)", err, "api.oauth.allow_oauth.turn_off.app_error", http.StatusNotImplemented)
		_, err = b.DeleteOAuthApp(ctx, &pluginpb.DeleteOAuthAppRequest{AppId: id})
		wantAppErrorID(t, "DeleteOAuthApp(off)", err, "api.oauth.allow_oauth.turn_off.app_error", http.StatusNotImplemented)
	})
}

// TestOAuthGrantAndResponseTypes follows the last check of
// server/public/model/oauth.go@1246420b0a8b0b557162417c222f7557aac2020d:OAuthApp.IsValid,
// server/public/model/oauth_dcr.go@1246420b0a8b0b557162417c222f7557aac2020d:ValidateGrantTypesAndResponseTypes:
// when both lists are set (PreSave fills empty ones on create), each grant
// type but refresh_token needs a compatible response type, and only
// authorization_code with code is compatible.
func TestOAuthGrantAndResponseTypes(t *testing.T) {
	ctx := context.Background()
	const incompatible = "model.dcr.validate.incompatible_grant_response.app_error"
	tests := []struct {
		name              string
		grants, responses []string
		wantID            string // "" for success
	}{
		{"the defaults", nil, nil, ""},
		{"code flow", []string{"authorization_code"}, []string{"code"}, ""},
		{"refresh only, any response type", []string{"refresh_token"}, []string{"token"}, ""},
		{"refresh only, default response type", []string{"refresh_token"}, nil, ""},
		{"code flow without code", []string{"authorization_code"}, []string{"token"}, incompatible},
		{"an unknown grant type", []string{"client_credentials"}, nil, incompatible},
		{"implicit", []string{"implicit", "refresh_token"}, []string{"token", "code"}, incompatible},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := newTestBackend(t)
			a := &pluginpb.OAuthApp{CreatorId: newID(), Name: "CI", Homepage: "https://ci.example.com",
				CallbackUrls: []string{"https://ci.example.com/cb"}, GrantTypes: tt.grants, ResponseTypes: tt.responses}
			_, err := b.CreateOAuthApp(ctx, &pluginpb.CreateOAuthAppRequest{App: a})
			if tt.wantID == "" {
				if err != nil {
					t.Errorf("CreateOAuthApp = %v", err)
				}
				return
			}
			wantAppErrorID(t, "CreateOAuthApp", err, tt.wantID, http.StatusBadRequest)
			// Updating checks the types the request carries.
			a.GrantTypes, a.ResponseTypes = nil, nil
			created, err := b.CreateOAuthApp(ctx, &pluginpb.CreateOAuthAppRequest{App: a})
			if err != nil {
				t.Fatal(err)
			}
			in := proto.Clone(created.GetApp()).(*pluginpb.OAuthApp)
			in.GrantTypes, in.ResponseTypes = tt.grants, typesOr(tt.responses, []string{"code"})
			_, err = b.UpdateOAuthApp(ctx, &pluginpb.UpdateOAuthAppRequest{App: in})
			wantAppErrorID(t, "UpdateOAuthApp", err, tt.wantID, http.StatusBadRequest)
		})
	}
}

// typesOr returns s, or orElse when s is empty.
func typesOr(s, orElse []string) []string {
	if len(s) == 0 {
		return orElse
	}
	return s
}
