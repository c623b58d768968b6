package memory

// This file holds the handlers of the preferences domain;
// preferences_store.go holds its state.

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// Limits of model.Preference.IsValid
// (server/public/model/preference.go@7dabd8f9).
const (
	preferenceCategoryMaxBytes = 32
	preferenceNameMaxBytes     = 32
	preferenceValueMaxRunes    = 20000
	// preferenceCategoryTheme holds JSON objects of strings.
	preferenceCategoryTheme = "theme"
	// The sidebar setting whose value is a number of channels, 1 to 40.
	preferenceCategorySidebarSettings = "sidebar_settings"
	preferenceLimitVisibleDmsGms      = "limit_visible_dms_gms"
	preferenceMaxVisibleDmsGms        = 40
)

// themeColor is the colour a theme value must be, as model.Preference.PreUpdate
// checks it; other values become white.
var themeColor = regexp.MustCompile(`^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$`)

func invalidPreference(field, message string) *apperror.Error {
	e := apperror.New("model.preference.is_valid."+field+".app_error", message, "", http.StatusBadRequest)
	e.Where = "Preference.IsValid"
	return e
}

// normalizePreference applies model.Preference.PreUpdate: a theme's value
// is decoded as a map of strings, every value but image, type and
// codeTheme that is not a #rgb or #rrggbb colour becomes "#ffffff", and
// the map is encoded again, keys sorted. A value that does not decode
// becomes "null", as PreUpdate encodes the nil map.
func normalizePreference(p *pluginpb.Preference) {
	if p.GetCategory() != preferenceCategoryTheme {
		return
	}
	var props map[string]string
	_ = json.NewDecoder(strings.NewReader(p.GetValue())).Decode(&props) // PreUpdate ignores the error too
	for name, value := range props {
		if name == "image" || name == "type" || name == "codeTheme" {
			continue
		}
		if !themeColor.MatchString(value) {
			props[name] = "#ffffff"
		}
	}
	if b, err := json.Marshal(props); err == nil {
		p.Value = string(b)
	}
}

// validatePreference checks p against model.Preference.IsValid: lengths
// of the category and name in bytes, of the value in runes.
func validatePreference(p *pluginpb.Preference) error {
	if !isValidID(p.GetUserId()) {
		return invalidPreference("id", "Invalid user id.")
	}
	if n := len(p.GetCategory()); n == 0 || n > preferenceCategoryMaxBytes {
		return invalidPreference("category", "Invalid category: 1 to 32 bytes.")
	}
	if len(p.GetName()) > preferenceNameMaxBytes {
		return invalidPreference("name", "Invalid name: at most 32 bytes.")
	}
	if utf8.RuneCountInString(p.GetValue()) > preferenceValueMaxRunes {
		return invalidPreference("value", "Invalid value: at most 20,000 characters.")
	}
	if p.GetCategory() == preferenceCategoryTheme {
		var theme map[string]string
		if err := json.NewDecoder(strings.NewReader(p.GetValue())).Decode(&theme); err != nil {
			return invalidPreference("theme", "Invalid theme: the value must be a JSON object of strings.")
		}
	}
	if p.GetCategory() == preferenceCategorySidebarSettings && p.GetName() == preferenceLimitVisibleDmsGms {
		if n, err := strconv.Atoi(p.GetValue()); err != nil || n < 1 || n > preferenceMaxVisibleDmsGms {
			return invalidPreference("limit_visible_dms_gms", "Invalid number of visible direct and group messages: 1 to 40.")
		}
	}
	return nil
}

