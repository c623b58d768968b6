package memory

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

func pref(userID, category, name, value string) *pluginpb.Preference {
	return &pluginpb.Preference{UserId: userID, Category: category, Name: name, Value: value}
}

func TestPreferencesRoundTrip(t *testing.T) {
	b, _ := newTestBackend(t)
	ctx := context.Background()
	alice, bob := newID(), newID()
	saved := []*pluginpb.Preference{
		pref(alice, "display_settings", "use_military_time", "true"),
		pref(alice, "theme", "", `{"sidebarBg":"#145dbf"}`),
		pref(alice, "display_settings", "channel_display_mode", "full"),
	}
	if _, err := b.UpdatePreferencesForUser(ctx, &pluginpb.UpdatePreferencesForUserRequest{UserId: alice, Preferences: saved}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.UpdatePreferencesForUser(ctx, &pluginpb.UpdatePreferencesForUserRequest{UserId: bob, Preferences: []*pluginpb.Preference{pref(bob, "display_settings", "use_military_time", "false")}}); err != nil {
		t.Fatal(err)
	}
	// Replacing a value keeps one row.
	if _, err := b.UpdatePreferencesForUser(ctx, &pluginpb.UpdatePreferencesForUserRequest{UserId: alice, Preferences: []*pluginpb.Preference{pref(alice, "display_settings", "use_military_time", "false")}}); err != nil {
		t.Fatal(err)
	}
	all, err := b.GetPreferencesForUser(ctx, &pluginpb.GetPreferencesForUserRequest{UserId: alice})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range all.GetPreferences() {
		got = append(got, p.GetCategory()+"/"+p.GetName()+"="+p.GetValue())
	}
	want := `[display_settings/channel_display_mode=full display_settings/use_military_time=false theme/={"sidebarBg":"#145dbf"}]`
	if fmt.Sprint(got) != want {
		t.Errorf("GetPreferencesForUser(alice) = %v; want %v", got, want)
	}
	one, err := b.GetPreferenceForUser(ctx, &pluginpb.GetPreferenceForUserRequest{UserId: bob, Category: "display_settings", Name: "use_military_time"})
	if err != nil || !proto.Equal(one.GetPreference(), pref(bob, "display_settings", "use_military_time", "false")) {
		t.Errorf("GetPreferenceForUser(bob) = %v, %v", one.GetPreference(), err)
	}
	del := []*pluginpb.Preference{pref(alice, "theme", "", ""), pref(alice, "never", "saved", "")}
	if _, err := b.DeletePreferencesForUser(ctx, &pluginpb.DeletePreferencesForUserRequest{UserId: alice, Preferences: del}); err != nil {
		t.Fatal(err)
	}
	_, err = b.GetPreferenceForUser(ctx, &pluginpb.GetPreferenceForUserRequest{UserId: alice, Category: "theme"})
	wantAppErrorID(t, "GetPreferenceForUser(deleted)", err, "app.preference.get.app_error", http.StatusBadRequest)
	if all, _ := b.GetPreferencesForUser(ctx, &pluginpb.GetPreferencesForUserRequest{UserId: newID()}); len(all.GetPreferences()) != 0 {
		t.Errorf("a user without preferences has %d", len(all.GetPreferences()))
	}
}

func TestPreferencesRejected(t *testing.T) {
	alice, bob := newID(), newID()
	tests := []struct {
		name   string
		userID string
		prefs  []*pluginpb.Preference
		status int
	}{
		{"malformed user id", "nope", []*pluginpb.Preference{pref("nope", "c", "n", "v")}, http.StatusBadRequest},
		{"another user's preference", alice, []*pluginpb.Preference{pref(bob, "c", "n", "v")}, http.StatusForbidden},
		{"empty category", alice, []*pluginpb.Preference{pref(alice, "", "n", "v")}, http.StatusBadRequest},
		{"category over 32", alice, []*pluginpb.Preference{pref(alice, strings.Repeat("c", 33), "n", "v")}, http.StatusBadRequest},
		{"name over 32", alice, []*pluginpb.Preference{pref(alice, "c", strings.Repeat("n", 33), "v")}, http.StatusBadRequest},
		{"value over 20000", alice, []*pluginpb.Preference{pref(alice, "c", "n", strings.Repeat("v", 20001))}, http.StatusBadRequest},
		{"visible DMs over 40", alice, []*pluginpb.Preference{pref(alice, "sidebar_settings", "limit_visible_dms_gms", "41")}, http.StatusBadRequest},
		{"one bad among good", alice, []*pluginpb.Preference{pref(alice, "c", "ok", "v"), pref(alice, "", "n", "v")}, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := newTestBackend(t)
			_, err := b.UpdatePreferencesForUser(context.Background(), &pluginpb.UpdatePreferencesForUserRequest{UserId: tt.userID, Preferences: tt.prefs})
			wantAppError(t, "UpdatePreferencesForUser", err, tt.status)
			if n := len(b.preferences); n != 0 {
				t.Errorf("%d preferences stored after a rejected update; want none (all or nothing)", n)
			}
		})
	}
	b, _ := newTestBackend(t)
	_, err := b.DeletePreferencesForUser(context.Background(), &pluginpb.DeletePreferencesForUserRequest{UserId: alice, Preferences: []*pluginpb.Preference{pref(bob, "c", "n", "")}})
	wantAppError(t, "DeletePreferencesForUser(another user's)", err, http.StatusForbidden)
}

