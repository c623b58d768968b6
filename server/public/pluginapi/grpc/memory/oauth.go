package memory

// This file holds the handlers and the state of the OAuth domain: the
// OAuth 2.0 client applications registered on the server.

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// Limits of model.OAuthApp.IsValid.
const (
	oauthNameMaxBytes        = 64
	oauthDescriptionMaxRunes = 512
	oauthHomepageMaxLen      = 256
	oauthIconURLMaxLen       = 512
	oauthCallbackURLsMaxLen  = 1024
	oauthClientSecretMaxLen  = 128
	oauthAppIDMaxLen         = 32
)

// The values model.OAuthApp.PreSave gives a new app's dynamic client
// registration fields when they are empty.
var (
	oauthDefaultGrantTypes    = []string{"authorization_code", "refresh_token"}
	oauthDefaultResponseTypes = []string{"code"}
)

const oauthClientSecretPost = "client_secret_post"

func invalidOAuthApp(field, message string) *apperror.Error {
	e := apperror.New("model.oauth.is_valid."+field+".app_error", message, "", http.StatusBadRequest)
	e.Where = "OAuthApp.IsValid"
	return e
}

// isValidHTTPURL reports whether s is an absolute http or https URL.
func isValidHTTPURL(s string) bool {
	u, err := url.ParseRequestURI(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// callbackURLsLen is the length of the callback URLs as model.OAuthApp.IsValid
// measures them: formatted with %s, "[a b c]".
func callbackURLsLen(urls []string) int {
	n := 2 + max(len(urls)-1, 0)
	for _, u := range urls {
		n += len(u)
	}
	return n
}

// validateOAuthApp checks a as model.OAuthApp.IsValid does, in its order
// (server/public/model/oauth.go@1246420b0a8b0b557162417c222f7557aac2020d
// OAuthApp.IsValid), the compatibility of grant and response types last.
func validateOAuthApp(a *pluginpb.OAuthApp) error {
	switch {
	case !isValidID(a.GetId()):
		return invalidOAuthApp("app_id", "Invalid app id.")
	case a.GetCreateAt() == 0:
		return invalidOAuthApp("create_at", "Create at must be a valid time.")
	case a.GetUpdateAt() == 0:
		return invalidOAuthApp("update_at", "Update at must be a valid time.")
	case !isValidID(a.GetCreatorId()):
		return invalidOAuthApp("creator_id", "Invalid creator id.")
	case a.GetClientSecret() == "" || len(a.GetClientSecret()) > oauthClientSecretMaxLen:
		return invalidOAuthApp("client_secret", "Invalid client secret.")
	case a.GetName() == "" || len(a.GetName()) > oauthNameMaxBytes:
		return invalidOAuthApp("name", "Invalid name: 1 to 64 bytes.")
	case len(a.GetCallbackUrls()) == 0 || callbackURLsLen(a.GetCallbackUrls()) > oauthCallbackURLsMaxLen:
		return invalidOAuthApp("callback", "Invalid callback URLs: at least one, at most 1,024 characters in all.")
	}
	for _, c := range a.GetCallbackUrls() {
		if !isValidHTTPURL(c) {
			return invalidOAuthApp("callback", "Invalid callback URL: an absolute http or https URL.")
		}
	}
	switch {
	case a.GetHomepage() == "" && !a.GetIsDynamicallyRegistered():
		return invalidOAuthApp("homepage", "A homepage is required.")
	case a.GetHomepage() != "" && (len(a.GetHomepage()) > oauthHomepageMaxLen || !isValidHTTPURL(a.GetHomepage())):
		return invalidOAuthApp("homepage", "Invalid homepage: an absolute http or https URL.")
	case utf8.RuneCountInString(a.GetDescription()) > oauthDescriptionMaxRunes:
		return invalidOAuthApp("description", "Invalid description: at most 512 characters.")
	case a.GetIconUrl() != "" && (len(a.GetIconUrl()) > oauthIconURLMaxLen || !isValidHTTPURL(a.GetIconUrl())):
		return invalidOAuthApp("icon_url", "Invalid icon URL: an absolute http or https URL.")
	case len(a.GetMattermostAppId()) > oauthAppIDMaxLen:
		return invalidOAuthApp("mattermost_app_id", "Invalid Mattermost app id: at most 32 characters.")
	case a.TokenEndpointAuthMethod != nil && a.GetTokenEndpointAuthMethod() != oauthClientSecretPost:
		return invalidOAuthApp("token_endpoint_auth_method", `Invalid token endpoint auth method: "client_secret_post".`)
	case a.GetClientUri() != "" && !isValidHTTPURL(a.GetClientUri()):
		return invalidOAuthApp("client_uri", "Invalid client URI: an absolute http or https URL.")
	case a.GetLogoUri() != "" && !isValidHTTPURL(a.GetLogoUri()):
		return invalidOAuthApp("logo_uri", "Invalid logo URI: an absolute http or https URL.")
	case len(a.GetGrantTypes()) > 0 && len(a.GetResponseTypes()) > 0:
		return checkGrantAndResponseTypes(a.GetGrantTypes(), a.GetResponseTypes())
	}
	return nil
}

// checkGrantAndResponseTypes checks that each grant type has a response
// type it works with, as model.ValidateGrantTypesAndResponseTypes does
// (server/public/model/oauth_dcr.go@1246420b0a8b0b557162417c222f7557aac2020d):
// authorization_code needs the code response type, refresh_token needs
// none, and any other grant type works with none, so it is refused.
func checkGrantAndResponseTypes(grantTypes, responseTypes []string) error {
	for _, g := range grantTypes {
		if g == "refresh_token" || g == "authorization_code" && slices.Contains(responseTypes, "code") {
			continue
		}
		e := apperror.New("model.dcr.validate.incompatible_grant_response.app_error",
			"The grant type "+g+" has no compatible response type.", "grant_type="+g, http.StatusBadRequest)
		e.Where = "ValidateGrantTypesAndResponseTypes"
		return e
	}
	return nil
}

// checkOAuthProvider fails as the app layer does while
// ServiceSettings.EnableOAuthServiceProvider is off: id is
// App.CreateOAuthApp's or the other functions' error. The caller holds the
// lock.
func (b *Backend) checkOAuthProvider(id string) error {
	if b.configBool("ServiceSettings", "EnableOAuthServiceProvider") {
		return nil
	}
	return apperror.New(id, "The OAuth 2.0 service provider is turned off by the system admin.", "", http.StatusNotImplemented)
}

const oauthProviderOff = "api.oauth.allow_oauth.turn_off.app_error"

// getOAuthApp is App.GetOAuthApp; it returns a copy of the app. The
// caller holds the lock.
func (b *Backend) getOAuthApp(appID string) (*pluginpb.OAuthApp, error) {
	if err := b.checkOAuthProvider(oauthProviderOff); err != nil {
		return nil, err
	}
	a, ok := b.oauthApps.get(appID)
	if !ok {
		return nil, apperror.New("app.oauth.get_app.find.app_error", "Unable to find the OAuth app.",
			"app_id="+appID, http.StatusNotFound)
	}
	return a, nil
}

// CreateOAuthApp registers an OAuth app with a new id and client secret,
// as App.CreateOAuthApp and SqlOAuthStore.SaveApp do
// (server/channels/app/oauth.go@014000df041eb2e17d38ea5f2ff61560b338bc5b,
// server/channels/store/sqlstore/oauth_store.go@05d5c9829e1c0c31b525482547f5506eff612e76):
// the provider must be on, an app given an id is refused, PreSave fills the
// id, times and the registration defaults, and IsValid checks the result.
// The answer carries the registration fields; the stored app does not.
func (b *Backend) CreateOAuthApp(_ context.Context, req *pluginpb.CreateOAuthAppRequest) (*pluginpb.CreateOAuthAppResponse, error) {
	if req.GetApp() == nil {
		return nil, invalidParam("app")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.checkOAuthProvider("api.oauth.register_oauth_app.turn_off.app_error"); err != nil {
		return nil, err
	}
	a := proto.Clone(req.GetApp()).(*pluginpb.OAuthApp)
	if a.GetId() != "" {
		return nil, apperror.New("app.oauth.save_app.existing.app_error",
			"Cannot save an existing OAuth app.", "", http.StatusBadRequest)
	}
	now := b.nowMillis()
	a.Id, a.ClientSecret = newID(), newID()
	if len(a.GetGrantTypes()) == 0 {
		a.GrantTypes = slices.Clone(oauthDefaultGrantTypes)
	}
	if len(a.GetResponseTypes()) == 0 {
		a.ResponseTypes = slices.Clone(oauthDefaultResponseTypes)
	}
	if a.TokenEndpointAuthMethod == nil {
		a.TokenEndpointAuthMethod = proto.String(oauthClientSecretPost)
	}
	if a.GetClientIdIssuedAt() == 0 {
		a.ClientIdIssuedAt = now
	}
	a.CreateAt, a.UpdateAt = now, now
	if err := validateOAuthApp(a); err != nil {
		return nil, err
	}
	b.oauthApps.put(a)
	return &pluginpb.CreateOAuthAppResponse{App: a}, nil
}

// GetOAuthApp returns an OAuth app by id, as App.GetOAuthApp: any id is
// looked up, and one that is not found is app.oauth.get_app.find.app_error.
func (b *Backend) GetOAuthApp(_ context.Context, req *pluginpb.GetOAuthAppRequest) (*pluginpb.GetOAuthAppResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	a, err := b.getOAuthApp(req.GetAppId())
	if err != nil {
		return nil, err
	}
	return &pluginpb.GetOAuthAppResponse{App: a}, nil
}

// UpdateOAuthApp updates an OAuth app, as upstream's plugin API does: it
// looks the app up first (App.GetOAuthApp), then App.UpdateOAuthApp keeps
// its id, creator, client secret and creation time, and the store's
// UpdateApp sets the update time and checks IsValid.
func (b *Backend) UpdateOAuthApp(_ context.Context, req *pluginpb.UpdateOAuthAppRequest) (*pluginpb.UpdateOAuthAppResponse, error) {
	in := req.GetApp()
	if in == nil {
		return nil, invalidParam("app")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	old, err := b.getOAuthApp(in.GetId())
	if err != nil {
		return nil, err
	}
	a := proto.Clone(in).(*pluginpb.OAuthApp)
	a.Id, a.CreatorId, a.ClientSecret, a.CreateAt = old.GetId(), old.GetCreatorId(), old.GetClientSecret(), old.GetCreateAt()
	a.UpdateAt = b.nowMillis()
	if err := validateOAuthApp(a); err != nil {
		return nil, err
	}
	b.oauthApps.put(a)
	return &pluginpb.UpdateOAuthAppResponse{App: a}, nil
}

// DeleteOAuthApp deletes an OAuth app, as App.DeleteOAuthApp: the store
// deletes by id, so an unknown id is no error.
func (b *Backend) DeleteOAuthApp(_ context.Context, req *pluginpb.DeleteOAuthAppRequest) (*pluginpb.DeleteOAuthAppResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.checkOAuthProvider(oauthProviderOff); err != nil {
		return nil, err
	}
	b.oauthApps.remove(req.GetAppId())
	return &pluginpb.DeleteOAuthAppResponse{}, nil
}
