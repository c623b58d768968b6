package memory

// This file holds the handlers and the state of the sessions domain:
// sessions and personal access tokens.

import (
	"context"
	"crypto/subtle"
	"maps"
	"net/http"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// userAccessTokenDescriptionMaxRunes is model.UserAccessToken's limit.
const userAccessTokenDescriptionMaxRunes = 255

// sessionStore holds sessions and personal access tokens by id. A token's
// session carries the token's id in its "user_access_token_id" prop.
type sessionStore struct {
	byID   map[string]*pluginpb.Session
	tokens map[string]*pluginpb.UserAccessToken
}

func newSessionStore() sessionStore {
	return sessionStore{byID: make(map[string]*pluginpb.Session), tokens: make(map[string]*pluginpb.UserAccessToken)}
}

// sessionNotFound is upstream's App.GetSessionById failing: a 400, as
// RevokeSessionById's is too.
func sessionNotFound(sessionID string) *apperror.Error {
	return apperror.New("app.session.get.app_error", "Unable to find the session.",
		"session_id="+apperror.Truncate(sessionID, apperror.MaxShortBytes), http.StatusBadRequest)
}

// storedSession finds a session as upstream's SqlSessionStore.Get does:
// by id or by token. The caller holds the lock.
func (b *Backend) storedSession(idOrToken string) (*pluginpb.Session, bool) {
	if s, ok := b.sessions.byID[idOrToken]; ok {
		return s, true
	}
	if idOrToken == "" {
		return nil, false
	}
	for _, s := range b.sessions.byID {
		if s.GetToken() == idOrToken {
			return s, true
		}
	}
	return nil, false
}

// saveSession stores a new session for an existing user, with the
// defaults of model.Session.PreSave. The caller holds the lock.
func (b *Backend) saveSession(s *pluginpb.Session) error {
	u, err := b.user(s.GetUserId())
	if err != nil {
		return err
	}
	now := b.nowMillis()
	s.Id = newID()
	if s.GetToken() == "" {
		s.Token = newID()
	}
	s.CreateAt = now
	s.LastActivityAt = now
	if s.GetRoles() == "" {
		s.Roles = u.GetRoles()
	}
	if s.Props == nil {
		s.Props = map[string]string{}
	}
	b.sessions.byID[s.GetId()] = s
	return nil
}

// GetSession returns a session by id (or token), as upstream's
// App.GetSessionById does: any failure is app.session.get.app_error, 400.
func (b *Backend) GetSession(_ context.Context, req *pluginpb.GetSessionRequest) (*pluginpb.GetSessionResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s, ok := b.storedSession(req.GetSessionId())
	if !ok {
		return nil, sessionNotFound(req.GetSessionId())
	}
	return &pluginpb.GetSessionResponse{Session: proto.Clone(s).(*pluginpb.Session)}, nil
}

// CreateSession creates a session for a user.
func (b *Backend) CreateSession(_ context.Context, req *pluginpb.CreateSessionRequest) (*pluginpb.CreateSessionResponse, error) {
	if req.GetSession() == nil {
		return nil, invalidParam("session")
	}
	s := proto.Clone(req.GetSession()).(*pluginpb.Session)
	if s.GetId() != "" {
		// Upstream's SqlSessionStore.Save refuses an id, which
		// App.CreateSession answers with this id.
		return nil, apperror.New("app.session.save.existing.app_error",
			"Cannot update an existing session.", "", http.StatusBadRequest)
	}
	// PlatformService.CreateSession drops the caller's token: the store
	// makes a new one.
	s.Token = ""
	s.TeamMembers = nil
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.saveSession(s); err != nil {
		return nil, err
	}
	return &pluginpb.CreateSessionResponse{Session: proto.Clone(s).(*pluginpb.Session)}, nil
}

// ExtendSessionExpiry sets a new expiry time on a session, as upstream's
// PluginAPI.ExtendSessionExpiry does: a session it cannot find (by id or
// token) is app.session.get_sessions.app_error, 500; the time is not
// checked.
func (b *Backend) ExtendSessionExpiry(_ context.Context, req *pluginpb.ExtendSessionExpiryRequest) (*pluginpb.ExtendSessionExpiryResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s, ok := b.storedSession(req.GetSessionId())
	if !ok {
		return nil, apperror.New("app.session.get_sessions.app_error", "Unable to find the session.",
			"session_id="+apperror.Truncate(req.GetSessionId(), apperror.MaxShortBytes), http.StatusInternalServerError)
	}
	s = proto.Clone(s).(*pluginpb.Session)
	s.ExpiresAt = req.GetNewExpiry()
	b.sessions.byID[s.GetId()] = s
	return &pluginpb.ExtendSessionExpiryResponse{}, nil
}

// RevokeSession removes a session, found by id or token. As in
// Mattermost's RevokeSessionById, an unknown session is a bad request.
func (b *Backend) RevokeSession(_ context.Context, req *pluginpb.RevokeSessionRequest) (*pluginpb.RevokeSessionResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s, ok := b.storedSession(req.GetSessionId())
	if !ok {
		return nil, sessionNotFound(req.GetSessionId())
	}
	delete(b.sessions.byID, s.GetId())
	return &pluginpb.RevokeSessionResponse{}, nil
}

// CreateUserAccessToken creates a personal access token and its session.
// Unless ServiceSettings.EnableUserAccessTokens is on (it is off by
// default, as in Mattermost), only bot accounts may have one.
func (b *Backend) CreateUserAccessToken(_ context.Context, req *pluginpb.CreateUserAccessTokenRequest) (*pluginpb.CreateUserAccessTokenResponse, error) {
	in := req.GetToken()
	if in == nil {
		return nil, invalidParam("token")
	}
	// Upstream's App.CreateUserAccessToken: the user, then the switch,
	// then the store's Save, whose UserAccessToken.IsValid checks the
	// description; a deactivated user may get one.
	b.mu.Lock()
	defer b.mu.Unlock()
	u, err := b.user(in.GetUserId())
	if err != nil {
		return nil, err
	}
	if !u.GetIsBot() && !b.configBool("ServiceSettings", "EnableUserAccessTokens") {
		return nil, apperror.New("app.user_access_token.disabled",
			"Personal access tokens are disabled on this server.", "user_id="+u.GetId(), http.StatusNotImplemented)
	}
	if utf8.RuneCountInString(in.GetDescription()) > userAccessTokenDescriptionMaxRunes {
		return nil, apperror.New("model.user_access_token.is_valid.description.app_error",
			"Invalid description: at most 255 characters.", "", http.StatusBadRequest)
	}
	t := &pluginpb.UserAccessToken{
		Id: newID(), Token: newID(), UserId: u.GetId(), Description: in.GetDescription(),
		IsActive: true, ExpiresAt: in.GetExpiresAt(),
	}
	if _, err := b.saveTokenSession(t); err != nil {
		return nil, err
	}
	b.sessions.tokens[t.GetId()] = t
	return &pluginpb.CreateUserAccessTokenResponse{Token: proto.Clone(t).(*pluginpb.UserAccessToken)}, nil
}

// saveTokenSession stores a new session for a personal access token. The
// caller holds the lock.
func (b *Backend) saveTokenSession(t *pluginpb.UserAccessToken) (*pluginpb.Session, error) {
	s := &pluginpb.Session{
		Token: t.GetToken(), UserId: t.GetUserId(), ExpiresAt: t.GetExpiresAt(),
		Props: map[string]string{"type": "UserAccessToken", "user_access_token_id": t.GetId(), "is_bot": "true"},
	}
	if err := b.saveSession(s); err != nil {
		return nil, err
	}
	return s, nil
}

// revokeAllSessions removes every session of a user, as
// PlatformService.RevokeAllSessions does when App.UpdateActive deactivates
// the user (server/channels/app/platform/session.go@532f6fba). A personal
// access token outlives its session: [Backend.SessionByToken] makes a new
// one at the token's next use, as App.GetSession does. The caller holds
// the lock.
func (b *Backend) revokeAllSessions(userID string) {
	maps.DeleteFunc(b.sessions.byID, func(_ string, s *pluginpb.Session) bool { return s.GetUserId() == userID })
}

// RevokeUserAccessToken removes a personal access token and its session.
// A token it cannot find, a malformed id included, is upstream's
// App.GetUserAccessToken failing: app.user_access_token.get_by_user.app_error, 404.
func (b *Backend) RevokeUserAccessToken(_ context.Context, req *pluginpb.RevokeUserAccessTokenRequest) (*pluginpb.RevokeUserAccessTokenResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.sessions.tokens[req.GetTokenId()]; !ok {
		return nil, apperror.New("app.user_access_token.get_by_user.app_error", "Unable to find the personal access token.",
			"token_id="+apperror.Truncate(req.GetTokenId(), apperror.MaxShortBytes), http.StatusNotFound)
	}
	delete(b.sessions.tokens, req.GetTokenId())
	for id := range maps.Clone(b.sessions.byID) {
		if b.sessions.byID[id].GetProps()["user_access_token_id"] == req.GetTokenId() {
			delete(b.sessions.byID, id)
		}
	}
	return &pluginpb.RevokeUserAccessTokenResponse{}, nil
}

// SessionByToken returns a copy of the session whose token is token, as
// Mattermost's App.GetSession resolves the token of an HTTP request
// (server/channels/app/session.go of mattermost/mattermost at
// 0245076095bd06d1fa0c32485d97d0321c59389b). It returns false for an empty
// token, a token of no session (never made, or revoked by RevokeSession
// or RevokeUserAccessToken), a session that has expired (ExpiresAt set
// and past, model.Session.IsExpired), and a session of a deactivated or
// unknown user, whose sessions Mattermost revokes when it deactivates
// them. It is for a host that authenticates HTTP requests with the
// backend's sessions, such as the dev server's plugin routes; the Plugin
// API itself has no such call.
func (b *Backend) SessionByToken(token string) (*pluginpb.Session, bool) {
	if token == "" {
		return nil, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.sessions.byID {
		if subtle.ConstantTimeCompare([]byte(s.GetToken()), []byte(token)) != 1 {
			continue
		}
		if exp := s.GetExpiresAt(); exp > 0 && b.nowMillis() > exp {
			return nil, false
		}
		if u, err := b.user(s.GetUserId()); err != nil || u.GetDeleteAt() != 0 {
			return nil, false
		}
		return proto.Clone(s).(*pluginpb.Session), true
	}
	// App.createSessionForUserAccessToken: a token whose session was
	// revoked with its deactivated user gets a new one once the user is
	// active again.
	for _, t := range b.sessions.tokens {
		if !t.GetIsActive() || subtle.ConstantTimeCompare([]byte(t.GetToken()), []byte(token)) != 1 {
			continue
		}
		u, err := b.user(t.GetUserId())
		if err != nil || u.GetDeleteAt() != 0 ||
			!u.GetIsBot() && !b.configBool("ServiceSettings", "EnableUserAccessTokens") {
			return nil, false
		}
		s, err := b.saveTokenSession(t)
		if err != nil {
			return nil, false
		}
		return proto.Clone(s).(*pluginpb.Session), true
	}
	return nil, false
}