// TestPreferencesFollowTheAppLayer checks the preference calls against
// App.UpdatePreferences, App.DeletePreferences and
// App.GetPreferenceByCategoryAndNameForUser
// (server/channels/app/preference.go@0a29d83483cde174fa02274a04538625236219da),
// SqlPreferenceStore.Save
// (server/channels/store/sqlstore/preference_store.go@ab105ae951db1e441d6e75330deb1d47f1010e4e)
// and model.Preference.PreUpdate and IsValid
// (server/public/model/preference.go@7dabd8f914ecf54ed93f20d5a46ee7d444fdb2e6).
func TestPreferencesFollowTheAppLayer(t *testing.T) {
	ctx := context.Background()
	alice, bob := newID(), newID()
	tests := []struct {
		name   string
		userID string
		prefs  []*pluginpb.Preference
		id     string // the error id; "" for none
		stored string // the value stored for the first preference, when id is ""
	}{
		{"no preferences and a malformed user id", "nope", nil, "", ""},
		{"another user's preference before a bad one", alice,
			[]*pluginpb.Preference{pref(alice, "", "n", "v"), pref(bob, "c", "n", "v")},
			"api.preference.update_preferences.set.app_error", ""},
		{"category of 32 bytes but more runes", alice,
			[]*pluginpb.Preference{pref(alice, strings.Repeat("é", 17), "n", "v")},
			"model.preference.is_valid.category.app_error", ""},
		{"theme colours checked", alice,
			[]*pluginpb.Preference{pref(alice, "theme", "", `{"sidebarBg":"red","type":"Custom","linkColor":"#ABC"}`)},
			"", `{"linkColor":"#ABC","sidebarBg":"#ffffff","type":"Custom"}`},
		{"a theme that is no object becomes null", alice,
			[]*pluginpb.Preference{pref(alice, "theme", "", "[1]")}, "", "null"},
		{"visible DMs in range", alice,
			[]*pluginpb.Preference{pref(alice, "sidebar_settings", "limit_visible_dms_gms", "40")}, "", "40"},
		{"visible DMs not a number", alice,
			[]*pluginpb.Preference{pref(alice, "sidebar_settings", "limit_visible_dms_gms", "all")},
			"model.preference.is_valid.limit_visible_dms_gms.app_error", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := newTestBackend(t)
			_, err := b.UpdatePreferencesForUser(ctx, &pluginpb.UpdatePreferencesForUserRequest{UserId: tt.userID, Preferences: tt.prefs})
			if tt.id != "" {
				status := http.StatusBadRequest
				if strings.HasPrefix(tt.id, "api.preference.") {
					status = http.StatusForbidden
				}
				wantAppErrorID(t, "UpdatePreferencesForUser", err, tt.id, status)
				return
			}
			if err != nil {
				t.Fatalf("UpdatePreferencesForUser = %v; want no error", err)
			}
			if len(tt.prefs) == 0 {
				return
			}
			p := tt.prefs[0]
			got, err := b.GetPreferenceForUser(ctx, &pluginpb.GetPreferenceForUserRequest{UserId: p.GetUserId(), Category: p.GetCategory(), Name: p.GetName()})
			if err != nil || got.GetPreference().GetValue() != tt.stored {
				t.Errorf("stored value = %q, %v; want %q", got.GetPreference().GetValue(), err, tt.stored)
			}
		})
	}
	b, _ := newTestBackend(t)
	if all, err := b.GetPreferencesForUser(ctx, &pluginpb.GetPreferencesForUserRequest{UserId: "nope"}); err != nil || len(all.GetPreferences()) != 0 {
		t.Errorf("GetPreferencesForUser(nope) = %v, %v; want none, no error", all, err)
	}
	_, err := b.GetPreferenceForUser(ctx, &pluginpb.GetPreferenceForUserRequest{UserId: "nope", Category: "c", Name: "n"})
	wantAppErrorID(t, "GetPreferenceForUser(nope)", err, "app.preference.get.app_error", http.StatusBadRequest)
	if _, err := b.DeletePreferencesForUser(ctx, &pluginpb.DeletePreferencesForUserRequest{UserId: "nope", Preferences: []*pluginpb.Preference{pref("nope", "", "", "")}}); err != nil {
		t.Errorf("DeletePreferencesForUser(nope) = %v; want no error: the store's Delete validates nothing", err)
	}
}
