package memory

import (
	"google.golang.org/protobuf/proto"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// This file holds the state of the OAuth domain. Its methods do not lock:
// the Backend's mutex guards it.

// oauthAppStore holds the OAuth apps, by id, as SqlOAuthStore keeps them.
type oauthAppStore map[string]*pluginpb.OAuthApp

// get returns a copy of an app.
func (s oauthAppStore) get(appID string) (*pluginpb.OAuthApp, bool) {
	a, ok := s[appID]
	if !ok {
		return nil, false
	}
	return proto.Clone(a).(*pluginpb.OAuthApp), true
}

// put stores an app as SqlOAuthStore writes it: without the dynamic client
// registration fields that its INSERT and UPDATE leave out, so they read
// back empty. The caller's app is left as it is.
func (s oauthAppStore) put(a *pluginpb.OAuthApp) {
	c := proto.Clone(a).(*pluginpb.OAuthApp)
	c.GrantTypes, c.ResponseTypes, c.ClientIdIssuedAt = nil, nil, 0
	c.TokenEndpointAuthMethod, c.ClientUri, c.LogoUri, c.Scope = nil, nil, nil, nil
	s[c.GetId()] = c
}

// remove deletes an app; the store deletes by id, so an unknown id is no
// error.
func (s oauthAppStore) remove(appID string) {
	delete(s, appID)
}
