package memory

import (
	"bytes"

	"google.golang.org/protobuf/proto"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// This file holds the users' statuses and profile images. Its methods do
// not lock: the Backend's mutex guards them.

// statusStore holds the users' statuses, by user id. A user who never had
// one has none, and reads as offline where upstream reads so.
type statusStore map[string]*pluginpb.Status

// get returns a copy of a user's status.
func (s statusStore) get(userID string) (*pluginpb.Status, bool) {
	st, ok := s[userID]
	if !ok {
		return nil, false
	}
	return proto.Clone(st).(*pluginpb.Status), true
}

// statusOf returns the name of a user's status, or "" if the user has
// none.
func (s statusStore) statusOf(userID string) string {
	return s[userID].GetStatus()
}

// ofUsers returns copies of the statuses of users, in the order of the
// ids; a user with none is offline, as
// PlatformService.GetUserStatusesByIds answers.
func (s statusStore) ofUsers(userIDs []string) []*pluginpb.Status {
	out := make([]*pluginpb.Status, 0, len(userIDs))
	for _, id := range userIDs {
		if st, ok := s.get(id); ok {
			out = append(out, st)
		} else {
			out = append(out, &pluginpb.Status{UserId: id, Status: statusOffline})
		}
	}
	return out
}

// put stores a copy of st as its user's status.
func (s statusStore) put(st *pluginpb.Status) {
	s[st.GetUserId()] = proto.Clone(st).(*pluginpb.Status)
}

// setOfflineUnlessManual sets a user offline at now, as deactivating the
// user does, unless the user set a status by hand.
func (s statusStore) setOfflineUnlessManual(userID string, now int64) {
	if st, ok := s[userID]; !ok || !st.GetManual() {
		s[userID] = &pluginpb.Status{UserId: userID, Status: statusOffline, LastActivityAt: now}
	}
}

// profileImageStore holds the profile images that users set, by user id;
// a user without one gets a generated default.
type profileImageStore map[string][]byte

// get returns a copy of a user's image.
func (s profileImageStore) get(userID string) ([]byte, bool) {
	img, ok := s[userID]
	if !ok {
		return nil, false
	}
	return bytes.Clone(img), true
}

// isSame reports whether img is the user's stored image.
func (s profileImageStore) isSame(userID string, img []byte) bool {
	stored, ok := s[userID]
	return ok && bytes.Equal(stored, img)
}

// put stores a copy of a user's image.
func (s profileImageStore) put(userID string, img []byte) {
	s[userID] = bytes.Clone(img)
}