// checkOwnPreferences rejects preferences of another user than userID,
// as App.UpdatePreferences and App.DeletePreferences do before they touch
// the store (server/channels/app/preference.go@0a29d834). There is no
// check of userID itself.
func checkOwnPreferences(userID string, prefs []*pluginpb.Preference, deleting bool) error {
	for _, p := range prefs {
		if p.GetUserId() != userID {
			id := "api.preference.update_preferences.set.app_error"
			if deleting {
				id = "api.preference.delete_preferences.delete.app_error"
			}
			return apperror.New(id, "Unable to change the preferences of another user.",
				"user_id="+userID+" preference.user_id="+p.GetUserId(), http.StatusForbidden)
		}
	}
	return nil
}

// GetPreferenceForUser returns one preference of a user. As
// App.GetPreferenceByCategoryAndNameForUser, a miss, whatever the ids, is
// app.preference.get.app_error with status 400.
func (b *Backend) GetPreferenceForUser(_ context.Context, req *pluginpb.GetPreferenceForUserRequest) (*pluginpb.GetPreferenceForUserResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	p, ok := b.preferences.get(req.GetUserId(), req.GetCategory(), req.GetName())
	if !ok {
		return nil, apperror.New("app.preference.get.app_error", "Unable to find the preference.",
			"category="+req.GetCategory()+" name="+req.GetName(), http.StatusBadRequest)
	}
	return &pluginpb.GetPreferenceForUserResponse{Preference: p}, nil
}

// GetPreferencesForUser returns every preference of a user; any id that
// has none, malformed ones included, has an empty list, as the store's
// GetAll answers.
func (b *Backend) GetPreferencesForUser(_ context.Context, req *pluginpb.GetPreferencesForUserRequest) (*pluginpb.GetPreferencesForUserResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return &pluginpb.GetPreferencesForUserResponse{Preferences: b.preferences.ofUser(req.GetUserId())}, nil
}

// UpdatePreferencesForUser saves preferences of a user, all or none, as
// App.UpdatePreferences and SqlPreferenceStore.Save do: every preference
// must be the user's, then each is normalized (PreUpdate) and validated
// (IsValid) in turn. Then the Favorites sidebar categories follow the
// favorite_channel preferences, as [Backend.updateSidebarByPreferences]
// describes: a favorite channel that does not exist is
// api.preference.update_preferences.update_sidebar.app_error (500), with
// the preferences saved. PreferencesHaveChanged runs after, with the saved
// preferences.
func (b *Backend) UpdatePreferencesForUser(ctx context.Context, req *pluginpb.UpdatePreferencesForUserRequest) (*pluginpb.UpdatePreferencesForUserResponse, error) {
	if err := checkOwnPreferences(req.GetUserId(), req.GetPreferences(), false); err != nil {
		return nil, err
	}
	saved := make([]*pluginpb.Preference, 0, len(req.GetPreferences()))
	for _, in := range req.GetPreferences() {
		p := proto.Clone(in).(*pluginpb.Preference)
		normalizePreference(p)
		if err := validatePreference(p); err != nil {
			return nil, err
		}
		saved = append(saved, p)
	}
	b.mu.Lock()
	b.preferences.put(saved)
	err := b.updateSidebarByPreferences(saved)
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if len(saved) > 0 {
		b.hooks.PreferencesHaveChanged(ctx, saved)
	}
	return &pluginpb.UpdatePreferencesForUserResponse{}, nil
}

// DeletePreferencesForUser deletes preferences of a user by category and
// name; missing ones are skipped, and nothing is validated, as
// SqlPreferenceStore.Delete does not. Then each favorite_channel
// preference takes its channel out of the user's Favorites sidebar
// categories ([Backend.deleteSidebarByPreferences]).
func (b *Backend) DeletePreferencesForUser(_ context.Context, req *pluginpb.DeletePreferencesForUserRequest) (*pluginpb.DeletePreferencesForUserResponse, error) {
	if err := checkOwnPreferences(req.GetUserId(), req.GetPreferences(), true); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.preferences.remove(req.GetPreferences())
	b.deleteSidebarByPreferences(req.GetPreferences())
	return &pluginpb.DeletePreferencesForUserResponse{}, nil
}
