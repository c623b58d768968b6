package memory

// This file holds the handlers and the state of the OAuth domain: the
// OAuth 2.0 client applications registered on the server.

import (
	"context"
	"net/http"
	"net/url"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// Limits of model.OAuthApp.IsValid.
const (
	oauthNameMaxRunes        = 64
	oauthDescriptionMaxRunes = 512
	oauthURLMaxLen           = 256
	oauthCallbackURLsMaxLen  = 1024
)

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

// validateOAuthApp checks a against the rules of model.OAuthApp.IsValid.
func validateOAuthApp(a *pluginpb.OAuthApp) error {
	callbacks := 0
	for _, c := range a.GetCallbackUrls() {
		callbacks += len(c) + 1
		if !isValidHTTPURL(c) {
			return invalidOAuthApp("callback", "Invalid callback URL: an absolute http or https URL.")
		}
	}
	switch {
	case !isValidID(a.GetCreatorId()):
		return invalidOAuthApp("creator_id", "Invalid creator id.")
	case a.GetName() == "" || utf8.RuneCountInString(a.GetName()) > oauthNameMaxRunes:
		return invalidOAuthApp("name", "Invalid name: 1 to 64 characters.")
	case len(a.GetCallbackUrls()) == 0 || callbacks > oauthCallbackURLsMaxLen:
		return invalidOAuthApp("callback", "Invalid callback URLs: at least one, at most 1,024 characters in all.")
	case len(a.GetHomepage()) > oauthURLMaxLen || !isValidHTTPURL(a.GetHomepage()):
		return invalidOAuthApp("homepage", "Invalid homepage: an absolute http or https URL.")
	case utf8.RuneCountInString(a.GetDescription()) > oauthDescriptionMaxRunes:
		return invalidOAuthApp("description", "Invalid description: at most 512 characters.")
	case a.GetIconUrl() != "" && (len(a.GetIconUrl()) > oauthURLMaxLen || !isValidHTTPURL(a.GetIconUrl())):
		return invalidOAuthApp("icon_url", "Invalid icon URL: an absolute http or https URL.")
	case a.TokenEndpointAuthMethod != nil && a.GetTokenEndpointAuthMethod() != "client_secret_post":
		return invalidOAuthApp("token_endpoint_auth_method", `Invalid token endpoint auth method: "client_secret_post".`)
	}
	return nil
}

func oauthAppNotFound(appID string) *apperror.Error {
	return apperror.New("app.oauth.get_app.find.app_error", "Unable to find the OAuth app.",
		"app_id="+appID, http.StatusNotFound)
}

// CreateOAuthApp registers an OAuth app with a new id and client secret.
func (b *Backend) CreateOAuthApp(_ context.Context, req *pluginpb.CreateOAuthAppRequest) (*pluginpb.CreateOAuthAppResponse, error) {
	if req.GetApp() == nil {
		return nil, invalidParam("app")
	}
	a := proto.Clone(req.GetApp()).(*pluginpb.OAuthApp)
	if a.GetId() != "" {
		return nil, apperror.New("api.oauth.register_oauth_app.existing.app_error",
			"Cannot register an existing OAuth app.", "", http.StatusBadRequest)
	}
	if err := validateOAuthApp(a); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.nowMillis()
	a.Id, a.ClientSecret, a.CreateAt, a.UpdateAt = newID(), newID(), now, now
	b.oauthApps[a.GetId()] = a
	return &pluginpb.CreateOAuthAppResponse{App: proto.Clone(a).(*pluginpb.OAuthApp)}, nil
}

// GetOAuthApp returns an OAuth app by id.
func (b *Backend) GetOAuthApp(_ context.Context, req *pluginpb.GetOAuthAppRequest) (*pluginpb.GetOAuthAppResponse, error) {
	if !isValidID(req.GetAppId()) {
		return nil, invalidParam("app_id")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	a, ok := b.oauthApps[req.GetAppId()]
	if !ok {
		return nil, oauthAppNotFound(req.GetAppId())
	}
	return &pluginpb.GetOAuthAppResponse{App: proto.Clone(a).(*pluginpb.OAuthApp)}, nil
}

// UpdateOAuthApp updates an OAuth app; its creator, client secret and
// creation time are kept.
func (b *Backend) UpdateOAuthApp(_ context.Context, req *pluginpb.UpdateOAuthAppRequest) (*pluginpb.UpdateOAuthAppResponse, error) {
	in := req.GetApp()
	if in == nil {
		return nil, invalidParam("app")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	old, ok := b.oauthApps[in.GetId()]
	if !ok {
		return nil, oauthAppNotFound(in.GetId())
	}
	a := proto.Clone(in).(*pluginpb.OAuthApp)
	a.CreatorId, a.ClientSecret, a.CreateAt = old.GetCreatorId(), old.GetClientSecret(), old.GetCreateAt()
	a.UpdateAt = b.nowMillis()
	if err := validateOAuthApp(a); err != nil {
		return nil, err
	}
	b.oauthApps[a.GetId()] = a
	return &pluginpb.UpdateOAuthAppResponse{App: proto.Clone(a).(*pluginpb.OAuthApp)}, nil
}

// DeleteOAuthApp deletes an OAuth app.
func (b *Backend) DeleteOAuthApp(_ context.Context, req *pluginpb.DeleteOAuthAppRequest) (*pluginpb.DeleteOAuthAppResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.oauthApps[req.GetAppId()]; !ok {
		return nil, oauthAppNotFound(req.GetAppId())
	}
	delete(b.oauthApps, req.GetAppId())
	return &pluginpb.DeleteOAuthAppResponse{}, nil
}
