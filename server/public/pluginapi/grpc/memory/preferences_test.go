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
	wantAppError(t, "GetPreferenceForUser(deleted)", err, http.StatusNotFound)
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
		{"malformed user id", "nope", nil, http.StatusBadRequest},
		{"another user's preference", alice, []*pluginpb.Preference{pref(bob, "c", "n", "v")}, http.StatusForbidden},
		{"empty category", alice, []*pluginpb.Preference{pref(alice, "", "n", "v")}, http.StatusBadRequest},
		{"category over 32", alice, []*pluginpb.Preference{pref(alice, strings.Repeat("c", 33), "n", "v")}, http.StatusBadRequest},
		{"name over 32", alice, []*pluginpb.Preference{pref(alice, "c", strings.Repeat("n", 33), "v")}, http.StatusBadRequest},
		{"value over 20000", alice, []*pluginpb.Preference{pref(alice, "c", "n", strings.Repeat("v", 20001))}, http.StatusBadRequest},
		{"theme not an object", alice, []*pluginpb.Preference{pref(alice, "theme", "", "[1]")}, http.StatusBadRequest},
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
