package memory

// This file holds the handlers of the preferences domain;
// preferences_store.go holds its state.

import (
	"context"
	"encoding/json"
	"net/http"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// Limits of model.Preference.IsValid.
const (
	preferenceCategoryMaxRunes = 32
	preferenceNameMaxRunes     = 32
	preferenceValueMaxRunes    = 20000
	// preferenceCategoryTheme holds JSON objects only.
	preferenceCategoryTheme = "theme"
)

func invalidPreference(field, message string) *apperror.Error {
	e := apperror.New("model.preference.is_valid."+field+".app_error", message, "", http.StatusBadRequest)
	e.Where = "Preference.IsValid"
	return e
}

// validatePreference checks p against model.Preference.IsValid.
func validatePreference(p *pluginpb.Preference) error {
	if !isValidID(p.GetUserId()) {
		return invalidPreference("id", "Invalid user id.")
	}
	if n := utf8.RuneCountInString(p.GetCategory()); n == 0 || n > preferenceCategoryMaxRunes {
		return invalidPreference("category", "Invalid category: 1 to 32 characters.")
	}
	if utf8.RuneCountInString(p.GetName()) > preferenceNameMaxRunes {
		return invalidPreference("name", "Invalid name: at most 32 characters.")
	}
	if utf8.RuneCountInString(p.GetValue()) > preferenceValueMaxRunes {
		return invalidPreference("value", "Invalid value: at most 20,000 characters.")
	}
	if p.GetCategory() == preferenceCategoryTheme {
		var theme map[string]any
		if err := json.Unmarshal([]byte(p.GetValue()), &theme); err != nil {
			return invalidPreference("theme", "Invalid theme: the value must be a JSON object.")
		}
	}
	return nil
}

// checkOwnPreferences rejects preferences of another user than userID, as
// the Mattermost API does, and validates the rest.
func checkOwnPreferences(userID string, prefs []*pluginpb.Preference, deleting bool) error {
	if !isValidID(userID) {
		return invalidParam("user_id")
	}
	for _, p := range prefs {
		if p.GetUserId() != userID {
			id := "api.preference.update_preferences.set_details.app_error"
			if deleting {
				id = "api.preference.delete_preferences.delete.app_error"
			}
			return apperror.New(id, "Unable to change the preferences of another user.",
				"user_id="+userID+" preference.user_id="+p.GetUserId(), http.StatusForbidden)
		}
		if deleting {
			continue
		}
		if err := validatePreference(p); err != nil {
			return err
		}
	}
	return nil
}

// GetPreferenceForUser returns one preference of a user.
func (b *Backend) GetPreferenceForUser(_ context.Context, req *pluginpb.GetPreferenceForUserRequest) (*pluginpb.GetPreferenceForUserResponse, error) {
	if !isValidID(req.GetUserId()) {
		return nil, invalidParam("user_id")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	p, ok := b.preferences.get(req.GetUserId(), req.GetCategory(), req.GetName())
	if !ok {
		return nil, apperror.New("app.preference.get.app_error", "Unable to find the preference.",
			"category="+req.GetCategory()+" name="+req.GetName(), http.StatusNotFound)
	}
	return &pluginpb.GetPreferenceForUserResponse{Preference: p}, nil
}

// GetPreferencesForUser returns every preference of a user.
func (b *Backend) GetPreferencesForUser(_ context.Context, req *pluginpb.GetPreferencesForUserRequest) (*pluginpb.GetPreferencesForUserResponse, error) {
	if !isValidID(req.GetUserId()) {
		return nil, invalidParam("user_id")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return &pluginpb.GetPreferencesForUserResponse{Preferences: b.preferences.ofUser(req.GetUserId())}, nil
}

// UpdatePreferencesForUser saves preferences of a user, all or none.
// PreferencesHaveChanged runs after, with the saved preferences.
func (b *Backend) UpdatePreferencesForUser(ctx context.Context, req *pluginpb.UpdatePreferencesForUserRequest) (*pluginpb.UpdatePreferencesForUserResponse, error) {
	if err := checkOwnPreferences(req.GetUserId(), req.GetPreferences(), false); err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.preferences.put(req.GetPreferences())
	b.mu.Unlock()
	saved := make([]*pluginpb.Preference, 0, len(req.GetPreferences()))
	for _, p := range req.GetPreferences() {
		saved = append(saved, proto.Clone(p).(*pluginpb.Preference))
	}
	if len(saved) > 0 {
		b.hooks.PreferencesHaveChanged(ctx, saved)
	}
	return &pluginpb.UpdatePreferencesForUserResponse{}, nil
}

// DeletePreferencesForUser deletes preferences of a user by category and
// name; missing ones are skipped.
func (b *Backend) DeletePreferencesForUser(_ context.Context, req *pluginpb.DeletePreferencesForUserRequest) (*pluginpb.DeletePreferencesForUserResponse, error) {
	if err := checkOwnPreferences(req.GetUserId(), req.GetPreferences(), true); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.preferences.remove(req.GetPreferences())
	return &pluginpb.DeletePreferencesForUserResponse{}, nil
}
