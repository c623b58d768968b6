package memory

import (
	"cmp"
	"slices"

	"google.golang.org/protobuf/proto"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// This file holds the state of the preferences domain. Its methods do not
// lock: the Backend's mutex guards it.

// preferenceKey identifies a preference, as the primary key of
// Mattermost's Preferences table does.
type preferenceKey struct {
	userID, category, name string
}

// preferenceStore holds every user's preferences.
type preferenceStore map[preferenceKey]*pluginpb.Preference

func keyOf(p *pluginpb.Preference) preferenceKey {
	return preferenceKey{p.GetUserId(), p.GetCategory(), p.GetName()}
}

// get returns a copy of one preference.
func (s preferenceStore) get(userID, category, name string) (*pluginpb.Preference, bool) {
	p, ok := s[preferenceKey{userID, category, name}]
	if !ok {
		return nil, false
	}
	return proto.Clone(p).(*pluginpb.Preference), true
}

// ofUser returns copies of a user's preferences, by category and name.
func (s preferenceStore) ofUser(userID string) []*pluginpb.Preference {
	var out []*pluginpb.Preference
	for k, p := range s {
		if k.userID == userID {
			out = append(out, proto.Clone(p).(*pluginpb.Preference))
		}
	}
	slices.SortFunc(out, func(a, b *pluginpb.Preference) int {
		return cmp.Or(cmp.Compare(a.GetCategory(), b.GetCategory()), cmp.Compare(a.GetName(), b.GetName()))
	})
	return out
}

// put stores copies of prefs, replacing those with the same keys.
func (s preferenceStore) put(prefs []*pluginpb.Preference) {
	for _, p := range prefs {
		s[keyOf(p)] = proto.Clone(p).(*pluginpb.Preference)
	}
}

// remove deletes the preferences with the keys of prefs.
func (s preferenceStore) remove(prefs []*pluginpb.Preference) {
	for _, p := range prefs {
		delete(s, keyOf(p))
	}
}
