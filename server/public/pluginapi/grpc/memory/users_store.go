package memory

import (
	"crypto/sha256"
	"net/http"

	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// This file holds the state of the users domain. Its methods do not lock:
// the Backend's mutex guards it.

// userStore holds users and the indexes that keep usernames and emails
// unique. Deactivated users keep their names.
type userStore struct {
	byID       map[string]*storedUser
	byUsername map[string]string
	byEmail    map[string]string
}

// storedUser is a user without secrets, plus a digest of the password.
type storedUser struct {
	user         *pluginpb.User
	passwordHash [sha256.Size]byte
}

func newUserStore() userStore {
	return userStore{
		byID:       make(map[string]*storedUser),
		byUsername: make(map[string]string),
		byEmail:    make(map[string]string),
	}
}

// sanitized returns a copy of u without secrets, as the server returns it.
func sanitized(u *pluginpb.User) *pluginpb.User {
	c := proto.Clone(u).(*pluginpb.User)
	c.Password = ""
	c.MfaSecret = ""
	return c
}

// checkUnique rejects u when another user has its username or email.
func (s userStore) checkUnique(u *pluginpb.User) error {
	if id, ok := s.byUsername[u.GetUsername()]; ok && id != u.GetId() {
		return apperror.New("app.user.save.username_exists.app_error",
			"An account with that username already exists.", "", http.StatusBadRequest)
	}
	if id, ok := s.byEmail[u.GetEmail()]; ok && id != u.GetId() {
		return apperror.New("app.user.save.email_exists.app_error",
			"An account with that email already exists.", "", http.StatusBadRequest)
	}
	return nil
}

// put stores u and updates the indexes.
func (s userStore) put(u *storedUser) {
	if old, ok := s.byID[u.user.GetId()]; ok {
		delete(s.byUsername, old.user.GetUsername())
		delete(s.byEmail, old.user.GetEmail())
	}
	s.byID[u.user.GetId()] = u
	s.byUsername[u.user.GetUsername()] = u.user.GetId()
	s.byEmail[u.user.GetEmail()] = u.user.GetId()
}
